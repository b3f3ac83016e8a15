import type { ChunkMeta } from '../chunkenc/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import { mergeChunkSeriesSets, type ChunkSeriesSet } from '../storage/index.js';
import { BlockReader, BlockWriter } from '../tsdb/index.js';
import type { BlockMerger, MergeRequest, MergeResult } from './block-merger.js';

/** Options of the compactor's block merger. */
export interface StreamingMergerOptions {
  /** replicaLabels / dedupFunc select the merge of overlapping series (--deduplication.*). */
  readonly replicaLabels?: readonly string[];
  readonly dedupFunc?: '' | 'penalty' | string;
}

const ALL = [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')];

/**
 * newStreamingMerger returns the compactor's BlockMerger: it opens the input blocks, merges their
 * label-sorted chunk series (equal series concatenated, identical chunks dropped) and writes each
 * merged series' chunks as they come, byte for byte, so memory holds one series' chunks plus the
 * index entries. Overlapping inputs (vertical compaction) need the sample-level chunk-series
 * merge; until it is wired in, such a plan fails as a transient error and is retried.
 */
export function newStreamingMerger(opts: StreamingMergerOptions = {}): BlockMerger {
  return new ChunkSeriesMerger(opts);
}

class ChunkSeriesMerger implements BlockMerger {
  constructor(readonly opts: StreamingMergerOptions) {}

  async merge(req: MergeRequest): Promise<MergeResult> {
    if (req.overlapping) throw new Error(`merge ${req.inputDirs.join(', ')}: vertical compaction of overlapping blocks is not available yet`);
    const readers: BlockReader[] = [];
    try {
      for (const d of req.inputDirs) readers.push(await BlockReader.open(d));
      const sets: ChunkSeriesSet[] = [];
      for (const r of readers) sets.push(await (await r.chunkQuerier(r.minTime, r.maxTime)).select(true, undefined, ALL));
      const set = mergeChunkSeriesSets(sets);
      const minTime = Math.min(...readers.map((r) => r.minTime));
      const maxTime = Math.max(...readers.map((r) => r.maxTime));
      const w = await BlockWriter.create(req.outDir, { ulid: req.ulid, minTime, maxTime, thanos: { labels: {}, downsample: { resolution: 0 }, source: 'compactor', index_stats: {} } });
      let series = 0;
      try {
        while (set.next()) {
          req.signal?.throwIfAborted();
          const s = set.at();
          const chunks: ChunkMeta[] = [...s.chunks()];
          if (chunks.length === 0) continue;
          await w.addChunkSeries(s.labels(), chunks);
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
      const b = await w.flush();
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
