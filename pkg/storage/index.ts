export type {
  SelectHints,
  LabelHints,
  Warnings,
  LabelResult,
  CallOptions,
  LabelQuerier,
  Querier,
  Queryable,
  ChunkQuerier,
  ChunkQueryable,
  SeriesSet,
  Series,
  ChunkSeriesSet,
  ChunkSeries,
  IncrementalSet,
} from './interface.js';
export { isIncremental } from './incremental.js';
export type { Appender, Appendable, SeriesRef } from './appender.js';
export { AppendErrorCode } from './appender.js';
export { emptySeriesSet, emptyChunkSeriesSet, errSeriesSet, errChunkSeriesSet, ArraySeriesSet } from './series-sets.js';
export { ListSeries, ListSeriesIterator } from './list-series.js';
export { mergeSeriesSets, mergeChunkSeriesSets, ChainSampleIterator } from './merge-series-set.js';
export { mergeLabelResults } from './merge-label-results.js';
export { ChunkListIterator } from './chunk-list-iterator.js';
export { SampleChunkEncoder, DEFAULT_SAMPLES_PER_CHUNK } from './sample-chunk-encoder.js';
export { compactingChunkSeriesMerger, MergedChunkSeries, overlappingChunkGroups, encodeSamples, mergeAggrChunks, MergeChunkErrorCode } from './chunk-series-merge.js';
export type { ChunkSeriesMergeFunc, SourcedChunk, MergeChunkGroup } from './chunk-series-merge.js';
