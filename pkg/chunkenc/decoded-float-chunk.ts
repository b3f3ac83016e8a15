import { Encoding, type Chunk } from './chunk.js';
import type { SampleIterator } from './sample-iterator.js';
import { TesseraError } from '../errors/index.js';

/**
 * DecodedFloatChunk is a float series' samples already decoded, in [minTime, maxTime]: values
 * with their timestamps in fts/fvs and staleness markers' timestamps in sts (as
 * XorBulkDecoder's sink), so a reader that decodes chunks into arrays (the PromQL engine's
 * loader) can take them without decoding again. The arrays may be views of a buffer the producer
 * reuses: they hold the samples only while valid() is true, so a reader copies them right away
 * and else uses iterator(), which yields the same samples from `make` at any time. It has no
 * bytes: it must never be served or stored.
 */
export class DecodedFloatChunk implements Chunk {
  readonly minTime: number;
  readonly maxTime: number;
  readonly fts: Float64Array;
  readonly fvs: Float64Array;
  readonly sts: Float64Array;
  readonly valid: () => boolean;
  readonly #make: () => SampleIterator;

  constructor(minTime: number, maxTime: number, fts: Float64Array, fvs: Float64Array, sts: Float64Array, valid: () => boolean, make: () => SampleIterator) {
    this.minTime = minTime;
    this.maxTime = maxTime;
    this.fts = fts;
    this.fvs = fvs;
    this.sts = sts;
    this.valid = valid;
    this.#make = make;
  }

  encoding(): Encoding {
    return Encoding.None;
  }

  bytes(): Uint8Array {
    throw new TesseraError('TESSERA_NO_CHUNK_BYTES', 'read bytes of a decoded series: it exists only as decoded samples, not as an encoded chunk');
  }

  numSamples(): number {
    return this.fts.length + this.sts.length;
  }

  /** iterator returns a fresh iterator from make (reuse is ignored). */
  iterator(_reuse?: SampleIterator): SampleIterator {
    return this.#make();
  }
}
