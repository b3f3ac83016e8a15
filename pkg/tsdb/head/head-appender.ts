import { floatBits, isStaleNaN } from '../../chunkenc/index.js';
import { TesseraError } from '../../errors/index.js';
import type { FloatHistogram } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';
import { AppendErrorCode, type Appender, type SeriesRef } from '../../storage/index.js';
import type { MemSeries } from './mem-series.js';

/** What a HeadAppender needs from its head. */
export interface AppenderHost {
  getOrCreate(ref: SeriesRef, labels: Labels): MemSeries;
  appendableMinValidTime(): number;
  commitBatch(batch: PendingBatch): Promise<void>;
  /** appenderOpened is called when an appender buffers its first sample; appenderClosed once its commit was applied or failed, or it rolled back. */
  appenderOpened(a: HeadAppender): void;
  appenderClosed(a: HeadAppender): void;
}

/**
 * PendingBatch is the content of one appender at commit, in append order: sample i is a float
 * (hist[i] undefined, value in v[i]) or a float histogram (hist[i]).
 */
export interface PendingBatch {
  readonly series: readonly MemSeries[];
  readonly t: readonly number[];
  readonly v: Float64Array;
  readonly hist: readonly (FloatHistogram | undefined)[];
  readonly n: number;
  readonly numHistograms: number;
}

let nextAppenderId = 1;

function histogramsEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  const sameF = (x: number, y: number) => x === y || (x !== x && y !== y);
  const spans = (x: readonly { offset: number; length: number }[], y: readonly { offset: number; length: number }[]) =>
    x.length === y.length && x.every((s, i) => s.offset === y[i]!.offset && s.length === y[i]!.length);
  const nums = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => sameF(v, y[i]!));
  return (
    a.schema === b.schema &&
    sameF(a.zeroThreshold, b.zeroThreshold) &&
    sameF(a.zeroCount, b.zeroCount) &&
    sameF(a.count, b.count) &&
    sameF(a.sum, b.sum) &&
    spans(a.positiveSpans, b.positiveSpans) &&
    spans(a.negativeSpans, b.negativeSpans) &&
    nums(a.positiveBuckets, b.positiveBuckets) &&
    nums(a.negativeBuckets, b.negativeBuckets) &&
    nums(a.customValues, b.customValues)
  );
}

function appendError(code: string, what: string, labels: Labels, t: number): TesseraError {
  return new TesseraError(code, `append sample at ${t} to ${labels.toString()}: ${what}`);
}

/**
 * HeadAppender buffers one batch for a Head (see Appender). append() checks a sample against the
 * newest committed sample of its series and the samples buffered before it in this batch; commit()
 * hands the batch to the head, which logs it to the WAL and then applies it.
 */
export class HeadAppender implements Appender {
  readonly #host: AppenderHost;
  readonly #id = nextAppenderId++;
  #series: MemSeries[] = [];
  #t: number[] = [];
  #v = new Float64Array(64);
  #hist: (FloatHistogram | undefined)[] = [];
  #numHist = 0;
  readonly #touched = new Set<MemSeries>();
  #done = false;
  #minT = Infinity;

  constructor(host: AppenderHost) {
    this.#host = host;
  }

  /** minPendingTime is the oldest timestamp this appender buffered (Infinity when none). */
  get minPendingTime(): number {
    return this.#minT;
  }

  #check(s: MemSeries, t: number): number {
    if (this.#done) throw new TesseraError('TESSERA_APPENDER_CLOSED', `append sample at ${t} to ${s.labels.toString()}: appender already committed or rolled back`);
    if (t < this.#host.appendableMinValidTime()) throw appendError(AppendErrorCode.OutOfBounds, 'out of bounds (older than the head accepts)', s.labels, t);
    const own = s.pendingOwner === this.#id;
    const last = own && s.pendingT > s.lastT ? s.pendingT : s.lastT;
    if (t < last) throw appendError(AppendErrorCode.OutOfOrder, `out of order (newest sample is at ${last})`, s.labels, t);
    return last;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    const s = this.#host.getOrCreate(ref, labels);
    if (isStaleNaN(v) && s.lastHistogram !== null && !(s.pendingOwner === this.#id && s.pendingT > s.lastT)) {
      // A stale marker for a histogram series is stored as a stale histogram, as Prometheus does.
      const h = s.lastHistogram.copy();
      h.sum = v;
      return this.appendHistogram(s.ref, labels, t, h);
    }
    const last = this.#check(s, t);
    if (t === last) {
      // Only a committed newest sample can be compared; a batch-internal duplicate is dropped.
      if (last === s.lastT && !(s.pendingOwner === this.#id && s.pendingT === t)) {
        if (s.lastHistogram !== null) throw appendError(AppendErrorCode.DuplicateTimestamp, 'duplicate timestamp (a histogram is stored there)', s.labels, t);
        floatBits.f64[0] = v;
        if (floatBits.u32[floatBits.HI] !== s.lastHi || floatBits.u32[floatBits.LO] !== s.lastLo) {
          throw appendError(AppendErrorCode.DuplicateTimestamp, 'duplicate timestamp with a different value', s.labels, t);
        }
      }
      return s.ref;
    }
    this.#push(s, t, v, undefined);
    return s.ref;
  }

  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    const s = this.#host.getOrCreate(ref, labels);
    const last = this.#check(s, t);
    if (t === last) {
      if (last === s.lastT && !(s.pendingOwner === this.#id && s.pendingT === t)) {
        if (s.lastHistogram === null || !histogramsEqual(s.lastHistogram, h)) {
          throw appendError(AppendErrorCode.DuplicateTimestamp, 'duplicate timestamp with a different histogram', s.labels, t);
        }
      }
      return s.ref;
    }
    this.#push(s, t, 0, h.copy());
    this.#numHist++;
    return s.ref;
  }

  #push(s: MemSeries, t: number, v: number, h: FloatHistogram | undefined): void {
    const n = this.#series.length;
    if (n === this.#v.length) {
      const nv = new Float64Array(n * 2);
      nv.set(this.#v);
      this.#v = nv;
    }
    if (n === 0) this.#host.appenderOpened(this);
    if (t < this.#minT) this.#minT = t;
    this.#series.push(s);
    this.#t.push(t);
    this.#v[n] = v;
    this.#hist.push(h);
    if (s.pendingOwner !== this.#id && !this.#touched.has(s)) {
      this.#touched.add(s);
      s.pendingAppenders++;
    }
    s.pendingOwner = this.#id;
    s.pendingT = t;
  }

  #release(): void {
    for (const s of this.#touched) {
      s.pendingAppenders--;
      if (s.pendingOwner === this.#id) s.pendingOwner = 0;
    }
    this.#touched.clear();
    if (this.#series.length > 0) this.#host.appenderClosed(this);
  }

  async commit(): Promise<void> {
    if (this.#done) throw new TesseraError('TESSERA_APPENDER_CLOSED', 'commit appender: already committed or rolled back');
    this.#done = true;
    try {
      await this.#host.commitBatch({ series: this.#series, t: this.#t, v: this.#v, hist: this.#hist, n: this.#series.length, numHistograms: this.#numHist });
    } finally {
      this.#release();
    }
  }

  rollback(): Promise<void> {
    if (this.#done) return Promise.reject(new TesseraError('TESSERA_APPENDER_CLOSED', 'roll back appender: already committed or rolled back'));
    this.#done = true;
    this.#release();
    this.#series = [];
    this.#hist = [];
    this.#minT = Infinity;
    return Promise.resolve();
  }
}
