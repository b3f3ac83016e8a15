import { CounterResetHint, FloatHistogram } from '../histogram/index.js';
import { BitReader, chunkCorrupt } from './bit-reader.js';
import { floatBits, STALE_NAN_HI, STALE_NAN_LO } from './float-bits.js';
import { COUNTER_RESET_HEADER_MASK, copySpans, countSpans, HISTOGRAM_HEADER_SIZE, hintFor, isKnownSchema, readHistogramLayout, type HistogramLayout } from './histogram-layout.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';

const { f64, u32, HI, LO } = floatBits;

/**
 * HistogramIterator decodes an integer native histogram chunk (encoding 2, chunks.md §4), the
 * equivalent of Prometheus's histogramIterator. next() returns ValueType.Histogram; the samples are
 * read with atFloatHistogram, which converts the integer counts to floats (bucket counts absolute,
 * not deltas). A stale marker is a histogram whose sum has the StaleNaN bit pattern and which has
 * no buckets. Reusable through reset(bytes); nothing is allocated per sample once the bucket arrays
 * have grown to the chunk's layout.
 */
export class HistogramIterator implements SampleIterator {
  readonly #r = new BitReader();
  #num = 0;
  #read = 0;
  #header = 0;
  #done = false;
  #err: Error | null = null;
  readonly #layout: HistogramLayout = { schema: 0, zeroThreshold: 0, positiveSpans: [], negativeSpans: [], customValues: [] };
  #np = 0;
  #nn = 0;
  #t = 0;
  #tDelta = 0;
  #cnt = 0;
  #cntDelta = 0;
  #zCnt = 0;
  #zCntDelta = 0;
  // Sum as XOR state (slot 0).
  readonly #sumBits = new Uint32Array(2);
  readonly #sumLt = new Uint8Array(2);
  // Per bucket: the in-histogram delta to the previous bucket, and its change since the last sample.
  #buckets = new Float64Array(16);
  #bucketDeltas = new Float64Array(16);
  readonly #own = new FloatHistogram();

  /** reset re-points the iterator at the start of the encoded chunk `data` (copied). */
  reset(data: Uint8Array): this {
    this.#read = 0;
    this.#done = false;
    this.#err = null;
    this.#t = this.#tDelta = this.#cnt = this.#cntDelta = this.#zCnt = this.#zCntDelta = 0;
    this.#sumBits.fill(0);
    this.#sumLt.fill(0);
    if (data.length < HISTOGRAM_HEADER_SIZE) {
      this.#num = 0;
      this.#err = chunkCorrupt('histogram', `${data.length} bytes, shorter than the ${HISTOGRAM_HEADER_SIZE}-byte header`);
      this.#done = true;
      return this;
    }
    this.#num = (data[0]! << 8) | data[1]!;
    this.#header = data[2]! & COUNTER_RESET_HEADER_MASK;
    this.#r.reset(data, HISTOGRAM_HEADER_SIZE);
    return this;
  }

  /** counterResetHeader is the chunk's counter reset header (CounterResetHeader values). */
  counterResetHeader(): number {
    return this.#header;
  }

  #fail(msg: string): ValueType {
    this.#err = chunkCorrupt('histogram', msg);
    this.#done = true;
    return ValueType.None;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#read >= this.#num) {
      this.#done = true;
      return ValueType.None;
    }
    const r = this.#r;
    if (this.#read === 0) {
      try {
        readHistogramLayout(r, this.#layout);
      } catch (err) {
        return this.#fail(`layout: ${(err as Error).message}`);
      }
      if (r.overrun) return this.#fail(`layout reads beyond the ${r.byteLength}-byte chunk`);
      if (!isKnownSchema(this.#layout.schema)) return this.#fail(`unknown histogram schema ${this.#layout.schema}`);
      this.#np = countSpans(this.#layout.positiveSpans);
      this.#nn = countSpans(this.#layout.negativeSpans);
      const nb = this.#np + this.#nn;
      if (nb > r.byteLength * 8) return this.#fail(`${nb} buckets cannot fit in ${r.byteLength} bytes`);
      if (this.#buckets.length < nb) {
        this.#buckets = new Float64Array(nb * 2);
        this.#bucketDeltas = new Float64Array(nb * 2);
      }
      this.#t = r.readVarbitInt();
      this.#cnt = r.readVarbitUint();
      this.#zCnt = r.readVarbitUint();
      r.readBits64(64);
      this.#sumBits[0] = r.hi;
      this.#sumBits[1] = r.lo;
      const b = this.#buckets;
      for (let i = 0; i < nb; i++) b[i] = r.readVarbitInt();
      this.#bucketDeltas.fill(0, 0, nb);
    } else {
      this.#tDelta += r.readVarbitInt();
      this.#t += this.#tDelta;
      this.#cntDelta += r.readVarbitInt();
      this.#cnt += this.#cntDelta;
      this.#zCntDelta += r.readVarbitInt();
      this.#zCnt += this.#zCntDelta;
      r.readXor(this.#sumBits, this.#sumLt, 0);
      if (!this.#isStale()) {
        const b = this.#buckets;
        const d = this.#bucketDeltas;
        const nb = this.#np + this.#nn;
        for (let i = 0; i < nb; i++) {
          const di = d[i]! + r.readVarbitInt();
          d[i] = di;
          b[i] = b[i]! + di;
        }
      }
    }
    if (r.overrun) return this.#fail(`sample ${this.#read} of ${this.#num} reads beyond the ${r.byteLength}-byte chunk`);
    this.#read++;
    return ValueType.Histogram;
  }

  #isStale(): boolean {
    return this.#sumBits[0] === STALE_NAN_HI && this.#sumBits[1] === STALE_NAN_LO;
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    while (this.#read === 0 || this.#t < t) {
      if (this.next() === ValueType.None) return ValueType.None;
    }
    return ValueType.Histogram;
  }

  atT(): number {
    return this.#t;
  }

  atF(): number {
    throw new TypeError('HistogramIterator.atF: histogram chunks hold histogram samples only');
  }

  /**
   * atCount/atZeroCount return the current sample's integer counts without filling a histogram.
   */
  atCount(): number {
    return this.#cnt;
  }

  atZeroCount(): number {
    return this.#zCnt;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    if (this.#read === 0 || this.#err !== null) throw new TypeError('HistogramIterator.atFloatHistogram: no current sample');
    const h = into ?? this.#own;
    u32[HI] = this.#sumBits[0]!;
    u32[LO] = this.#sumBits[1]!;
    h.sum = f64[0]!;
    if (this.#isStale()) {
      fillStale(h);
      return h;
    }
    const l = this.#layout;
    h.counterResetHint = hintFor(this.#header, this.#read);
    h.schema = l.schema;
    h.zeroThreshold = l.zeroThreshold;
    h.count = this.#cnt;
    h.zeroCount = this.#zCnt;
    copySpans(h.positiveSpans, l.positiveSpans);
    copySpans(h.negativeSpans, l.negativeSpans);
    const b = this.#buckets;
    const pb = h.positiveBuckets;
    let cur = 0;
    for (let i = 0; i < this.#np; i++) {
      cur += b[i]!;
      pb[i] = cur;
    }
    pb.length = this.#np;
    const nb = h.negativeBuckets;
    cur = 0;
    for (let i = 0; i < this.#nn; i++) {
      cur += b[this.#np + i]!;
      nb[i] = cur;
    }
    nb.length = this.#nn;
    copyValues(h.customValues, l.customValues);
    return h;
  }

  err(): Error | null {
    return this.#err;
  }
}

/** fillStale turns h into a stale marker: only the sum (already set) carries information. */
export function fillStale(h: FloatHistogram): void {
  h.counterResetHint = CounterResetHint.Unknown;
  h.schema = 0;
  h.zeroThreshold = 0;
  h.count = 0;
  h.zeroCount = 0;
  h.positiveSpans.length = 0;
  h.negativeSpans.length = 0;
  h.positiveBuckets.length = 0;
  h.negativeBuckets.length = 0;
  h.customValues.length = 0;
}

/** copyValues overwrites `into` with `from`. */
export function copyValues(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) into[i] = from[i]!;
  into.length = from.length;
}
