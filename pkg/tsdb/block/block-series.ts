import { Encoding, FloatHistogramChunk, HistogramAppendResult, HistogramChunk, ValueType, XorChunk, type Chunk, type ChunkMeta, type SampleIterator } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';
import type { ChunkSeries, Series } from '../../storage/index.js';
import type { ChunkSegmentReader } from '../chunks/index.js';
import type { IndexChunkMeta } from '../index/index.js';
import type { Interval } from '../tombstones/index.js';

const noIntervals: readonly Interval[] = [];

/**
 * BlockSeriesIterator iterates the samples of one series of a block: its chunks in order, read
 * from the segment files when reached, trimmed to [mint, maxt] and without samples inside deleted
 * (tombstoned) intervals. Reusable via reset; nothing is allocated per sample.
 */
export class BlockSeriesIterator implements SampleIterator {
  #chunks: ChunkSegmentReader | undefined;
  #metas: readonly IndexChunkMeta[] = [];
  #mint = 0;
  #maxt = 0;
  #deleted: readonly Interval[] = noIntervals;
  #del = 0;
  #ci = -1;
  #it: SampleIterator | undefined;
  #spare: SampleIterator | undefined;
  #type: ValueType = ValueType.None;
  #done = false;
  #err: Error | null = null;

  reset(chunks: ChunkSegmentReader, metas: readonly IndexChunkMeta[], mint: number, maxt: number, deleted: readonly Interval[]): this {
    this.#chunks = chunks;
    this.#metas = metas;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#deleted = deleted;
    this.#del = 0;
    this.#ci = -1;
    if (this.#it !== undefined) this.#spare = this.#it;
    this.#it = undefined;
    this.#type = ValueType.None;
    this.#done = false;
    this.#err = null;
    return this;
  }

  #finish(): ValueType {
    this.#done = true;
    this.#type = ValueType.None;
    return ValueType.None;
  }

  /** Opens chunk ci; false on error. */
  #open(ci: number): boolean {
    this.#ci = ci;
    try {
      const c = this.#chunks!.chunk(this.#metas[ci]!.ref);
      this.#it = c.iterator(this.#it ?? this.#spare);
      return true;
    } catch (err) {
      this.#err = err as Error;
      return false;
    }
  }

  #isDeleted(t: number): boolean {
    const d = this.#deleted;
    while (this.#del < d.length && d[this.#del]!.maxTime < t) this.#del++;
    return this.#del < d.length && d[this.#del]!.minTime <= t;
  }

  /** Accepts the sample the chunk iterator is on, or moves on; `advance` is the chunk iterator's result. */
  #settle(advance: ValueType): ValueType {
    let vt = advance;
    for (;;) {
      if (vt === ValueType.None) {
        const e = this.#it?.err() ?? null;
        if (e !== null) {
          this.#err = e;
          return this.#finish();
        }
        if (this.#ci + 1 >= this.#metas.length || this.#metas[this.#ci + 1]!.minTime > this.#maxt) return this.#finish();
        if (!this.#open(this.#ci + 1)) return this.#finish();
        vt = this.#it!.seek(this.#mint);
        continue;
      }
      const t = this.#it!.atT();
      if (t > this.#maxt) return this.#finish();
      if (t >= this.#mint && !this.#isDeleted(t)) {
        this.#type = vt;
        return vt;
      }
      vt = this.#it!.next();
    }
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#it === undefined) {
      // First call: skip chunks entirely before mint.
      let ci = 0;
      while (ci < this.#metas.length && this.#metas[ci]!.maxTime < this.#mint) ci++;
      if (ci >= this.#metas.length || this.#metas[ci]!.minTime > this.#maxt) return this.#finish();
      if (!this.#open(ci)) return this.#finish();
      return this.#settle(this.#it!.seek(this.#mint));
    }
    return this.#settle(this.#it.next());
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#it !== undefined && this.#type !== ValueType.None && this.#it.atT() >= t) return this.#type;
    const target = Math.max(t, this.#mint);
    let ci = this.#it === undefined ? 0 : this.#ci;
    while (ci < this.#metas.length && this.#metas[ci]!.maxTime < target) ci++;
    if (ci >= this.#metas.length || this.#metas[ci]!.minTime > this.#maxt) return this.#finish();
    if (ci !== this.#ci || this.#it === undefined) {
      if (!this.#open(ci)) return this.#finish();
    }
    return this.#settle(this.#it!.seek(target));
  }

  atT(): number {
    return this.#it!.atT();
  }

  atF(): number {
    return this.#it!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#it!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }
}

/** BlockSeries is a Series of a block restricted to [mint, maxt], honouring tombstones. */
export class BlockSeries implements Series {
  readonly #lset: Labels;
  readonly #chunks: ChunkSegmentReader;
  readonly #metas: readonly IndexChunkMeta[];
  readonly #mint: number;
  readonly #maxt: number;
  readonly #deleted: readonly Interval[];

  constructor(lset: Labels, chunks: ChunkSegmentReader, metas: readonly IndexChunkMeta[], mint: number, maxt: number, deleted: readonly Interval[]) {
    this.#lset = lset;
    this.#chunks = chunks;
    this.#metas = metas;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#deleted = deleted;
  }

  labels(): Labels {
    return this.#lset;
  }

  iterator(reuse?: SampleIterator): SampleIterator {
    const it = reuse instanceof BlockSeriesIterator ? reuse : new BlockSeriesIterator();
    return it.reset(this.#chunks, this.#metas, this.#mint, this.#maxt, this.#deleted);
  }
}

/**
 * BlockChunkSeries is a ChunkSeries of a block: the chunks overlapping the query range, untrimmed.
 * Chunks touched by a tombstone are re-encoded without the deleted samples (dropped when empty).
 * chunks() reads from the segment files and throws their errors (ChunkSegmentError).
 */
export class BlockChunkSeries implements ChunkSeries {
  readonly #lset: Labels;
  readonly #chunks: ChunkSegmentReader;
  readonly #metas: readonly IndexChunkMeta[];
  readonly #deleted: readonly Interval[];

  constructor(lset: Labels, chunks: ChunkSegmentReader, metas: readonly IndexChunkMeta[], deleted: readonly Interval[]) {
    this.#lset = lset;
    this.#chunks = chunks;
    this.#metas = metas;
    this.#deleted = deleted;
  }

  labels(): Labels {
    return this.#lset;
  }

  chunks(): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (const m of this.#metas) {
      const chunk = this.#chunks.chunk(m.ref);
      const touched = this.#deleted.some((iv) => iv.minTime <= m.maxTime && iv.maxTime >= m.minTime);
      if (!touched) {
        out.push({ ref: m.ref, minTime: m.minTime, maxTime: m.maxTime, chunk });
        continue;
      }
      const rewritten = withoutDeleted(chunk, this.#deleted);
      if (rewritten !== undefined) out.push({ ref: m.ref, ...rewritten });
    }
    return out;
  }
}

/**
 * Re-encodes a chunk without the samples inside the intervals; undefined when none remain. Float
 * chunks become XOR chunks; histogram chunks keep their encoding and counter reset header (the
 * layout is fixed within a chunk, so every kept sample fits).
 */
function withoutDeleted(chunk: Chunk, deleted: readonly Interval[]): { minTime: number; maxTime: number; chunk: Chunk } | undefined {
  const enc = chunk.encoding();
  const isHist = enc === Encoding.Histogram || enc === Encoding.FloatHistogram;
  const it = chunk.iterator();
  const xor = isHist ? undefined : new XorChunk();
  const xapp = xor?.appender();
  const hc = !isHist ? undefined : enc === Encoding.Histogram ? new HistogramChunk() : new FloatHistogramChunk();
  const happ = hc?.appender();
  const h = new FloatHistogram();
  let minTime = 0;
  let maxTime = 0;
  let n = 0;
  let d = 0;
  while (it.next() !== ValueType.None) {
    const t = it.atT();
    while (d < deleted.length && deleted[d]!.maxTime < t) d++;
    if (d < deleted.length && deleted[d]!.minTime <= t) continue;
    if (n === 0) minTime = t;
    maxTime = t;
    if (xapp !== undefined) {
      xapp.append(t, it.atF());
    } else {
      const res = happ!.appendHistogram(t, it.atFloatHistogram(h));
      if (res !== HistogramAppendResult.Appended) throw new RangeError(`re-encode histogram chunk without deleted samples: sample at ${t} does not fit (result ${res})`);
      // The first append sets the header from the sample's hint; keep the original chunk's instead.
      if (n === 0) hc!.setCounterResetHeader((chunk as HistogramChunk | FloatHistogramChunk).counterResetHeader());
    }
    n++;
  }
  const e = it.err();
  if (e !== null) throw e;
  return n === 0 ? undefined : { minTime, maxTime, chunk: (xor ?? hc)! };
}
