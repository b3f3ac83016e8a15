import { Encoding, type Chunk } from './chunk.js';
import type { SampleIterator } from './sample-iterator.js';
import { TesseraError } from '../errors/index.js';

/** DecodedSamples are decoded float samples (see DecodedFloatChunk) that know whether they still hold them. */
export interface DecodedSamples {
  readonly fts: Float64Array;
  readonly fvs: Float64Array;
  readonly sts: Float64Array;
  /** valid tells whether the arrays still hold these samples. */
  valid(): boolean;
}

/** SampleIteratorSource makes a fresh iterator over a series' samples at any time. */
export interface SampleIteratorSource {
  iterator(): SampleIterator;
}

/**
 * DecodedFloatChunk is a float series' samples already decoded, in [minTime, maxTime]: values
 * with their timestamps in fts/fvs and staleness markers' timestamps in sts (as
 * XorBulkDecoder's sink), so a reader that decodes chunks into arrays (the PromQL engine's
 * loader) can take them without decoding again. The arrays may be views of a buffer the producer
 * reuses: they hold the samples only while valid() is true, so a reader copies them right away
 * and else uses iterator(), which yields the same samples from `source` at any time. It has no
 * bytes: it must never be served or stored. Validity and the iterator come from objects the
 * producer has anyway (no closure per chunk: one is made per series on the querier's hot path).
 */
export class DecodedFloatChunk implements Chunk {
  readonly minTime: number;
  readonly maxTime: number;
  readonly fts: Float64Array;
  readonly fvs: Float64Array;
  readonly sts: Float64Array;
  readonly #samples: DecodedSamples;
  readonly #source: SampleIteratorSource;

  constructor(minTime: number, maxTime: number, samples: DecodedSamples, source: SampleIteratorSource) {
    this.minTime = minTime;
    this.maxTime = maxTime;
    this.fts = samples.fts;
    this.fvs = samples.fvs;
    this.sts = samples.sts;
    this.#samples = samples;
    this.#source = source;
  }

  /** valid tells whether fts/fvs/sts still hold the samples (the producer has not reused them). */
  valid(): boolean {
    return this.#samples.valid();
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

  /** iterator returns a fresh iterator from the source given to the constructor (reuse is ignored). */
  iterator(_reuse?: SampleIterator): SampleIterator {
    return this.#source.iterator();
  }
}
