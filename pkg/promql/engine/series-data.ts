import { DecodedFloatChunk, lowerBound, upperBound, ValueType, XorBulkDecoder, XorChunk, type ChunkMeta, type SampleIterator } from '../../chunkenc/index.js';
import { CounterResetHint, FloatHistogram, type Span } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';
import { isIncremental, type ChunkSeriesSet, type SeriesSet } from '../../storage/index.js';
import { detectReset } from './histogram-ops.js';
import { SeriesArena } from './series-arena.js';
import { isStaleNaN } from './stale.js';
import type { Series } from './value.js';

/**
 * SeriesData is one series' samples pulled from storage once per query, held in typed arrays so
 * each step of a range query reads it by binary search without touching storage again. Floats and
 * histograms are kept apart (as Prometheus's Series.Floats/Histograms); staleness markers are kept
 * as a separate list of timestamps.
 */
export interface SeriesData {
  readonly metric: Labels;
  fts: Float64Array;
  fvs: Float64Array;
  fn: number;
  hts: Float64Array;
  hvs: FloatHistogram[];
  hn: number;
  sts: Float64Array;
  sn: number;
  /** dropName carries delayed name removal from subquery results. */
  dropName: boolean;
  /** hsz caches prefix sums of the histograms' max-samples sizes (see histogramSizePrefix). */
  hsz?: Float64Array;
}

function grow(a: Float64Array, n: number): Float64Array {
  if (n < a.length) return a;
  const b = new Float64Array(Math.max(256, a.length * 2));
  b.set(a);
  return b;
}

const emptyF = new Float64Array(0);

/** newSeriesData returns an empty SeriesData for metric. */
export function newSeriesData(metric: Labels): SeriesData {
  return { metric, fts: emptyF, fvs: emptyF, fn: 0, hts: emptyF, hvs: [], hn: 0, sts: emptyF, sn: 0, dropName: false };
}

/**
 * HistogramStats makes the loaders keep only the count, sum, schema and counter reset hint of
 * histograms, as Prometheus's HistogramStatsIterator does for selectors whose histograms only
 * reach histogram_count/histogram_sum/histogram_avg. Like that iterator it detects counter resets
 * on the fly: a histogram with an unknown hint gets reset or not-reset from a comparison (with
 * buckets) against the histogram visited before it. Samples before `from` are not visited
 * (Prometheus's iterator starts there), so they are no predecessor; one state serves one series.
 */
export class HistogramStats {
  readonly from: number;
  readonly #last = new FloatHistogram();
  #hasLast = false;

  constructor(from: number) {
    this.from = from;
  }

  /** reset forgets the previous histogram (a new series starts). */
  reset(): void {
    this.#hasLast = false;
  }

  /** stats returns the stats-only histogram of h (at time t), remembering h's buckets for the next one. */
  stats(t: number, h: FloatHistogram): FloatHistogram {
    const out = new FloatHistogram();
    out.schema = h.schema;
    out.count = h.count;
    out.sum = h.sum;
    out.counterResetHint = h.counterResetHint;
    if (t < this.from) return out;
    if (h.counterResetHint === CounterResetHint.Unknown && this.#hasLast) {
      out.counterResetHint = detectReset(this.#last, h) ? CounterResetHint.CounterReset : CounterResetHint.NotCounterReset;
    }
    copyInto(this.#last, h);
    this.#hasLast = true;
    return out;
  }
}

/** copyInto overwrites dst with src, reusing dst's arrays (no allocation once they are large enough). */
function copyInto(dst: FloatHistogram, src: FloatHistogram): void {
  dst.counterResetHint = src.counterResetHint;
  dst.schema = src.schema;
  dst.zeroThreshold = src.zeroThreshold;
  dst.zeroCount = src.zeroCount;
  dst.count = src.count;
  dst.sum = src.sum;
  copySpans(dst.positiveSpans, src.positiveSpans);
  copySpans(dst.negativeSpans, src.negativeSpans);
  copyNumbers(dst.positiveBuckets, src.positiveBuckets);
  copyNumbers(dst.negativeBuckets, src.negativeBuckets);
  copyNumbers(dst.customValues, src.customValues);
}

function copySpans(dst: Span[], src: readonly Span[]): void {
  for (let i = 0; i < src.length; i++) {
    const s = src[i]!;
    const d = dst[i];
    if (d === undefined) dst.push({ offset: s.offset, length: s.length });
    else {
      d.offset = s.offset;
      d.length = s.length;
    }
  }
  dst.length = src.length;
}

function copyNumbers(dst: number[], src: readonly number[]): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i]!;
  dst.length = src.length;
}

/**
 * readSeries pulls the samples of it with mint ≤ t ≤ maxt into a SeriesData. Histograms are
 * copied (iterators may reuse their objects), or reduced to their stats with `stats`. Returns the
 * number of samples read.
 */
export function readSeries(d: SeriesData, it: SampleIterator, mint: number, maxt: number, stats?: HistogramStats): number {
  let vt = it.seek(mint);
  let n = 0;
  while (vt !== ValueType.None) {
    const t = it.atT();
    if (t > maxt) break;
    if (vt === ValueType.Float) {
      const f = it.atF();
      if (isStaleNaN(f)) {
        d.sts = grow(d.sts, d.sn);
        d.sts[d.sn++] = t;
      } else {
        d.fts = grow(d.fts, d.fn);
        d.fvs = grow(d.fvs, d.fn);
        d.fts[d.fn] = t;
        d.fvs[d.fn++] = f;
      }
    } else {
      const h = it.atFloatHistogram();
      if (isStaleNaN(h.sum)) {
        d.sts = grow(d.sts, d.sn);
        d.sts[d.sn++] = t;
      } else {
        d.hts = grow(d.hts, d.hn);
        d.hts[d.hn] = t;
        d.hvs.push(stats === undefined ? h.copy() : stats.stats(t, h));
        d.hn++;
      }
    }
    n++;
    vt = it.next();
  }
  const err = it.err();
  if (err !== null) throw err;
  return n;
}

/**
 * SetLoader reads series sets into SeriesData. Samples are read into scratch arrays shared by the
 * whole set (grown once to the longest series), then copied into exact-size views of a few large
 * arenas, so a series costs no per-sample growth and no per-series allocation beyond the views.
 * It can be resumed: an IncrementalSet is read as far as it has series, then again after more().
 */
class SetLoader {
  readonly out: SeriesData[] = [];
  readonly #its = new Map<number, SampleIterator>();
  readonly #xor = new XorBulkDecoder();
  #it: SampleIterator | undefined;
  #count = 0;
  readonly #scratch = newSeriesData(EMPTY_METRIC);
  readonly #arena: SeriesArena;
  readonly #mint: number;
  readonly #maxt: number;
  readonly #check: () => void;
  readonly #loaded: (d: SeriesData) => void;
  readonly #stats: HistogramStats | undefined;

  constructor(mint: number, maxt: number, check: () => void, loaded: (d: SeriesData) => void, stats: HistogramStats | undefined, arena = new SeriesArena()) {
    this.#arena = arena;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#check = check;
    this.#loaded = loaded;
    this.#stats = stats;
  }

  #clear(): SeriesData {
    const scratch = this.#scratch;
    scratch.fn = 0;
    scratch.hn = 0;
    scratch.sn = 0;
    scratch.hvs = [];
    this.#stats?.reset();
    return scratch;
  }

  #emit(metric: Labels): void {
    const scratch = this.#scratch;
    const d = newSeriesData(metric);
    if (scratch.fn > 0) {
      d.fn = scratch.fn;
      const sink = this.#arena.reserve(scratch.fn);
      const at = sink.fn;
      sink.fts.set(scratch.fts.subarray(0, scratch.fn), at);
      sink.fvs.set(scratch.fvs.subarray(0, scratch.fn), at);
      d.fts = sink.fts.subarray(at, at + scratch.fn);
      d.fvs = sink.fvs.subarray(at, at + scratch.fn);
      this.#arena.commit(at + scratch.fn);
    }
    if (scratch.hn > 0) {
      d.hn = scratch.hn;
      d.hts = scratch.hts.slice(0, scratch.hn);
      d.hvs = scratch.hvs;
    }
    if (scratch.sn > 0) {
      d.sn = scratch.sn;
      d.sts = scratch.sts.slice(0, scratch.sn);
    }
    this.out.push(d);
    this.#loaded(d);
    if (++this.#count % 256 === 0) this.#check();
  }

  /** samples reads the series the set has now through their iterators; throws its error. */
  samples(set: SeriesSet): void {
    while (set.next()) {
      const s = set.at();
      const it = s.iterator(this.#it);
      this.#it = it;
      readSeries(this.#clear(), it, this.#mint, this.#maxt, this.#stats);
      this.#emit(s.labels());
    }
    const err = set.err();
    if (err !== null) throw err;
  }

  /** chunks reads the chunk series the set has now; false when a series has overlapping chunks. */
  chunks(set: ChunkSeriesSet): boolean {
    const its = this.#its;
    const mint = this.#mint;
    const maxt = this.#maxt;
    while (set.next()) {
      const s = set.at();
      const cs = s.chunks();
      const metas: readonly ChunkMeta[] = Array.isArray(cs) ? cs : Array.from(cs);
      // Samples already decoded for the whole range (a deduplicated series' replica 0) are taken as they are.
      const one = metas.length === 1 ? metas[0]!.chunk : undefined;
      if (one instanceof DecodedFloatChunk && one.minTime <= mint && maxt <= one.maxTime && one.valid()) {
        this.#emitDecoded(s.labels(), one);
        continue;
      }
      // Float series (XOR chunks only) decode straight into the arena, sized by the chunks' sample counts.
      let prevMax = -Infinity;
      let bound = 0;
      for (let i = 0; i < metas.length; i++) {
        const m = metas[i]!;
        if (m.minTime <= prevMax) return false;
        prevMax = m.maxTime;
        if (m.maxTime < mint || m.minTime > maxt) continue;
        if (bound < 0 || !(m.chunk instanceof XorChunk)) bound = -1;
        else bound += m.chunk.numSamples();
      }
      if (bound >= 0) {
        this.#emitXor(s.labels(), metas, bound);
        continue;
      }
      const scratch = this.#clear();
      for (let i = 0; i < metas.length; i++) {
        const m = metas[i]!;
        if (m.maxTime < mint || m.minTime > maxt) continue;
        if (m.chunk instanceof XorChunk) {
          this.#xor.decodeInto(m.chunk.bytes(), mint, maxt, scratch);
          continue;
        }
        const enc = m.chunk.encoding();
        const it = m.chunk.iterator(its.get(enc));
        its.set(enc, it);
        readSeries(scratch, it, mint, maxt, this.#stats);
      }
      this.#emit(s.labels());
    }
    const err = set.err();
    if (err !== null) throw err;
    return true;
  }

  /** #emitDecoded emits a (valid) DecodedFloatChunk's samples in [mint, maxt], copied into the arena: nothing to decode. */
  #emitDecoded(metric: Labels, c: DecodedFloatChunk): void {
    const d = newSeriesData(metric);
    const a = lowerBound(c.fts, c.fts.length, this.#mint);
    const b = upperBound(c.fts, c.fts.length, this.#maxt);
    const n = b - a;
    if (n > 0) {
      const sink = this.#arena.reserve(n);
      const at = sink.fn;
      sink.fts.set(c.fts.subarray(a, b), at);
      sink.fvs.set(c.fvs.subarray(a, b), at);
      d.fn = n;
      d.fts = sink.fts.subarray(at, at + n);
      d.fvs = sink.fvs.subarray(at, at + n);
      this.#arena.commit(at + n);
    }
    const x = lowerBound(c.sts, c.sts.length, this.#mint);
    const y = upperBound(c.sts, c.sts.length, this.#maxt);
    if (y > x) {
      d.sn = y - x;
      d.sts = c.sts.slice(x, y);
    }
    this.out.push(d);
    this.#loaded(d);
    if (++this.#count % 256 === 0) this.#check();
  }

  /** #emitXor decodes a series of XOR chunks (at most bound samples in range) into the arena and emits it. */
  #emitXor(metric: Labels, metas: readonly ChunkMeta[], bound: number): void {
    const sink = this.#arena.reserve(bound);
    const scratch = this.#scratch;
    sink.sts = scratch.sts;
    sink.sn = 0;
    const start = sink.fn;
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i]!;
      if (m.maxTime < this.#mint || m.minTime > this.#maxt) continue;
      this.#xor.decodeInto(m.chunk.bytes(), this.#mint, this.#maxt, sink);
    }
    scratch.sts = sink.sts;
    const d = newSeriesData(metric);
    const n = sink.fn - start;
    if (n > 0) {
      d.fn = n;
      d.fts = sink.fts.subarray(start, sink.fn);
      d.fvs = sink.fvs.subarray(start, sink.fn);
      this.#arena.commit(sink.fn);
    }
    if (sink.sn > 0) {
      d.sn = sink.sn;
      d.sts = sink.sts.slice(0, sink.sn);
    }
    this.out.push(d);
    this.#loaded(d);
    if (++this.#count % 256 === 0) this.#check();
  }
}

/** loadSeriesSet reads every series of set into SeriesData (see SetLoader). */
export function loadSeriesSet(set: SeriesSet, mint: number, maxt: number, check: () => void, loaded: (d: SeriesData) => void = noop, stats?: HistogramStats): SeriesData[] {
  const l = new SetLoader(mint, maxt, check, loaded, stats);
  l.samples(set);
  return l.out;
}

/**
 * loadChunkSeriesSet reads every series of a chunk set into SeriesData, decoding each chunk
 * straight into the arrays (no per-sample iterator chain across blocks). It applies only when
 * every series' chunks are in time order without overlap, where the result equals reading the
 * merged sample series; otherwise it returns undefined and the caller selects samples instead.
 */
export function loadChunkSeriesSet(set: ChunkSeriesSet, mint: number, maxt: number, check: () => void, loaded: (d: SeriesData) => void = noop, stats?: HistogramStats): SeriesData[] | undefined {
  const l = new SetLoader(mint, maxt, check, loaded, stats);
  return l.chunks(set) ? l.out : undefined;
}

/**
 * loadSeriesSetAsync is loadSeriesSet for a set that may be an IncrementalSet: it reads the
 * series buffered so far, awaits more and goes on until the set is done, so decoding overlaps
 * the arrival of the rest. With arena, the samples are held in its blocks (see SeriesArena).
 */
export async function loadSeriesSetAsync(
  set: SeriesSet,
  mint: number,
  maxt: number,
  check: () => void,
  loaded: (d: SeriesData) => void = noop,
  stats?: HistogramStats,
  arena?: SeriesArena,
): Promise<SeriesData[]> {
  const l = new SetLoader(mint, maxt, check, loaded, stats, arena);
  for (;;) {
    l.samples(set);
    if (!isIncremental(set) || set.done()) return l.out;
    await set.more();
    check();
  }
}

/** loadChunkSeriesSetAsync is loadChunkSeriesSet for a set that may be an IncrementalSet (arena: see loadSeriesSetAsync). */
export async function loadChunkSeriesSetAsync(
  set: ChunkSeriesSet,
  mint: number,
  maxt: number,
  check: () => void,
  loaded: (d: SeriesData) => void = noop,
  stats?: HistogramStats,
  arena?: SeriesArena,
): Promise<SeriesData[] | undefined> {
  const l = new SetLoader(mint, maxt, check, loaded, stats, arena);
  for (;;) {
    if (!l.chunks(set)) return undefined;
    if (!isIncremental(set) || set.done()) return l.out;
    await set.more();
    check();
  }
}

const EMPTY_METRIC = undefined as unknown as Labels;

function noop(): void {}

/**
 * seriesDataFromSeries converts an evaluated Series (e.g. a subquery result) to SeriesData,
 * sharing its float arrays (no copy).
 */
export function seriesDataFromSeries(s: Series): SeriesData {
  const d = newSeriesData(s.metric);
  d.dropName = s.dropName;
  d.fn = s.floats.length;
  d.fts = s.floats.ts;
  d.fvs = s.floats.fs;
  d.hn = s.histograms.length;
  d.hts = new Float64Array(d.hn);
  for (let i = 0; i < d.hn; i++) {
    d.hts[i] = s.histograms[i]!.t;
    d.hvs.push(s.histograms[i]!.h);
  }
  return d;
}

/**
 * seriesDataBytes estimates the memory d holds: 16 bytes a float sample, 8 a staleness marker,
 * histograms by their bucket counts, and the label strings (UTF-16, plus object overhead).
 */
export function seriesDataBytes(d: SeriesData): number {
  let n = 96 + d.fn * 16 + d.sn * 8 + d.hn * 8;
  for (const h of d.hvs) n += 96 + 8 * (h.positiveBuckets.length + h.negativeBuckets.length + h.positiveSpans.length + h.negativeSpans.length);
  const m = d.metric;
  for (let i = 0; i < m.size; i++) n += 32 + 2 * (m.nameAt(i).length + m.valueAt(i).length);
  return n;
}
