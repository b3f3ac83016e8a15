import { TesseraError } from '../errors/index.js';
import { findAggrSection } from './aggr-layout.js';
import { AggrType } from './aggr-type.js';
import { Encoding, type Chunk } from './chunk.js';
import { ErrorIterator } from './error-iterator.js';
import type { SampleIterator } from './sample-iterator.js';

/**
 * OpaqueChunk carries encoded chunk bytes that are only passed through, never decoded (e.g. an
 * encoding this package does not know). numSamples() reads the BE16 header (for an aggregate
 * chunk, 0xFF, the count sub-chunk's, as Thanos counts it); its iterator yields nothing and reports
 * an error. chunkFromData decodes encodings 1, 2, 3 and 0xFF itself.
 */
export class OpaqueChunk implements Chunk {
  readonly #enc: Encoding;
  readonly #data: Uint8Array;

  constructor(encoding: Encoding, data: Uint8Array) {
    this.#enc = encoding;
    this.#data = data;
  }

  encoding(): Encoding {
    return this.#enc;
  }

  bytes(): Uint8Array {
    return this.#data;
  }

  numSamples(): number {
    let b = this.#data;
    if (this.#enc === Encoding.Aggr) {
      try {
        const s = findAggrSection(b, AggrType.Count);
        if (s === null) return 0;
        b = s.data;
      } catch {
        return 0;
      }
    }
    return b.length < 2 ? 0 : (b[0]! << 8) | b[1]!;
  }

  iterator(_reuse?: SampleIterator): SampleIterator {
    return new ErrorIterator(new TesseraError('TESSERA_CHUNK_UNSUPPORTED', `decode chunk: encoding ${this.#enc} is carried opaquely and cannot be iterated`));
  }
}
