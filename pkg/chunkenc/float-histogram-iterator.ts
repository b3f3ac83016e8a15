import { FloatHistogram } from '../histogram/index.js';
import { BitReader, chunkCorrupt } from './bit-reader.js';
import { floatBits, STALE_NAN_HI, STALE_NAN_LO } from './float-bits.js';
import { COUNTER_RESET_HEADER_MASK, copySpans, countSpans, HISTOGRAM_HEADER_SIZE, hintFor, isKnownSchema, readHistogramLayout, type HistogramLayout } from './histogram-layout.js';
import { copyValues, fillStale } from './histogram-iterator.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';

const { f64, u32, HI, LO } = floatBits;

/** Fixed XOR slots before the buckets. */
const COUNT = 0;
const ZERO_COUNT = 1;
const SUM = 2;
const FIXED = 3;

/**
 * FloatHistogramIterator decodes a float native histogram chunk (encoding 3, chunks.md §4), the
 * equivalent of Prometheus's floatHistogramIterator: every field after the first sample is Gorilla
 * XOR-encoded against the previous sample, and values are kept as bit patterns. next() returns
 * ValueType.FloatHistogram. Reusable through reset(bytes); no per-sample allocation.
 */
export class FloatHistogramIterator implements SampleIterator {
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
  // XOR state: slots count, zero count, sum, then positive and negative buckets.
  #bits = new Uint32Array(2 * (FIXED + 16));
  #lt = new Uint8Array(2 * (FIXED + 16));
  readonly #own = new FloatHistogram();

  /** reset re-points the iterator at the start of the encoded chunk `data` (copied). */
  reset(data: Uint8Array): this {
    this.#read = 0;
    this.#done = false;
    this.#err = null;
    this.#t = this.#tDelta = 0;
    if (data.length < HISTOGRAM_HEADER_SIZE) {
      this.#num = 0;
      this.#err = chunkCorrupt('float histogram', `${data.length} bytes, shorter than the ${HISTOGRAM_HEADER_SIZE}-byte header`);
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
    this.#err = chunkCorrupt('float histogram', msg);
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
    let bits = this.#bits;
    let lt = this.#lt;
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
      const slots = FIXED + this.#np + this.#nn;
      if (slots > r.byteLength * 8) return this.#fail(`${slots - FIXED} buckets cannot fit in ${r.byteLength} bytes`);
      if (bits.length < 2 * slots) {
        bits = this.#bits = new Uint32Array(4 * slots);
        lt = this.#lt = new Uint8Array(4 * slots);
      }
      lt.fill(0, 0, 2 * slots);
      this.#t = r.readVarbitInt();
      for (let i = 0; i < slots; i++) {
        r.readBits64(64);
        bits[2 * i] = r.hi;
        bits[2 * i + 1] = r.lo;
      }
    } else {
      this.#tDelta += r.readVarbitInt();
      this.#t += this.#tDelta;
      r.readXor(bits, lt, COUNT);
      r.readXor(bits, lt, ZERO_COUNT);
      r.readXor(bits, lt, SUM);
      if (!this.#isStale()) {
        const slots = FIXED + this.#np + this.#nn;
        for (let i = FIXED; i < slots; i++) r.readXor(bits, lt, i);
      }
    }
    if (r.overrun) return this.#fail(`sample ${this.#read} of ${this.#num} reads beyond the ${r.byteLength}-byte chunk`);
    this.#read++;
    return ValueType.FloatHistogram;
  }

  #isStale(): boolean {
    return this.#bits[2 * SUM] === STALE_NAN_HI && this.#bits[2 * SUM + 1] === STALE_NAN_LO;
  }

  #value(slot: number): number {
    u32[HI] = this.#bits[2 * slot]!;
    u32[LO] = this.#bits[2 * slot + 1]!;
    return f64[0]!;
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    while (this.#read === 0 || this.#t < t) {
      if (this.next() === ValueType.None) return ValueType.None;
    }
    return ValueType.FloatHistogram;
  }

  atT(): number {
    return this.#t;
  }

  atF(): number {
    throw new TypeError('FloatHistogramIterator.atF: float histogram chunks hold histogram samples only');
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    if (this.#read === 0 || this.#err !== null) throw new TypeError('FloatHistogramIterator.atFloatHistogram: no current sample');
    const h = into ?? this.#own;
    h.sum = this.#value(SUM);
    if (this.#isStale()) {
      fillStale(h);
      return h;
    }
    const l = this.#layout;
    h.counterResetHint = hintFor(this.#header, this.#read);
    h.schema = l.schema;
    h.zeroThreshold = l.zeroThreshold;
    h.count = this.#value(COUNT);
    h.zeroCount = this.#value(ZERO_COUNT);
    copySpans(h.positiveSpans, l.positiveSpans);
    copySpans(h.negativeSpans, l.negativeSpans);
    const pb = h.positiveBuckets;
    for (let i = 0; i < this.#np; i++) pb[i] = this.#value(FIXED + i);
    pb.length = this.#np;
    const nb = h.negativeBuckets;
    for (let i = 0; i < this.#nn; i++) nb[i] = this.#value(FIXED + this.#np + i);
    nb.length = this.#nn;
    copyValues(h.customValues, l.customValues);
    return h;
  }

  err(): Error | null {
    return this.#err;
  }
}
