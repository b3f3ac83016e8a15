import { TesseraError } from '../errors/index.js';
import { Encoding, type Chunk } from './chunk.js';
import { OpaqueChunk } from './opaque-chunk.js';
import { XorChunk } from './xor-chunk.js';

/**
 * chunkFromData wraps encoded chunk bytes (without copying) in a Chunk for the given TSDB encoding
 * byte: XOR chunks are fully decodable, Histogram and FloatHistogram chunks are carried opaquely.
 * Other encodings (XOR2 and the *_ST encodings, Thanos aggregates 0xFF) throw a TesseraError with
 * code TESSERA_CHUNK_UNSUPPORTED.
 */
export function chunkFromData(encoding: number, data: Uint8Array): Chunk {
  switch (encoding) {
    case Encoding.XOR:
      return XorChunk.fromBytes(data);
    case Encoding.Histogram:
    case Encoding.FloatHistogram:
      return new OpaqueChunk(encoding, data);
    default:
      throw new TesseraError('TESSERA_CHUNK_UNSUPPORTED', `wrap chunk: unsupported chunk encoding ${encoding}`);
  }
}
