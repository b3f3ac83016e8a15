export { Head } from './head.js';
export type { HeadOptions, HeadLog, HeadChunkSeries } from './head.js';
export { MemSeries } from './mem-series.js';
