export type { ByteSource } from './byte-source.js';
export { BufferByteSource, FileByteSource } from './byte-source.js';
export type { ByteSink } from './byte-sink.js';
export { MemoryByteSink, FileByteSink } from './byte-sink.js';
export type { Toc, IndexChunkMeta } from './format.js';
export { MagicIndex, IndexFormatV2, HeaderLen, TocLen, MaxIndexSize } from './format.js';
export { IndexCorruptError, IndexCorruptErrorCode } from './index-corrupt-error.js';
export { IndexWriteErrorCode } from './index-sections-writer.js';
export { IndexWriter } from './index-writer.js';
export { StreamingIndexWriter } from './streaming-index-writer.js';
export { decodeSeriesBody } from './series-entry.js';
export type { StreamingIndexWriterOptions } from './streaming-index-writer.js';
export { IndexReader } from './index-reader.js';
export type { Postings } from './postings.js';
export {
  ListPostings,
  BigEndianPostings,
  ErrPostings,
  emptyPostings,
  isEmptyPostings,
  intersect,
  merge,
  without,
  expandPostings,
} from './postings.js';
export type { PostingsSource } from './postings-for-matchers.js';
export { postingsForMatchers, literalPrefix } from './postings-for-matchers.js';
