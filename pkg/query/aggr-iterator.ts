import { AverageIterator, CounterResetsIterator, chunkFromData, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import { Aggr, type AggrChunk } from '../storepb/index.js';
import { ChainSampleIterator, ChunkListIterator } from '../storage/index.js';

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
export function toChunk(c: { type: number; data: Uint8Array }): Chunk {
  return chunkFromData(c.type + 1, c.data);
}

/**
 * aggrChunkIterator returns a sample iterator over one run of AggrChunks (sorted, non-overlapping)
 * for the requested aggregates, bounded to [mint, maxt]: raw chunks as they are; downsampled ones
 * rebuilt from their sub-chunks (min, max, count, sum, counter through chunkenc's
 * CounterResetsIterator, or sum/count averages through its AverageIterator).
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
  // Averages: per chunk, as Thanos does, since a raw chunk's values are the samples themselves
  // (a series crossing the raw/downsampled boundary has both kinds): each stretch of raw chunks
  // read as it is, each stretch of aggregate chunks as sum / count, the stretches chained.
  const parts: SampleIterator[] = [];
  let i = 0;
  while (i < chunks.length) {
    const isRaw = chunks[i]!.raw !== undefined;
    let j = i;
    while (j < chunks.length && (chunks[j]!.raw !== undefined) === isRaw) j++;
    const seg = chunks.slice(i, j);
    if (isRaw) parts.push(new ChunkListIterator(seg.map((c) => toChunk(c.raw!)), mint, maxt));
    else {
      const sub = (a: 'sum' | 'count') => seg.map((c) => c[a]).filter((c) => c !== undefined).map(toChunk);
      parts.push(new AverageIterator(new ChunkListIterator(sub('sum'), mint, maxt), new ChunkListIterator(sub('count'), mint, maxt)));
    }
    i = j;
  }
  return parts.length === 1 ? parts[0]! : new ChainSampleIterator(parts);
}
