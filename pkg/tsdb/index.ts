// Public surface of the tsdb package: blocks on disk (index v2, chunk segments, tombstones,
// meta.json) and the block reader/writer. Sub-folders are implementation detail.
export type { ByteSource, ByteSink, Toc, IndexChunkMeta, Postings, PostingsSource, StreamingIndexWriterOptions } from './index/index.js';
export {
  BufferByteSource,
  FileByteSource,
  MemoryByteSink,
  FileByteSink,
  MagicIndex,
  IndexFormatV2,
  HeaderLen,
  TocLen,
  MaxIndexSize,
  IndexCorruptError,
  IndexCorruptErrorCode,
  IndexWriter,
  IndexWriteErrorCode,
  StreamingIndexWriter,
  decodeSeriesBody,
  IndexReader,
  ListPostings,
  BigEndianPostings,
  ErrPostings,
  emptyPostings,
  isEmptyPostings,
  intersect,
  merge,
  without,
  expandPostings,
  postingsForMatchers,
  literalPrefix,
} from './index/index.js';
export type { BlockWriterOptions, WrittenBlock, StreamingBlockWriterOptions, StreamedChunkSeries } from './block/index.js';
export { BlockWriter, StreamingBlockWriter, BlockReader, BlockSeries, BlockSeriesIterator, BlockChunkSeries, BlockDB, openDB, BlockError, BlockErrorCode } from './block/index.js';
export type { ChunkSegmentWriterOptions, ChunkSegment, ChunkRecord, ChunkSegmentFileOptions } from './chunks/index.js';
export {
  ChunkSegmentWriter,
  ChunkSegmentReader,
  ChunkSegmentError,
  CHUNK_SEGMENT_CORRUPT,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  SEGMENT_HEADER_SIZE,
  DEFAULT_SEGMENT_SIZE,
  chunkRef,
  chunkRefSegment,
  readChunkRecordLength,
  chunkRecordChecksum,
  chunkRefOffset,
  segmentFileName,
} from './chunks/index.js';
export type { Interval } from './tombstones/index.js';
export {
  Tombstones,
  TombstonesError,
  encodeTombstones,
  decodeTombstones,
  readTombstones,
  writeTombstones,
  TOMBSTONES_MAGIC,
  TOMBSTONES_VERSION,
  TOMBSTONES_FILENAME,
} from './tombstones/index.js';
export type { BlockMeta, BlockStats, BlockDesc, BlockMetaCompaction, ThanosMeta, ThanosFile } from './meta/index.js';
export {
  parseBlockMeta,
  formatBlockMeta,
  readBlockMeta,
  writeBlockMeta,
  BlockMetaError,
  META_FILENAME,
  META_VERSION,
  isUlid,
  ulidTime,
  ulidBytes,
  ulidFromBytes,
  UlidGenerator,
  newUlid,
} from './meta/index.js';
export { OpenMetricsParser, OpenMetricsParseError, parseOpenMetrics, parseGoFloat, planBackfill, BackfillError } from './openmetrics/index.js';
export type { OpenMetricsBatch, OpenMetricsParserOptions, MetricMetadata, BackfillOptions, BackfillBlock, BackfillSeries } from './openmetrics/index.js';
export { Head, MemSeries, replayWal, Tsdb } from './head/index.js';
export type { HeadOptions, HeadLog, HeadChunkSeries, WalReplayStats, WalDamage, TsdbOptions, TsdbBlock, CompactResult, TsdbStats } from './head/index.js';
export { Wal, checkpoint, readSegmentRecords, decodeRecord, RecordType, listSegments, listCheckpoints, segmentName, checkpointName, WAL_PAGE_SIZE } from './wal/index.js';
export type { WalOptions, CheckpointStats, SegmentDamage, RecordVisitor, Checkpoint } from './wal/index.js';
