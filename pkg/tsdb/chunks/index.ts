export { ChunkSegmentWriter } from './segment-writer.js';
export type { ChunkSegmentWriterOptions } from './segment-writer.js';
export { ChunkSegmentReader } from './segment-reader.js';
export type { ChunkSegment, ChunkRecord, ChunkSegmentFileOptions } from './segment-reader.js';
export { ChunkSegmentError, CHUNK_SEGMENT_CORRUPT } from './chunk-segment-error.js';
export {
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  SEGMENT_HEADER_SIZE,
  DEFAULT_SEGMENT_SIZE,
  MAX_CHUNK_LEN_FIELD_SIZE,
  chunkRef,
  chunkRefSegment,
  chunkRefOffset,
  segmentFileName,
} from './segment-format.js';
export { readChunkRecordLength, chunkRecordChecksum } from './chunk-record.js';
