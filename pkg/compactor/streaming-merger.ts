import { dedupChunkSeriesMerger, replicaChunkSeriesSet } from '../block/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import { Encoding, ValueType, floatBits, type ChunkMeta } from '../chunkenc/index.js';
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

/** sameBits tells whether two floats have the same bit pattern (a StaleNaN is not a plain NaN). */
function sameBits(a: number, b: number): boolean {
  if (a === a || b === b) return Object.is(a, b);
  floatBits.f64[0] = a;
  const hi = floatBits.u32[floatBits.HI];
  const lo = floatBits.u32[floatBits.LO];
  floatBits.f64[0] = b;
  return hi === floatBits.u32[floatBits.HI] && lo === floatBits.u32[floatBits.LO];
}

function repairGroup(s: ChunkSeries, group: readonly SourcedChunk[]): Iterable<ChunkMeta> {
  const what = (): string => s.labels().toString();
  // Values in Float64Arrays, never in a number[] or [t, v] tuples: those canonicalise NaN payloads
  // and a stale marker would come out as a plain NaN.
  let n = 0;
  for (const c of group) n += c.meta.chunk.numSamples();
  const pt = new Float64Array(n);
  const pv = new Float64Array(n);
  n = 0;
  for (const c of group) {
    if (c.meta.chunk.encoding() !== Encoding.XOR) {
      throw new CompactorError(CompactorErrorCode.GroupFault, `repair series ${what()}: overlapping chunks of encoding ${c.meta.chunk.encoding()} cannot be repaired`);
    }
    const it = c.meta.chunk.iterator();
    while (it.next() === ValueType.Float && n < pt.length) {
      pt[n] = it.atT();
      pv[n] = it.atF();
      n++;
    }
    const err = it.err();
    if (err !== null) throw err;
  }
  // A stable sort of the sample indices by time keeps the chunks' order at equal timestamps.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pt[a]! - pt[b]! || a - b);
  const ts: number[] = [];
  const vs = new Float64Array(n);
  let m = 0;
  for (const i of order) {
    const t = pt[i]!;
    const v = pv[i]!;
    if (m > 0 && ts[m - 1] === t) {
      if (!sameBits(vs[m - 1]!, v)) {
        throw new CompactorError(CompactorErrorCode.GroupFault, `repair series ${what()}: timestamp ${t} has two values (${vs[m - 1]} and ${v})`);
      }
      continue;
    }
    ts.push(t);
    vs[m++] = v;
  }
  return encodeSamples(new ListSeries(s.labels(), ts, vs.subarray(0, m)).iterator(), what);
}
