import {
  CounterResetHeader,
  FloatHistogramChunk,
  HistogramAppendResult,
  HistogramChunk,
  ValueType,
  XorChunk,
  type ChunkMeta,
  type FloatHistogramAppender,
  type HistogramAppender,
  type SampleIterator,
  type XorAppender,
} from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';

/** DEFAULT_SAMPLES_PER_CHUNK is how many samples a re-encoded chunk holds, as Prometheus's seriesToChunkEncoder (120). */
export const DEFAULT_SAMPLES_PER_CHUNK = 120;

/**
 * SampleChunkEncoder re-encodes samples into chunks, as Prometheus's NewSeriesToChunkEncoder: floats
 * into XOR chunks, histograms into histogram chunks, float histograms into float histogram chunks,
 * a new chunk every samplesPerChunk samples, when the value type changes, and when a histogram
 * chunk cannot take the next sample (a counter reset starts the new chunk with the CounterReset
 * header). Timestamps must increase. Completed chunks are taken with drain(); finish() also
 * returns the open one. Per sample nothing is allocated except for histograms (one copy each).
 */
export class SampleChunkEncoder {
  readonly #spc: number;
  #done: ChunkMeta[] = [];
  #cur: ChunkMeta | null = null;
  #type: ValueType = ValueType.None;
  #n = 0;
  #xor: XorAppender | null = null;
  #hist: HistogramAppender | null = null;
  #fhist: FloatHistogramAppender | null = null;
  readonly #h = new FloatHistogram();

  constructor(samplesPerChunk = DEFAULT_SAMPLES_PER_CHUNK) {
    this.#spc = Math.max(1, samplesPerChunk);
  }

  /** numPending is the number of completed chunks not yet drained. */
  get numPending(): number {
    return this.#done.length;
  }

  #cut(t: number, type: ValueType): void {
    if (this.#cur !== null && this.#n > 0) this.#done.push(this.#cur);
    this.#type = type;
    this.#n = 0;
    this.#xor = this.#hist = this.#fhist = null;
    if (type === ValueType.Float) {
      const c = new XorChunk();
      this.#xor = c.appender();
      this.#cur = { ref: 0, minTime: t, maxTime: t, chunk: c };
    } else if (type === ValueType.Histogram) {
      const c = new HistogramChunk();
      this.#hist = c.appender();
      this.#cur = { ref: 0, minTime: t, maxTime: t, chunk: c };
    } else {
      const c = new FloatHistogramChunk();
      this.#fhist = c.appender();
      this.#cur = { ref: 0, minTime: t, maxTime: t, chunk: c };
    }
  }

  /** appendFrom appends the sample `it` is positioned on (type is what next()/seek() returned). */
  appendFrom(it: SampleIterator, type: ValueType): void {
    const t = it.atT();
    if (type === ValueType.Float) this.appendFloat(t, it.atF());
    else if (type !== ValueType.None) this.appendHistogram(t, it.atFloatHistogram(this.#h), type);
  }

  /** appendFloat appends a float sample. */
  appendFloat(t: number, v: number): void {
    if (this.#type !== ValueType.Float || this.#n >= this.#spc) this.#cut(t, ValueType.Float);
    this.#xor!.append(t, v);
    this.#added(t);
  }

  /** appendHistogram appends a histogram sample; type says which chunk kind holds it (Histogram or FloatHistogram). */
  appendHistogram(t: number, h: FloatHistogram, type: ValueType): void {
    if (this.#type !== type || this.#n >= this.#spc) this.#cut(t, type);
    const res = this.#appendH(t, h);
    if (res !== HistogramAppendResult.Appended) {
      this.#cut(t, type);
      if (this.#appendH(t, h) !== HistogramAppendResult.Appended) throw new RangeError(`re-encode histogram at ${t}: a new chunk refused it`);
      if (res === HistogramAppendResult.CounterReset) (this.#cur!.chunk as HistogramChunk | FloatHistogramChunk).setCounterResetHeader(CounterResetHeader.CounterReset);
    }
    this.#added(t);
  }

  #appendH(t: number, h: FloatHistogram): HistogramAppendResult {
    return this.#hist !== null ? this.#hist.appendHistogram(t, h) : this.#fhist!.appendHistogram(t, h);
  }

  #added(t: number): void {
    const cur = this.#cur!;
    if (this.#n === 0) cur.minTime = t;
    cur.maxTime = t;
    this.#n++;
  }

  /** drain returns the chunks completed so far (not the open one) and forgets them. */
  drain(): ChunkMeta[] {
    const d = this.#done;
    this.#done = [];
    return d;
  }

  /** finish returns every remaining chunk including the open one and resets the encoder. */
  finish(): ChunkMeta[] {
    const d = this.#done;
    if (this.#cur !== null && this.#n > 0) d.push(this.#cur);
    this.#done = [];
    this.#cur = null;
    this.#type = ValueType.None;
    this.#n = 0;
    this.#xor = this.#hist = this.#fhist = null;
    return d;
  }
}
