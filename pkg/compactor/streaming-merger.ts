import { dedupChunkSeriesMerger, replicaChunkSeriesSet } from '../block/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import { compactingChunkSeriesMerger, mergeChunkSeriesSets, type ChunkSeriesMergeFunc, type ChunkSeriesSet } from '../storage/index.js';
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
      const set = mergeChunkSeriesSets(sets, this.#merge);
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
