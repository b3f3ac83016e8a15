export { PrompbError, PrompbErrorCode } from './errors.js';
export { ResponseType, LabelMatcherType, ChunkEncoding } from './types.js';
export type {
  Label,
  LabelMatcher,
  ReadHints,
  Query,
  ReadRequest,
  Sample,
  TimeSeries,
  QueryResult,
  ReadResponse,
  Chunk,
  ChunkedSeries,
  ChunkedReadResponse,
} from './types.js';
export { ProtoWriter } from './proto-writer.js';
export { encodeReadRequest, decodeReadRequest } from './read-request.js';
export { encodeReadResponse, decodeReadResponse } from './read-response.js';
export { encodeChunkedReadResponse, decodeChunkedReadResponse } from './chunked-read-response.js';
export { snappyBlockEncode, snappyBlockDecode, MaxDecodedSize } from './snappy-block.js';
export { readChunkedFrames, readChunkedReadResponses, DefaultChunkedReadLimit } from './chunked-reader.js';
export type { Frame, ChunkedReaderOptions } from './chunked-reader.js';
export { encodeChunkedFrame } from './chunked-writer.js';
