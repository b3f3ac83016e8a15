import {
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHeader,
  Encoding,
  FloatHistogramChunk,
  HistogramAppendResult,
  XorChunk,
  computeChunkEndTime,
  floatBits,
  isStaleNaN,
  rangeForTimestamp,
  type Chunk,
  type ChunkMeta,
  type FloatHistogramAppender,
  type XorAppender,
} from '../../chunkenc/index.js';
import { CounterResetHint, type FloatHistogram, type Span } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';

/** Chunk cutting parameters of a head (Prometheus's chunkOpts). */
export interface ChunkOpts {
  readonly chunkRange: number;
  readonly samplesPerChunk: number;
}

/** XOR chunks are cut before a sample when larger than MaxBytesPerXORChunk (1024) − 19 bytes. */
const MAX_XOR_BYTES = 1024 - 19;
/**
 * A sample takes at most 19 bytes (after the 2-byte header), so a chunk of fewer samples than
 * this cannot exceed MAX_XOR_BYTES: its size is not looked at (bytes() makes a view).
 */
const MIN_SAMPLES_FOR_BYTE_CAP = Math.floor((MAX_XOR_BYTES - 2) / 19);
/** Histogram chunks aim at TargetBytesPerHistogramChunk bytes and hold at least MinSamplesPerHistogramChunk samples. */
const TARGET_HISTOGRAM_BYTES = 1024;
const MIN_HISTOGRAM_SAMPLES = 10;

/** bucketValues maps absolute bucket index → count for one side of a histogram. */
function bucketValues(spans: readonly Span[], buckets: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  let idx = 0;
  let k = 0;
  for (const sp of spans) {
    idx += sp.offset;
    for (let j = 0; j < sp.length; j++, idx++, k++) m.set(idx, buckets[k] ?? 0);
  }
  return m;
}

/**
 * isCounterReset tells whether h is a counter reset after last, with the checks of Prometheus's
 * FloatHistogramAppender.appendable: stale samples never are; a lower count or zero count, other
 * custom bounds, or a bucket of last that h lacks (unless it was 0) or holds less of, are.
 */
function isCounterReset(last: FloatHistogram, h: FloatHistogram): boolean {
  if (isStaleNaN(h.sum) || isStaleNaN(last.sum)) return false;
  if (h.count < last.count) return true;
  if (h.schema !== last.schema || h.zeroThreshold !== last.zeroThreshold) return false;
  if (h.schema === CUSTOM_BUCKETS_SCHEMA && (h.customValues.length !== last.customValues.length || h.customValues.some((v, i) => v !== last.customValues[i]))) return true;
  if (h.zeroCount < last.zeroCount) return true;
  for (const [spans, buckets, lspans, lbuckets] of [
    [h.positiveSpans, h.positiveBuckets, last.positiveSpans, last.positiveBuckets],
    [h.negativeSpans, h.negativeBuckets, last.negativeSpans, last.negativeBuckets],
  ] as const) {
    const now = bucketValues(spans, buckets);
    for (const [idx, v] of bucketValues(lspans, lbuckets)) {
      const w = now.get(idx);
      if (w === undefined ? v !== 0 : w < v) return true;
    }
  }
  return false;
}

/**
 * MemSeries is one series of the head: its labels, a reference, completed chunks and the open
 * head chunk. Samples are cut into chunks as Prometheus's head does (appendPreprocessor and
 * histogramsAppendPreprocessor): at chunk range boundaries, at a predicted end time once a quarter
 * of the chunk is filled, at twice the target, at the XOR byte cap; float histograms by bytes with
 * a minimum sample count, a new chunk on a layout change and a CounterReset chunk on a reset.
 * Not safe for concurrent mutation; the head applies commits one at a time.
 */
export class MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  /** Completed chunks in time order (immutable). */
  readonly chunks: ChunkMeta[] = [];
  /** The open chunk, or null. */
  head: ChunkMeta | null = null;
  #xor: XorAppender | null = null;
  #fh: FloatHistogramAppender | null = null;
  #nextAt = 0;
  #histEndComputed = false;
  /** Timestamp of the newest sample, -Infinity when none. */
  lastT = -Infinity;
  /** Bit halves of the newest float value. */
  lastHi = 0;
  lastLo = 0;
  /** The newest sample when it is a histogram (owned copy), else null. */
  lastHistogram: FloatHistogram | null = null;
  /** Whether the series record is in the write-ahead log. */
  logged = false;
  /** Pending state of the appender currently buffering for this series (see HeadAppender). */
  pendingOwner = 0;
  pendingT = -Infinity;
  /** Number of open appenders holding samples of this series (the head keeps such a series when truncating). */
  pendingAppenders = 0;

  constructor(ref: number, labels: Labels) {
    this.ref = ref;
    this.labels = labels;
  }

  /** minTime is the oldest sample's timestamp, Infinity when empty. */
  minTime(): number {
    const first = this.chunks[0] ?? this.head;
    return first === null ? Infinity : first.minTime;
  }

  /** isEmpty reports whether the series holds no sample. */
  isEmpty(): boolean {
    return this.chunks.length === 0 && this.head === null;
  }

  #cut(t: number, enc: Encoding, o: ChunkOpts): ChunkMeta {
    if (this.head !== null && this.head.chunk.numSamples() > 0) this.chunks.push(this.head);
    let chunk: Chunk;
    this.#xor = null;
    this.#fh = null;
    if (enc === Encoding.XOR) {
      const c = new XorChunk();
      this.#xor = c.appender();
      chunk = c;
    } else {
      const c = new FloatHistogramChunk();
      this.#fh = c.appender();
      chunk = c;
    }
    const m: ChunkMeta = { ref: 0, minTime: t, maxTime: t, chunk };
    this.head = m;
    this.#nextAt = rangeForTimestamp(t, o.chunkRange);
    this.#histEndComputed = false;
    return m;
  }

  /** appendFloat appends a float sample; false (nothing stored) when t is not after the newest sample. */
  appendFloat(t: number, v: number, o: ChunkOpts): boolean {
    if (t <= this.lastT) return false;
    let c = this.head;
    let created = false;
    if (c === null) {
      c = this.#cut(t, Encoding.XOR, o);
      created = true;
    }
    if (!created && c.chunk.numSamples() > MIN_SAMPLES_FOR_BYTE_CAP && c.chunk.bytes().length > MAX_XOR_BYTES) {
      c = this.#cut(t, Encoding.XOR, o);
      created = true;
    }
    if (c.chunk.encoding() !== Encoding.XOR) {
      c = this.#cut(t, Encoding.XOR, o);
    }
    const n = c.chunk.numSamples();
    if (n === 0) {
      c.minTime = t;
      this.#nextAt = rangeForTimestamp(t, o.chunkRange);
    }
    if (n === o.samplesPerChunk >> 2) this.#nextAt = computeChunkEndTime(c.minTime, c.maxTime, this.#nextAt, 4);
    if (t >= this.#nextAt || n >= o.samplesPerChunk * 2) c = this.#cut(t, Encoding.XOR, o);
    this.#xor!.append(t, v);
    c.maxTime = t;
    this.lastT = t;
    floatBits.f64[0] = v;
    this.lastHi = floatBits.u32[floatBits.HI]!;
    this.lastLo = floatBits.u32[floatBits.LO]!;
    this.lastHistogram = null;
    return true;
  }

  /** appendHistogram appends a float histogram sample (h is copied); false when t is not after the newest sample. */
  appendHistogram(t: number, h: FloatHistogram, o: ChunkOpts): boolean {
    if (t <= this.lastT) return false;
    let c = this.head;
    const prev = c;
    let created = false;
    if (c === null) {
      c = this.#cut(t, Encoding.FloatHistogram, o);
      created = true;
    }
    if (c.chunk.encoding() !== Encoding.FloatHistogram) {
      c = this.#cut(t, Encoding.FloatHistogram, o);
      created = true;
    }
    const n = c.chunk.numSamples();
    const numBytes = c.chunk.bytes().length;
    if (n === 0) {
      c.minTime = t;
      this.#nextAt = rangeForTimestamp(t, o.chunkRange);
    }
    const nextRangeStart = this.#histEndComputed ? rangeForTimestamp(c.minTime, o.chunkRange) : this.#nextAt;
    if (!this.#histEndComputed && numBytes >= TARGET_HISTOGRAM_BYTES / 4) {
      this.#nextAt = computeChunkEndTime(c.minTime, c.maxTime, this.#nextAt, TARGET_HISTOGRAM_BYTES / numBytes);
      this.#histEndComputed = true;
    }
    if ((t >= this.#nextAt || numBytes >= TARGET_HISTOGRAM_BYTES * 2) && (n >= MIN_HISTOGRAM_SAMPLES || t >= nextRangeStart)) {
      c = this.#cut(t, Encoding.FloatHistogram, o);
      created = true;
    }
    if (created) this.#histEndComputed = false;
    const res = this.#fh!.appendHistogram(t, h);
    if (res !== HistogramAppendResult.Appended) {
      c = this.#cut(t, Encoding.FloatHistogram, o);
      if (this.#fh!.appendHistogram(t, h) !== HistogramAppendResult.Appended) {
        throw new RangeError(`append float histogram at ${t} to ${this.labels.toString()}: a new chunk refused it`);
      }
      if (res === HistogramAppendResult.CounterReset) (c.chunk as FloatHistogramChunk).setCounterResetHeader(CounterResetHeader.CounterReset);
    } else if (created && prev !== null && prev.chunk.encoding() === Encoding.FloatHistogram && prev.chunk.numSamples() > 0 && this.lastHistogram !== null) {
      // A chunk cut by time or size that continues a float histogram chunk: its header says whether
      // the first sample is a counter reset against the previous one (Prometheus's prevApp).
      const hint = h.counterResetHint;
      if (hint !== CounterResetHint.Gauge && hint !== CounterResetHint.CounterReset) {
        const prevHeader = (prev.chunk as FloatHistogramChunk).counterResetHeader();
        const reset = prevHeader !== CounterResetHeader.Gauge && isCounterReset(this.lastHistogram, h);
        (c.chunk as FloatHistogramChunk).setCounterResetHeader(reset ? CounterResetHeader.CounterReset : CounterResetHeader.NotCounterReset);
      }
    }
    c.maxTime = t;
    this.lastT = t;
    this.lastHistogram = this.lastHistogram === null ? h.copy() : this.lastHistogram.copyFrom(h);
    return true;
  }

  /**
   * chunksIn returns the chunks overlapping [mint, maxt]; the open chunk is copied, so the result
   * stays unchanged by later appends.
   */
  chunksIn(mint: number, maxt: number): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (const c of this.chunks) if (c.maxTime >= mint && c.minTime <= maxt) out.push(c);
    const h = this.head;
    if (h !== null && h.maxTime >= mint && h.minTime <= maxt && h.chunk.numSamples() > 0) {
      const data = h.chunk.bytes().slice();
      const chunk = h.chunk.encoding() === Encoding.XOR ? XorChunk.fromBytes(data) : FloatHistogramChunk.fromBytes(data);
      out.push({ ref: 0, minTime: h.minTime, maxTime: h.maxTime, chunk });
    }
    return out;
  }

  /**
   * truncateBefore drops every chunk that ends before mint (the head's chunks never straddle a
   * chunk range boundary, so cutting at a multiple of the chunk range drops whole chunks). It
   * returns the number of chunks dropped.
   */
  truncateBefore(mint: number): number {
    let i = 0;
    while (i < this.chunks.length && this.chunks[i]!.maxTime < mint) i++;
    let dropped = i;
    if (i > 0) this.chunks.splice(0, i);
    if (this.chunks.length === 0 && this.head !== null && this.head.maxTime < mint) {
      this.head = null;
      this.#xor = null;
      this.#fh = null;
      dropped++;
    }
    return dropped;
  }
}
