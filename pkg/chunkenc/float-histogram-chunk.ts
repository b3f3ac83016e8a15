import { CounterResetHint, type FloatHistogram } from '../histogram/index.js';
import type { BitWriter } from './bstream.js';
import { Encoding } from './chunk.js';
import { floatBits, isStaleNaN } from './float-bits.js';
import { FloatHistogramIterator } from './float-histogram-iterator.js';
import { HistogramChunkBase } from './histogram-chunk-base.js';
import { appendability, checkShape, HistogramAppendResult, type AppendState } from './histogram-append-result.js';
import type { HistogramChunkOptions } from './histogram-chunk.js';
import { copySpans, countSpans, headerFor, writeHistogramLayout, type HistogramLayout } from './histogram-layout.js';
import type { SampleIterator } from './sample-iterator.js';
import { putVarbitInt, xorWrite } from './varbit.js';

const { f64, u32, HI, LO } = floatBits;
const FIXED = 3;

/**
 * FloatHistogramChunk is a float native histogram chunk (encoding 3, chunks.md §4), bit-exact with
 * Prometheus's FloatHistogramChunk for the samples our appender accepts. A new chunk is empty and
 * writable through appender(); fromBytes wraps stored bytes without copying (read-only).
 */
export class FloatHistogramChunk extends HistogramChunkBase {
  #appender: FloatHistogramAppender | null = null;

  constructor(options: HistogramChunkOptions = {}) {
    super('FloatHistogramChunk', options.legacyPadByte === true);
  }

  /** fromBytes wraps encoded chunk data (the part after the encoding byte). The bytes are not copied. */
  static fromBytes(data: Uint8Array): FloatHistogramChunk {
    const c = new FloatHistogramChunk();
    c.wrapBytes(data);
    return c;
  }

  encoding(): Encoding {
    return Encoding.FloatHistogram;
  }

  iterator(reuse?: SampleIterator): FloatHistogramIterator {
    const it = reuse instanceof FloatHistogramIterator ? reuse : new FloatHistogramIterator();
    return it.reset(this.bytes());
  }

  /** appender returns the chunk's appender (only for chunks made with the constructor). */
  appender(): FloatHistogramAppender {
    this.#appender ??= new FloatHistogramAppender(this, this.writer('appending to a chunk read from bytes is not supported; cut a new chunk'));
    return this.#appender;
  }
}

/**
 * FloatHistogramAppender appends float histograms to a FloatHistogramChunk: the first sample raw,
 * every later field (count, zero count, sum, each bucket) XOR-encoded against the previous sample.
 */
export class FloatHistogramAppender {
  readonly #chunk: FloatHistogramChunk;
  readonly #w: BitWriter;
  #num = 0;
  readonly #layout: HistogramLayout = { schema: 0, zeroThreshold: 0, positiveSpans: [], negativeSpans: [], customValues: [] };
  #t = 0;
  #tDelta = 0;
  #np = 0;
  #nn = 0;
  #bits = new Uint32Array(2 * FIXED);
  #lt = new Uint8Array(2 * FIXED);
  #abs = new Float64Array(0);
  #lastStale = false;
  readonly #st: AppendState;
  #lastCount = 0;
  #lastZeroCount = 0;

  /** Use FloatHistogramChunk.appender(). */
  constructor(chunk: FloatHistogramChunk, w: BitWriter) {
    this.#chunk = chunk;
    this.#w = w;
    this.#st = { num: 0, header: 0, layout: this.#layout, lastStale: false, lastCount: 0, lastZeroCount: 0, lastBuckets: this.#abs };
  }

  /**
   * appendHistogram appends h at time t (t must not decrease) if the chunk can hold it, else leaves
   * the chunk unchanged and says why (HistogramAppendResult). The first sample fixes the layout and,
   * from h.counterResetHint, the chunk header. h is not kept.
   */
  appendHistogram(t: number, h: FloatHistogram): HistogramAppendResult {
    const stale = isStaleNaN(h.sum);
    if (this.#num > 0) {
      const st = this.#st;
      st.num = this.#num;
      st.header = this.#chunk.counterResetHeader();
      st.lastStale = this.#lastStale;
      st.lastCount = this.#lastCount;
      st.lastZeroCount = this.#lastZeroCount;
      st.lastBuckets = this.#abs;
      const res = appendability(st, h);
      if (res !== HistogramAppendResult.Appended) return res;
      if (t < this.#t) throw new RangeError(`float histogram chunk append out of order: ${t} after ${this.#t}`);
    }
    if (!stale) checkShape(h, countSpans(h.positiveSpans), countSpans(h.negativeSpans));
    const w = this.#w;
    const count = stale ? 0 : h.count;
    const zeroCount = stale ? 0 : h.zeroCount;
    if (this.#num === 0) {
      const l = this.#layout;
      if (stale) {
        l.schema = 0;
        l.zeroThreshold = 0;
        l.positiveSpans.length = 0;
        l.negativeSpans.length = 0;
        l.customValues.length = 0;
      } else {
        l.schema = h.schema;
        l.zeroThreshold = h.zeroThreshold;
        copySpans(l.positiveSpans, h.positiveSpans);
        copySpans(l.negativeSpans, h.negativeSpans);
        l.customValues = h.customValues.slice();
      }
      writeHistogramLayout(w, l);
      this.#np = countSpans(l.positiveSpans);
      this.#nn = countSpans(l.negativeSpans);
      const slots = FIXED + this.#np + this.#nn;
      this.#bits = new Uint32Array(2 * slots);
      this.#lt = new Uint8Array(2 * slots).fill(0xff);
      this.#abs = new Float64Array(this.#np + this.#nn);
      putVarbitInt(w, t);
      this.#raw(0, count);
      this.#raw(1, zeroCount);
      this.#raw(2, h.sum);
      if (!stale) {
        for (let i = 0; i < this.#np; i++) this.#raw(FIXED + i, h.positiveBuckets[i]!);
        for (let i = 0; i < this.#nn; i++) this.#raw(FIXED + this.#np + i, h.negativeBuckets[i]!);
      }
      this.#tDelta = 0;
      const hint = h.counterResetHint;
      if (hint === CounterResetHint.Gauge || hint === CounterResetHint.CounterReset) this.#chunk.setCounterResetHeader(headerFor(hint));
    } else {
      const tDelta = t - this.#t;
      putVarbitInt(w, tDelta - this.#tDelta);
      this.#xor(0, count);
      this.#xor(1, zeroCount);
      this.#xor(2, h.sum);
      if (!stale) {
        for (let i = 0; i < this.#np; i++) this.#xor(FIXED + i, h.positiveBuckets[i]!);
        for (let i = 0; i < this.#nn; i++) this.#xor(FIXED + this.#np + i, h.negativeBuckets[i]!);
      }
      this.#tDelta = tDelta;
    }
    if (!stale) {
      for (let i = 0; i < this.#np; i++) this.#abs[i] = h.positiveBuckets[i]!;
      for (let i = 0; i < this.#nn; i++) this.#abs[this.#np + i] = h.negativeBuckets[i]!;
    }
    this.#t = t;
    this.#lastCount = count;
    this.#lastZeroCount = zeroCount;
    this.#lastStale = stale;
    this.#num++;
    const buf = w.buffer;
    buf[0] = this.#num >>> 8;
    buf[1] = this.#num & 0xff;
    return HistogramAppendResult.Appended;
  }

  #raw(slot: number, v: number): void {
    f64[0] = v;
    const hi = u32[HI]!;
    const lo = u32[LO]!;
    this.#bits[2 * slot] = hi;
    this.#bits[2 * slot + 1] = lo;
    this.#w.writeBits64(hi, lo, 64);
  }

  #xor(slot: number, v: number): void {
    f64[0] = v;
    xorWrite(this.#w, this.#bits, this.#lt, slot, u32[HI]!, u32[LO]!);
  }
}
