import { TesseraError } from '../errors/index.js';
import { AggrChunk } from './aggr-chunk.js';
import { Encoding, type Chunk } from './chunk.js';
import { FloatHistogramChunk } from './float-histogram-chunk.js';
import { HistogramChunk } from './histogram-chunk.js';
import { XorChunk } from './xor-chunk.js';

/**
 * chunkFromData wraps encoded chunk bytes (without copying) in a Chunk for the given TSDB encoding
 * byte: XOR (1), Histogram (2), FloatHistogram (3) and Thanos aggregate (0xFF) chunks, all
 * decodable (wrap OpaqueChunk yourself to pass bytes through without decoding). Other encodings
 * (XOR2 and the *_ST encodings) throw a TesseraError with code TESSERA_CHUNK_UNSUPPORTED.
 */
export function chunkFromData(encoding: number, data: Uint8Array): Chunk {
  switch (encoding) {
    case Encoding.XOR:
      return XorChunk.fromBytes(data);
    case Encoding.Histogram:
      return HistogramChunk.fromBytes(data);
    case Encoding.FloatHistogram:
      return FloatHistogramChunk.fromBytes(data);
    case Encoding.Aggr:
      return AggrChunk.fromBytes(data);
    default:
      throw new TesseraError('TESSERA_CHUNK_UNSUPPORTED', `wrap chunk: unsupported chunk encoding ${encoding}`);
  }
}
