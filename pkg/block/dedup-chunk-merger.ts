import { Encoding, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { DedupIterator, splitOverlapping } from '../dedup/index.js';
import {
  ChainSampleIterator,
  ChunkListIterator,
  MergedChunkSeries,
  encodeSamples,
  mergeAggrChunks,
  type ChunkSeriesMergeFunc,
} from '../storage/index.js';

/** DedupChunkSeriesMergerOptions configure {@link dedupChunkSeriesMerger}. */
export interface DedupChunkSeriesMergerOptions {
  /**
   * algorithm is `--deduplication.func`: 'penalty' (default) merges replicas with pkg/dedup's
   * DedupIterator; 'chain' keeps one sample per timestamp (replicas with identical samples).
   */
  readonly algorithm?: 'penalty' | 'chain';
}

/**
 * dedupChunkSeriesMerger returns the merge function of compaction-time replica deduplication
 * (algorithms.md §1.5): the inputs are the series of several replicas that became equal once the
 * replica label was dropped. Chunks that overlap nothing pass through untouched and identical
 * chunks are kept once; in each group of overlapping chunks, every input's chunks (split into
 * non-overlapping runs, as the querier's overlap split does) form one replica, the replicas are
 * merged by the querier's DedupIterator without counter adjustment (the values stay the raw
 * ones), and the result is re-encoded in chunks of 120 samples. Overlapping aggregate chunks are
 * merged per aggregate.
 *
 * A group spanning a whole series gives exactly what pkg/dedup returns for that series; where
 * replicas do not overlap at all, their chunks are kept as they are.
 */
export function dedupChunkSeriesMerger(opts: DedupChunkSeriesMergerOptions = {}): ChunkSeriesMergeFunc {
  const merge = opts.algorithm === 'chain' ? (its: SampleIterator[]) => new ChainSampleIterator(its) : (its: SampleIterator[]) => new DedupIterator(its, { counter: false });
  return (series) => {
    if (series.length === 1) return series[0]!;
    const what = (): string => series[0]!.labels().toString();
    return new MergedChunkSeries(series, (group) => {
      const bySource = new Map<number, ChunkMeta[]>();
      for (const c of group) {
        const l = bySource.get(c.source);
        if (l === undefined) bySource.set(c.source, [c.meta]);
        else l.push(c.meta);
      }
      const replicas: ChunkMeta[][] = [];
      for (const l of bySource.values()) replicas.push(...splitOverlapping(l));
      if (group.some((c) => c.meta.chunk.encoding() === Encoding.Aggr)) return [mergeAggrChunks(replicas, merge, what)];
      return encodeSamples(merge(replicas.map((r) => new ChunkListIterator(r.map((c) => c.chunk)))), what);
    });
  };
}
