export { DedupIterator } from './dedup-iterator.js';
export type { DedupIteratorOptions, SampleIntervalHint } from './dedup-iterator.js';
export { DedupSeriesSet, DedupSeries, compareForDedup } from './dedup-series-set.js';
export type { DedupSeriesSetOptions } from './dedup-series-set.js';
export { BoundedIterator } from './bounded-iterator.js';
export { isCounterHint } from './counter-hint.js';
export { splitOverlapping } from './split-overlapping.js';
export { FollowFirstIterator } from './follow-first-iterator.js';
export type { FollowFirstOptions } from './follow-first-iterator.js';
