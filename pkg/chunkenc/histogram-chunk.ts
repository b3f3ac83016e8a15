import { CounterResetHint, type FloatHistogram } from '../histogram/index.js';
import type { BitWriter } from './bstream.js';
import { Encoding } from './chunk.js';
import { floatBits, isStaleNaN } from './float-bits.js';
import { HistogramChunkBase } from './histogram-chunk-base.js';
import { appendability, checkShape, HistogramAppendResult, type AppendState } from './histogram-append-result.js';
import { HistogramIterator } from './histogram-iterator.js';
import { copySpans, countSpans, headerFor, writeHistogramLayout, type HistogramLayout } from './histogram-layout.js';
import type { SampleIterator } from './sample-iterator.js';
import { putVarbitInt, putVarbitUint, xorWrite } from './varbit.js';

const { f64, u32, HI, LO } = floatBits;

/** HistogramChunkOptions configures a histogram chunk being written. */
export interface HistogramChunkOptions {
  /** legacyPadByte emulates the pre-3.0 extra trailing 0x00 byte (see XorChunkOptions). */
  readonly legacyPadByte?: boolean;
}

/**
 * HistogramChunk is an integer native histogram chunk (encoding 2, chunks.md §4), bit-exact with
 * Prometheus's HistogramChunk for the samples our appender accepts. A new HistogramChunk is empty
 * and writable through appender(); fromBytes wraps stored bytes without copying (read-only: cut a
 * new chunk instead of appending to it).
 */
export class HistogramChunk extends HistogramChunkBase {
  #appender: HistogramAppender | null = null;

  constructor(options: HistogramChunkOptions = {}) {
    super('HistogramChunk', options.legacyPadByte === true);
  }

  /** fromBytes wraps encoded chunk data (the part after the encoding byte). The bytes are not copied. */
  static fromBytes(data: Uint8Array): HistogramChunk {
    const c = new HistogramChunk();
    c.wrapBytes(data);
    return c;
  }

  encoding(): Encoding {
    return Encoding.Histogram;
  }

  iterator(reuse?: SampleIterator): HistogramIterator {
    const it = reuse instanceof HistogramIterator ? reuse : new HistogramIterator();
    return it.reset(this.bytes());
  }

  /** appender returns the chunk's appender (only for chunks made with the constructor). */
  appender(): HistogramAppender {
    this.#appender ??= new HistogramAppender(this, this.writer('appending to a chunk read from bytes is not supported; cut a new chunk'));
    return this.#appender;
  }
}

/**
 * HistogramAppender appends histograms with integer counts (given as FloatHistogram with absolute,
 * integral bucket counts) to a HistogramChunk, encoding them as Prometheus does (counts and bucket
 * deltas as delta-of-delta varbit, the sum XOR-encoded).
 */
export class HistogramAppender {
  readonly #chunk: HistogramChunk;
  readonly #w: BitWriter;
  #num = 0;
  readonly #layout: HistogramLayout = { schema: 0, zeroThreshold: 0, positiveSpans: [], negativeSpans: [], customValues: [] };
  #t = 0;
  #tDelta = 0;
  #cnt = 0;
  #cntDelta = 0;
  #zCnt = 0;
  #zCntDelta = 0;
  #np = 0;
  #nn = 0;
  /** In-histogram deltas between consecutive buckets of the last sample, and their last change. */
  #buckets = new Float64Array(0);
  #bucketDeltas = new Float64Array(0);
  /** Absolute bucket counts of the last sample (for counter reset detection). */
  #abs = new Float64Array(0);
  readonly #sumBits = new Uint32Array(2);
  readonly #sumLt = Uint8Array.of(0xff, 0);
  #lastStale = false;
  readonly #st: AppendState;

  /** Use HistogramChunk.appender(). */
  constructor(chunk: HistogramChunk, w: BitWriter) {
    this.#chunk = chunk;
    this.#w = w;
    this.#st = { num: 0, header: 0, layout: this.#layout, lastStale: false, lastCount: 0, lastZeroCount: 0, lastBuckets: this.#abs };
  }

  /**
   * appendHistogram appends h at time t (t must not decrease) if the chunk can hold it, else leaves
   * the chunk unchanged and says why (HistogramAppendResult). The first sample fixes the layout and,
   * from h.counterResetHint, the chunk header (Gauge, CounterReset, else Unknown). Counts must be
   * non-negative integers. h is not kept.
   */
  appendHistogram(t: number, h: FloatHistogram): HistogramAppendResult {
    const stale = isStaleNaN(h.sum);
    if (this.#num > 0) {
      const st = this.#st;
      st.num = this.#num;
      st.header = this.#chunk.counterResetHeader();
      st.lastStale = this.#lastStale;
      st.lastCount = this.#cnt;
      st.lastZeroCount = this.#zCnt;
      st.lastBuckets = this.#abs;
      const res = appendability(st, h);
      if (res !== HistogramAppendResult.Appended) return res;
      if (t < this.#t) throw new RangeError(`histogram chunk append out of order: ${t} after ${this.#t}`);
    }
    if (!stale) {
      checkShape(h, countSpans(h.positiveSpans), countSpans(h.negativeSpans));
      checkInt(h.count, 'count');
      checkInt(h.zeroCount, 'zero count');
      for (const v of h.positiveBuckets) checkInt(v, 'bucket count');
      for (const v of h.negativeBuckets) checkInt(v, 'bucket count');
    }
    const w = this.#w;
    f64[0] = h.sum;
    const sh = u32[HI]!;
    const sl = u32[LO]!;
    const cnt = stale ? 0 : h.count;
    const zCnt = stale ? 0 : h.zeroCount;
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
      const nb = this.#np + this.#nn;
      this.#buckets = new Float64Array(nb);
      this.#bucketDeltas = new Float64Array(nb);
      this.#abs = new Float64Array(nb);
      putVarbitInt(w, t);
      putVarbitUint(w, cnt);
      putVarbitUint(w, zCnt);
      w.writeBits64(sh, sl, 64);
      this.#sumBits[0] = sh;
      this.#sumBits[1] = sl;
      if (!stale) {
        this.#deltasOf(h);
        for (let i = 0; i < nb; i++) putVarbitInt(w, this.#buckets[i]!);
      }
      this.#tDelta = 0;
      this.#cntDelta = 0;
      this.#zCntDelta = 0;
      const hint = h.counterResetHint;
      if (hint === CounterResetHint.Gauge || hint === CounterResetHint.CounterReset) this.#chunk.setCounterResetHeader(headerFor(hint));
    } else {
      const tDelta = t - this.#t;
      const cntDelta = cnt - this.#cnt;
      const zCntDelta = zCnt - this.#zCnt;
      putVarbitInt(w, tDelta - this.#tDelta);
      putVarbitInt(w, stale ? 0 : cntDelta - this.#cntDelta);
      putVarbitInt(w, stale ? 0 : zCntDelta - this.#zCntDelta);
      xorWrite(w, this.#sumBits, this.#sumLt, 0, sh, sl);
      if (!stale) {
        const b = this.#buckets;
        const d = this.#bucketDeltas;
        const abs = this.#abs;
        const np = this.#np;
        let prev = 0;
        for (let i = 0; i < b.length; i++) {
          if (i === np) prev = 0;
          const v = i < np ? h.positiveBuckets[i]! : h.negativeBuckets[i - np]!;
          const inHist = v - prev;
          prev = v;
          const delta = inHist - b[i]!;
          putVarbitInt(w, delta - d[i]!);
          d[i] = delta;
          b[i] = inHist;
          abs[i] = v;
        }
      }
      this.#tDelta = tDelta;
      this.#cntDelta = cntDelta;
      this.#zCntDelta = zCntDelta;
    }
    this.#t = t;
    this.#cnt = cnt;
    this.#zCnt = zCnt;
    this.#lastStale = stale;
    this.#num++;
    const buf = w.buffer;
    buf[0] = this.#num >>> 8;
    buf[1] = this.#num & 0xff;
    return HistogramAppendResult.Appended;
  }

  /** Sets #buckets to the in-histogram deltas of h's absolute counts, and #abs to the counts. */
  #deltasOf(h: FloatHistogram): void {
    const b = this.#buckets;
    const abs = this.#abs;
    let prev = 0;
    for (let i = 0; i < this.#np; i++) {
      const v = h.positiveBuckets[i]!;
      b[i] = v - prev;
      abs[i] = v;
      prev = v;
    }
    prev = 0;
    for (let i = 0; i < this.#nn; i++) {
      const v = h.negativeBuckets[i]!;
      b[this.#np + i] = v - prev;
      abs[this.#np + i] = v;
      prev = v;
    }
  }
}

function checkInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`integer histogram chunk: ${what} ${v} is not a non-negative integer`);
}
