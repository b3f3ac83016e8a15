import { ValueType, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import type { ChunkSeries, ChunkSeriesSet, Series, SeriesSet, Warnings } from './interface.js';

interface AnySet<S> {
  next(): boolean;
  at(): S;
  err(): Error | null;
  warnings(): Warnings;
}

/**
 * Generic k-way merge of label-sorted sets: a binary min-heap over the sets' current series; all
 * sets positioned on equal labels are popped together and combined by `combine`.
 */
class MergeSet<S extends { labels(): Labels }> implements AnySet<S> {
  readonly #sets: AnySet<S>[];
  readonly #combine: (group: S[]) => S;
  #heap: AnySet<S>[] = [];
  #started = false;
  #cur: S | undefined;
  #err: Error | null = null;
  /** Sets popped for the current group; advanced on the next call to next(). */
  #pending: AnySet<S>[] = [];

  constructor(sets: AnySet<S>[], combine: (group: S[]) => S) {
    this.#sets = sets;
    this.#combine = combine;
  }

  #less(a: AnySet<S>, b: AnySet<S>): boolean {
    return Labels.compare(a.at().labels(), b.at().labels()) < 0;
  }

  #push(s: AnySet<S>): void {
    const h = this.#heap;
    let i = h.length;
    h.push(s);
    while (i > 0) {
      const p = (i - 1) >>> 1;
      if (!this.#less(s, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = s;
  }

  #pop(): AnySet<S> {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.#less(h[c + 1]!, h[c]!)) c++;
        if (!this.#less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  #advance(s: AnySet<S>): void {
    if (s.next()) this.#push(s);
    else if (this.#err === null) this.#err = s.err();
  }

  next(): boolean {
    if (!this.#started) {
      this.#started = true;
      for (const s of this.#sets) this.#advance(s);
    } else {
      for (const s of this.#pending) this.#advance(s);
    }
    this.#pending = [];
    if (this.#err !== null || this.#heap.length === 0) {
      this.#cur = undefined;
      return false;
    }
    const first = this.#pop();
    this.#pending.push(first);
    const lset = first.at().labels();
    while (this.#heap.length > 0 && Labels.compare(this.#heap[0]!.at().labels(), lset) === 0) this.#pending.push(this.#pop());
    if (this.#pending.length > 1) {
      // combine sees the series in the order of the input sets (merge functions rely on it for ties).
      const sets = this.#sets;
      this.#pending.sort((a, b) => sets.indexOf(a) - sets.indexOf(b));
    }
    this.#cur = this.#pending.length === 1 ? first.at() : this.#combine(this.#pending.map((s) => s.at()));
    return true;
  }

  at(): S {
    if (this.#cur === undefined) throw new RangeError('at() called without a current series');
    return this.#cur;
  }

  err(): Error | null {
    return this.#err;
  }

  warnings(): Warnings {
    const out: string[] = [];
    for (const s of this.#sets) for (const w of s.warnings()) if (!out.includes(w)) out.push(w);
    return out;
  }
}

/**
 * mergeSeriesSets merges label-sorted series sets into one sorted set. Series with equal labels in
 * several inputs (overlapping blocks, replicas already relabelled) become one series whose samples
 * are the union by timestamp: when several inputs have a sample at the same timestamp, the one
 * from the earliest input wins. Inputs must each be sorted with unique labels.
 */
export function mergeSeriesSets(sets: readonly SeriesSet[]): SeriesSet {
  if (sets.length === 1) return sets[0]!;
  return new MergeSet<Series>([...sets], (group) => new VerticalSeries(group));
}

/**
 * mergeChunkSeriesSets merges label-sorted chunk series sets. Equal-labelled series are combined
 * by `merge` (a ChunkSeriesMergeFunc, e.g. compactingChunkSeriesMerger) or, by default, into one
 * whose chunks are all inputs' chunks ordered by (minTime, maxTime), dropping exact duplicates
 * (same time range and bytes); the remaining chunks may then overlap.
 */
export function mergeChunkSeriesSets(sets: readonly ChunkSeriesSet[], merge?: (series: readonly ChunkSeries[]) => ChunkSeries): ChunkSeriesSet {
  if (sets.length === 1) return sets[0]!;
  return new MergeSet<ChunkSeries>([...sets], merge ?? ((group) => new VerticalChunkSeries(group)));
}

/** VerticalSeries is the sample-level union of equal-labelled series. */
class VerticalSeries implements Series {
  readonly #parts: Series[];
  constructor(parts: Series[]) {
    this.#parts = parts;
  }
  labels(): Labels {
    return this.#parts[0]!.labels();
  }
  iterator(reuse?: SampleIterator): SampleIterator {
    if (reuse instanceof ChainSampleIterator) {
      reuse.reset(this.#parts.map((p, i) => p.iterator(reuse.child(i))));
      return reuse;
    }
    return new ChainSampleIterator(this.#parts.map((p) => p.iterator()));
  }
}

/**
 * ChainSampleIterator merges several sample iterators by timestamp, yielding each timestamp once
 * (the earliest iterator having it wins). No allocation per sample.
 */
export class ChainSampleIterator implements SampleIterator {
  #its: SampleIterator[];
  #types: ValueType[];
  #cur = -1;
  #started = false;

  constructor(its: SampleIterator[]) {
    this.#its = its;
    this.#types = its.map(() => ValueType.None);
  }

  /** child returns the i-th child iterator (for reuse), if any. */
  child(i: number): SampleIterator | undefined {
    return this.#its[i];
  }

  reset(its: SampleIterator[]): void {
    this.#its = its;
    this.#types = its.map(() => ValueType.None);
    this.#cur = -1;
    this.#started = false;
  }

  #pick(): ValueType {
    let best = -1;
    let bt = 0;
    for (let i = 0; i < this.#its.length; i++) {
      if (this.#types[i] === ValueType.None) continue;
      const t = this.#its[i]!.atT();
      if (best < 0 || t < bt) {
        best = i;
        bt = t;
      }
    }
    this.#cur = best;
    return best < 0 ? ValueType.None : this.#types[best]!;
  }

  next(): ValueType {
    if (!this.#started) {
      this.#started = true;
      for (let i = 0; i < this.#its.length; i++) this.#types[i] = this.#its[i]!.next();
      return this.#pick();
    }
    if (this.#cur < 0) return ValueType.None;
    const t = this.#its[this.#cur]!.atT();
    for (let i = 0; i < this.#its.length; i++) {
      if (this.#types[i] !== ValueType.None && this.#its[i]!.atT() === t) this.#types[i] = this.#its[i]!.next();
    }
    return this.#pick();
  }

  seek(t: number): ValueType {
    if (this.#started) {
      if (this.#cur < 0) return ValueType.None;
      if (this.#its[this.#cur]!.atT() >= t) return this.#types[this.#cur]!;
    }
    for (let i = 0; i < this.#its.length; i++) {
      if (!this.#started || (this.#types[i] !== ValueType.None && this.#its[i]!.atT() < t)) this.#types[i] = this.#its[i]!.seek(t);
    }
    this.#started = true;
    return this.#pick();
  }

  atT(): number {
    return this.#its[this.#cur]!.atT();
  }

  atF(): number {
    return this.#its[this.#cur]!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#its[this.#cur]!.atFloatHistogram(into);
  }

  err(): Error | null {
    for (const it of this.#its) {
      const e = it.err();
      if (e !== null) return e;
    }
    return null;
  }
}

class VerticalChunkSeries implements ChunkSeries {
  readonly #parts: ChunkSeries[];
  constructor(parts: ChunkSeries[]) {
    this.#parts = parts;
  }
  labels(): Labels {
    return this.#parts[0]!.labels();
  }
  chunks(): Iterable<ChunkMeta> {
    const all: ChunkMeta[] = [];
    for (const p of this.#parts) for (const c of p.chunks()) all.push(c);
    all.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
    const out: ChunkMeta[] = [];
    for (const c of all) {
      const prev = out[out.length - 1];
      if (prev !== undefined && prev.minTime === c.minTime && prev.maxTime === c.maxTime && sameBytes(prev.chunk.bytes(), c.chunk.bytes())) continue;
      out.push(c);
    }
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
