export { BlockWriter } from './block-writer.js';
export type { BlockWriterOptions, WrittenBlock } from './block-writer.js';
export { StreamingBlockWriter } from './streaming-block-writer.js';
export type { StreamingBlockWriterOptions, StreamedChunkSeries } from './streaming-block-writer.js';
export { BlockReader } from './block-reader.js';
export { BlockSeries, BlockSeriesIterator, BlockChunkSeries } from './block-series.js';
export { BlockDB, openDB } from './open-db.js';
export { BlockError, BlockErrorCode } from './block-error.js';
