import { dedupChunkSeriesMerger, replicaChunkSeriesSet } from '../block/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import { Encoding, ValueType, type ChunkMeta } from '../chunkenc/index.js';
import { CompactorError, CompactorErrorCode } from './compactor-errors.js';
import {
  ListSeries,
  MergedChunkSeries,
  compactingChunkSeriesMerger,
  encodeSamples,
  mergeChunkSeriesSets,
  type ChunkSeries,
  type ChunkSeriesMergeFunc,
  type ChunkSeriesSet,
  type SourcedChunk,
} from '../storage/index.js';
import { BlockReader, StreamingBlockWriter } from '../tsdb/index.js';
import type { BlockMerger, MergeRequest, MergeResult } from './block-merger.js';

/** Options of the compactor's block merger. */
export interface StreamingMergerOptions {
  /**
   * dedupFunc is `--deduplication.func`: '' (default) merges overlapping chunks sample by sample,
   * one sample per timestamp (Prometheus's compacting merger); 'penalty' merges replicas with the
   * querier's penalty deduplication.
   */
  readonly dedupFunc?: '' | 'penalty' | string;
  /**
   * replicaLabels name the replica of each input block (from its own meta.json): with 'penalty'
   * the replicas are ranked by these labels' values in sorted order, as the querier prefers them.
   */
  readonly replicaLabels?: readonly string[];
}

const ALL = [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')];

/**
 * newStreamingMerger returns the compactor's BlockMerger: it opens the input blocks, merges their
 * label-sorted chunk series with the merge function (chunks that overlap nothing are copied byte
 * for byte, identical chunks kept once, overlapping ones re-encoded) and streams each merged
 * series into a StreamingBlockWriter, so memory holds one series' chunks at a time. The index
 * symbols are the union of the inputs' (as Prometheus's compactor does), so series entries go
 * straight into the index.
 */
export function newStreamingMerger(opts: StreamingMergerOptions = {}): BlockMerger {
  if (opts.dedupFunc === 'penalty') return new ChunkSeriesMerger(dedupChunkSeriesMerger({ algorithm: 'penalty' }), opts.replicaLabels ?? []);
  return new ChunkSeriesMerger(compactingChunkSeriesMerger, undefined);
}

class ChunkSeriesMerger implements BlockMerger {
  readonly #merge: ChunkSeriesMergeFunc;
  readonly #replicaLabels: readonly string[] | undefined;
  constructor(merge: ChunkSeriesMergeFunc, replicaLabels: readonly string[] | undefined) {
    this.#merge = merge;
    this.#replicaLabels = replicaLabels;
  }

  async merge(req: MergeRequest): Promise<MergeResult> {
    const readers: BlockReader[] = [];
    try {
      for (const d of req.inputDirs) readers.push(await BlockReader.open(d));
      const symbols = new Set<string>();
      for (const r of readers) {
        for (const name of r.index.labelNames()) {
          symbols.add(name);
          for (const v of r.index.labelValues(name)) symbols.add(v);
        }
      }
      const sets: ChunkSeriesSet[] = [];
      for (const r of readers) sets.push(await (await r.chunkQuerier(r.minTime, r.maxTime)).select(true, undefined, ALL));
      if (this.#replicaLabels !== undefined) {
        // Rank the replicas by their replica label values in sorted order (the querier's preference).
        const keys = readers.map((r) => this.#replicaLabels!.map((l) => r.meta.thanos?.labels[l] ?? '').join('\xff'));
        const ranked = [...new Set(keys)].sort();
        for (let i = 0; i < sets.length; i++) sets[i] = replicaChunkSeriesSet(sets[i]!, ranked.indexOf(keys[i]!));
      }
      const set = req.repair === true ? repairedSeriesSet(sets) : mergeChunkSeriesSets(sets, this.#merge);
      const w = await StreamingBlockWriter.create(req.outDir, {
        ulid: req.ulid,
        minTime: Math.min(...readers.map((r) => r.minTime)),
        maxTime: Math.max(...readers.map((r) => r.maxTime)),
        symbols,
        thanos: { labels: {}, downsample: { resolution: 0 }, source: 'compactor', index_stats: {} },
      });
      let series = 0;
      try {
        while (set.next()) {
          req.signal?.throwIfAborted();
          const s = set.at();
          await w.addSeries(s.labels(), s.chunks());
          series++;
        }
        const err = set.err();
        if (err !== null) throw err;
      } catch (err) {
        await w.abort();
        throw err;
      }
      if (series === 0) {
        await w.abort();
        return { stats: { numSamples: 0 } };
      }
      let b;
      try {
        b = await w.flush();
      } catch (err) {
        // A writer with only empty series has nothing to flush.
        if (/no samples/.test((err as Error).message)) return { stats: { numSamples: 0 } };
        throw err;
      }
      const is = b.meta.thanos?.index_stats ?? {};
      return {
        stats: b.meta.stats,
        ...(is.series_max_size !== undefined ? { seriesMaxSize: is.series_max_size } : {}),
        ...(is.chunk_max_size !== undefined ? { chunkMaxSize: is.chunk_max_size } : {}),
      };
    } finally {
      for (const r of readers) r.close();
    }
  }
}

/**
 * repairedSeriesSet rewrites the series of one block whose chunks are out of order or overlap:
 * chunks that overlap nothing pass through, each overlapping group is decoded, sorted by time and
 * re-encoded; equal samples at one timestamp are kept once, different values at one timestamp
 * make the block unrepairable.
 */
function repairedSeriesSet(sets: readonly ChunkSeriesSet[]): ChunkSeriesSet {
  if (sets.length !== 1) throw new RangeError('repair works on one block');
  const set = sets[0]!;
  let cur: ChunkSeries | undefined;
  return {
    next(): boolean {
      if (!set.next()) return false;
      const s = set.at();
      cur = new MergedChunkSeries([s], (group) => repairGroup(s, group));
      return true;
    },
    at(): ChunkSeries {
      if (cur === undefined) throw new RangeError('at() called without a current series');
      return cur;
    },
    err: () => set.err(),
    warnings: () => set.warnings(),
  };
}

function repairGroup(s: ChunkSeries, group: readonly SourcedChunk[]): Iterable<ChunkMeta> {
  const what = (): string => s.labels().toString();
  const pts: [number, number][] = [];
  for (const c of group) {
    if (c.meta.chunk.encoding() !== Encoding.XOR) {
      throw new CompactorError(CompactorErrorCode.GroupFault, `repair series ${what()}: overlapping chunks of encoding ${c.meta.chunk.encoding()} cannot be repaired`);
    }
    const it = c.meta.chunk.iterator();
    while (it.next() === ValueType.Float) pts.push([it.atT(), it.atF()]);
    const err = it.err();
    if (err !== null) throw err;
  }
  pts.sort((a, b) => a[0] - b[0]);
  const ts: number[] = [];
  const vs: number[] = [];
  for (const [t, v] of pts) {
    if (ts.length > 0 && ts[ts.length - 1] === t) {
      if (!Object.is(vs[vs.length - 1], v)) {
        throw new CompactorError(CompactorErrorCode.GroupFault, `repair series ${what()}: timestamp ${t} has two values (${vs[vs.length - 1]} and ${v})`);
      }
      continue;
    }
    ts.push(t);
    vs.push(v);
  }
  return encodeSamples(new ListSeries(s.labels(), ts, vs).iterator(), what);
}
