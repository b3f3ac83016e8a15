export { BlockErrorCode, ThanosBlockError } from './block-errors.js';
export type { Logger, LogFormat, LoggerOptions } from './logger.js';
export { LogLevel, isLogFormat, isLogLevel, newLogfmtLogger, newLogger, nopLogger } from './logger.js';
export {
  DELETION_MARK_FILENAME,
  NO_COMPACT_MARK_FILENAME,
  NO_DOWNSAMPLE_MARK_FILENAME,
  MARKER_VERSION,
  NoCompactReason,
  parseDeletionMark,
  parseNoCompactMark,
  parseNoDownsampleMark,
  formatMarker,
  formatDeletionMark,
  readDeletionMark,
  readNoCompactMark,
  readNoDownsampleMark,
  markForDeletion,
  markForNoCompact,
  markForNoDownsample,
} from './markers.js';
export type { DeletionMark, NoCompactMark, NoDownsampleMark, MarkOptions } from './markers.js';
export { uploadBlock } from './upload.js';
export type { UploadBlockOptions } from './upload.js';
export { downloadBlock } from './download.js';
export type { DownloadBlockOptions } from './download.js';
export { deleteBlock } from './delete.js';
export { sha256File } from './file-hash.js';
export type { HashFunc } from './file-hash.js';
export { parseRelabelConfigs, relabel } from './relabel.js';
export type { RelabelConfig, RelabelAction } from './relabel.js';
export { SyncState } from './meta-filter.js';
export type { MetaFilter, FilterContext } from './meta-filter.js';
export { TimePartitionMetaFilter } from './time-partition-filter.js';
export { LabelShardedMetaFilter, BLOCK_ID_LABEL } from './label-sharded-filter.js';
export { IgnoreDeletionMarkFilter } from './deletion-mark-filter.js';
export { BlockMarksFilter } from './block-marks-filter.js';
export type { BlockMarks } from './block-marks-filter.js';
export type { IgnoreDeletionMarkFilterOptions } from './deletion-mark-filter.js';
export { MetaFetcher } from './meta-fetcher.js';
export type { MetaFetcherOptions, FetchResult } from './meta-fetcher.js';
export { SparseByteSource } from './sparse-byte-source.js';
export type { ByteRegion } from './sparse-byte-source.js';
export { IndexHeader, INDEX_HEADER_FILENAME } from './index-header.js';
export type { IndexHeaderOpenOptions } from './index-header.js';
export { dedupChunkSeriesMerger, replicaChunkSeriesSet } from './dedup-chunk-merger.js';
export type { DedupChunkSeriesMergerOptions } from './dedup-chunk-merger.js';
export { Shipper, isULID } from './shipper.js';
export type { ShipperOptions, SyncResult } from './shipper.js';
export { readShipperState, writeShipperState } from './shipper-state.js';
export type { ShipperState } from './shipper-state.js';
