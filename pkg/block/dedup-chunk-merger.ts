import { Encoding, type Chunk, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { ChunkIntervalIterator, DedupIterator, splitOverlapping } from '../dedup/index.js';
import type { Labels } from '../labels/index.js';
import {
  ChainSampleIterator,
  ChunkListIterator,
  compactingChunkSeriesMerger,
  encodeSamples,
  mergeAggrChunks,
  overlappingChunkGroups,
  type ChunkSeries,
  type ChunkSeriesMergeFunc,
  type ChunkSeriesSet,
  type Warnings,
} from '../storage/index.js';

/** DedupChunkSeriesMergerOptions configure {@link dedupChunkSeriesMerger}. */
export interface DedupChunkSeriesMergerOptions {
  /**
   * algorithm is `--deduplication.func`: 'penalty' (default) merges replicas with pkg/dedup's
   * DedupIterator; 'chain' keeps one sample per timestamp (replicas with identical samples).
   */
  readonly algorithm?: 'penalty' | 'chain';
}

/** ReplicaChunkSeries is a chunk series tagged with the rank of the replica it belongs to. */
interface ReplicaChunkSeries extends ChunkSeries {
  readonly replicaRank: number;
}

function rankOf(s: ChunkSeries, fallback: number): number {
  const r = (s as Partial<ReplicaChunkSeries>).replicaRank;
  return typeof r === 'number' ? r : fallback;
}

/**
 * replicaChunkSeriesSet tags every series of set with its replica's rank for
 * {@link dedupChunkSeriesMerger}: give the blocks of one replica the same rank, and lower ranks to
 * the replicas to prefer (the querier prefers replicas in replica-label order, so rank the replica
 * label values in sorted order to get what the querier returns).
 */
export function replicaChunkSeriesSet(set: ChunkSeriesSet, rank: number): ChunkSeriesSet {
  let cur: ReplicaChunkSeries | undefined;
  return {
    next(): boolean {
      if (!set.next()) {
        cur = undefined;
        return false;
      }
      const s = set.at();
      cur = { labels: (): Labels => s.labels(), chunks: (): Iterable<ChunkMeta> => s.chunks(), replicaRank: rank };
      return true;
    },
    at(): ChunkSeries {
      if (cur === undefined) throw new RangeError('at() called without a current series');
      return cur;
    },
    err: (): Error | null => set.err(),
    warnings: (): Warnings => set.warnings(),
  };
}

/**
 * dedupChunkSeriesMerger returns the merge function of compaction-time replica deduplication
 * (algorithms.md §1.5): the inputs are the series of several replicas that are equal once the
 * replica label is gone (it is an external label, in meta.json). Identical chunks are kept once.
 * When the series has data from one replica only, it is merged as compactingChunkSeriesMerger
 * does (chunks that overlap nothing pass through untouched). Otherwise every replica's chunks
 * (split into non-overlapping runs within the replica, as the querier does) feed pkg/dedup's
 * DedupIterator in replica rank order (see replicaChunkSeriesSet; untagged inputs rank in input
 * order), without counter adjustment so the values stay raw, and the whole series is re-encoded in
 * chunks of 120 samples. So the result is what the querier's dedup returns for the same blocks.
 * Aggregate (0xFF) chunks are merged per aggregate.
 */
export function dedupChunkSeriesMerger(opts: DedupChunkSeriesMergerOptions = {}): ChunkSeriesMergeFunc {
  const chain = opts.algorithm === 'chain';
  const merge = chain ? (its: SampleIterator[]) => new ChainSampleIterator(its) : (its: SampleIterator[]) => new DedupIterator(its, { counter: false });
  return (series) => {
    if (series.length === 1) return series[0]!;
    const ranks = series.map((s, i) => rankOf(s, i));
    if (new Set(ranks).size === 1) return compactingChunkSeriesMerger(series);
    const what = (): string => series[0]!.labels().toString();
    return {
      labels: () => series[0]!.labels(),
      *chunks(): Generator<ChunkMeta> {
        // Identical chunks dropped; then one chunk list per replica, in rank order.
        const byRank = new Map<number, ChunkMeta[]>();
        for (const g of overlappingChunkGroups(series)) {
          for (const c of g) {
            const r = ranks[c.source]!;
            const l = byRank.get(r);
            if (l === undefined) byRank.set(r, [c.meta]);
            else l.push(c.meta);
          }
        }
        const runs: ChunkMeta[][] = [];
        for (const r of [...byRank.keys()].sort((a, b) => a - b)) runs.push(...splitOverlapping(byRank.get(r)!));
        if (runs.some((run) => run.some((c) => c.chunk.encoding() === Encoding.Aggr))) {
          yield mergeAggrChunks(runs, merge, what);
          return;
        }
        yield* encodeSamples(merge(runs.map((run) => (chain ? new ChunkListIterator(run.map((c): Chunk => c.chunk)) : new ChunkIntervalIterator(run.map((c): Chunk => c.chunk), run)))), what);
      },
    };
  };
}
