import { ValueType, chunkFromData, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Aggr, type AggrChunk } from '../storepb/index.js';
import { ChunkListIterator } from '../storage/index.js';

/**
 * aggrsForFunc returns the aggregates to request from downsampled blocks for the PromQL function
 * around a selector (algorithms.md §5.3).
 */
export function aggrsForFunc(func: string | undefined): Aggr[] {
  const f = func ?? '';
  if (f === 'min' || f.startsWith('min_')) return [Aggr.MIN];
  if (f === 'max' || f.startsWith('max_')) return [Aggr.MAX];
  if (f === 'count' || f.startsWith('count_')) return [Aggr.COUNT];
  if (f.startsWith('sum_')) return [Aggr.SUM];
  if (['rate', 'increase', 'irate', 'resets', 'xrate', 'xincrease'].includes(f)) return [Aggr.COUNTER];
  return [Aggr.COUNT, Aggr.SUM];
}

/**
 * toChunk decodes a StoreAPI chunk into a Chunk without copying. StoreAPI numbers encodings from
 * XOR = 0, the TSDB from XOR = 1 (chunks.md §1), hence the + 1.
 */
function toChunk(c: { type: number; data: Uint8Array }): Chunk {
  return chunkFromData(c.type + 1, c.data);
}

/**
 * aggrChunkIterator returns a sample iterator over one run of AggrChunks (sorted, non-overlapping)
 * for the requested aggregates, bounded to [mint, maxt]: raw chunks as they are; downsampled ones
 * rebuilt from their sub-chunks (min, max, count, sum, counter through counter-reset application,
 * or sum/count averages).
 */
export function aggrChunkIterator(chunks: readonly AggrChunk[], aggrs: readonly Aggr[], mint: number, maxt: number): SampleIterator {
  if (chunks.every((c) => c.raw !== undefined)) {
    return new ChunkListIterator(chunks.map((c) => toChunk(c.raw!)), mint, maxt);
  }
  const pick = (a: keyof AggrChunk) => chunks.map((c) => (c.raw !== undefined ? c.raw : (c[a] as AggrChunk['raw']))).filter((c) => c !== undefined).map(toChunk);
  const want = aggrs[0];
  if (aggrs.length === 1 && want === Aggr.MIN) return new ChunkListIterator(pick('min'), mint, maxt);
  if (aggrs.length === 1 && want === Aggr.MAX) return new ChunkListIterator(pick('max'), mint, maxt);
  if (aggrs.length === 1 && want === Aggr.COUNT) return new ChunkListIterator(pick('count'), mint, maxt);
  if (aggrs.length === 1 && want === Aggr.SUM) return new ChunkListIterator(pick('sum'), mint, maxt);
  if (aggrs.length === 1 && want === Aggr.COUNTER) {
    return new CounterResetsIterator(new ChunkListIterator(pick('counter')), mint, maxt);
  }
  return new AverageIterator(new ChunkListIterator(pick('sum'), mint, maxt), new ChunkListIterator(pick('count'), mint, maxt));
}

/**
 * CounterResetsIterator reads Thanos counter aggregate chunks (algorithms.md §3.5): it yields a
 * monotonic total, treating a value drop as a reset, and uses a sample with a repeated timestamp
 * only to update the last raw value (the hidden "true last" of a window).
 */
export class CounterResetsIterator implements SampleIterator {
  readonly #it: SampleIterator;
  readonly #mint: number;
  readonly #maxt: number;
  #t = NaN;
  #total = 0;
  #lastV = NaN;
  #started = false;
  #done = false;
  readonly #scratch = new FloatHistogram();

  constructor(it: SampleIterator, mint: number, maxt: number) {
    this.#it = it;
    this.#mint = mint;
    this.#maxt = maxt;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    for (;;) {
      if (this.#it.next() === ValueType.None) return this.#finish();
      const t = this.#it.atT();
      const v = this.#it.atF();
      if (Number.isNaN(v)) continue;
      if (!this.#started) {
        this.#started = true;
        this.#total = v;
        this.#lastV = v;
        this.#t = t;
      } else if (t > this.#t) {
        this.#total += v >= this.#lastV ? v - this.#lastV : v;
        this.#lastV = v;
        this.#t = t;
      } else {
        if (t === this.#t) this.#lastV = v;
        continue;
      }
      if (this.#t > this.#maxt) return this.#finish();
      if (this.#t >= this.#mint) return ValueType.Float;
    }
  }

  #finish(): ValueType {
    this.#done = true;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#started && this.#t >= t && this.#t >= this.#mint) return ValueType.Float;
    while (this.next() !== ValueType.None) if (this.#t >= t) return ValueType.Float;
    return ValueType.None;
  }

  atT(): number {
    return this.#t;
  }

  atF(): number {
    return this.#total;
  }

  atFloatHistogram(): FloatHistogram {
    return this.#scratch;
  }

  err(): Error | null {
    return this.#it.err();
  }
}

/** AverageIterator zips sum and count iterators with equal timestamps into sum/count. */
export class AverageIterator implements SampleIterator {
  readonly #sum: SampleIterator;
  readonly #count: SampleIterator;
  readonly #scratch = new FloatHistogram();

  constructor(sum: SampleIterator, count: SampleIterator) {
    this.#sum = sum;
    this.#count = count;
  }

  #align(vt: ValueType): ValueType {
    while (vt !== ValueType.None) {
      const t = this.#sum.atT();
      const ct = this.#count.seek(t);
      if (ct === ValueType.None) return ValueType.None;
      if (this.#count.atT() === t) return ValueType.Float;
      vt = this.#sum.seek(this.#count.atT());
    }
    return ValueType.None;
  }

  next(): ValueType {
    return this.#align(this.#sum.next());
  }

  seek(t: number): ValueType {
    return this.#align(this.#sum.seek(t));
  }

  atT(): number {
    return this.#sum.atT();
  }

  atF(): number {
    return this.#sum.atF() / this.#count.atF();
  }

  atFloatHistogram(): FloatHistogram {
    return this.#scratch;
  }

  err(): Error | null {
    return this.#sum.err() ?? this.#count.err();
  }
}
