export { FloatHistogram, CounterResetHint } from './float-histogram.js';
export type { Span } from './float-histogram.js';
