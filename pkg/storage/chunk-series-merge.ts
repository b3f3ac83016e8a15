import { AGGR_TYPES, AggrChunk, Encoding, ValueType, XorChunk, type Chunk, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { TesseraError } from '../errors/index.js';
import type { Labels } from '../labels/index.js';
import { ChunkListIterator } from './chunk-list-iterator.js';
import type { ChunkSeries } from './interface.js';
import { ChainSampleIterator } from './merge-series-set.js';
import { SampleChunkEncoder } from './sample-chunk-encoder.js';

/**
 * ChunkSeriesMergeFunc merges chunk series with equal labels (from several sets, e.g. overlapping
 * blocks or replicas) into one, as Prometheus's VerticalChunkSeriesMergeFunc. Each input's chunks
 * are ordered by minTime; the output's chunks must be ordered and must not overlap.
 */
export type ChunkSeriesMergeFunc = (series: readonly ChunkSeries[]) => ChunkSeries;

/** SourcedChunk is a chunk with the index of the input series it came from. */
export interface SourcedChunk {
  readonly meta: ChunkMeta;
  readonly source: number;
}

/** MergeChunkGroup turns a group of overlapping chunks (two or more, ordered by minTime) into ordered, non-overlapping chunks. */
export type MergeChunkGroup = (group: readonly SourcedChunk[]) => Iterable<ChunkMeta>;

/** MergeChunkErrorCode is the code of errors raised while merging chunks. */
export const MergeChunkErrorCode = 'TESSERA_MERGE_CHUNKS';

function sameChunk(a: ChunkMeta, b: ChunkMeta): boolean {
  if (a.minTime !== b.minTime || a.maxTime !== b.maxTime || a.chunk.encoding() !== b.chunk.encoding()) return false;
  const x = a.chunk.bytes();
  const y = b.chunk.bytes();
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * overlappingChunkGroups collects the chunks of the series, orders them by (minTime, maxTime),
 * drops chunks identical to an earlier one (same time range, encoding and bytes) and yields runs
 * of transitively overlapping chunks: a run of one chunk overlaps nothing and can be passed
 * through untouched.
 */
export function* overlappingChunkGroups(series: readonly ChunkSeries[]): Generator<SourcedChunk[]> {
  const all: SourcedChunk[] = [];
  for (let i = 0; i < series.length; i++) for (const meta of series[i]!.chunks()) all.push({ meta, source: i });
  all.sort((a, b) => a.meta.minTime - b.meta.minTime || a.meta.maxTime - b.meta.maxTime || a.source - b.source);
  let group: SourcedChunk[] = [];
  let groupMax = -Infinity;
  for (const c of all) {
    if (group.length > 0 && c.meta.minTime > groupMax) {
      yield group;
      group = [];
    }
    let dup = false;
    for (let j = group.length - 1; j >= 0 && group[j]!.meta.minTime === c.meta.minTime; j--) {
      if (sameChunk(group[j]!.meta, c.meta)) {
        dup = true;
        break;
      }
    }
    if (dup) continue;
    group.push(c);
    if (group.length === 1 || c.meta.maxTime > groupMax) groupMax = c.meta.maxTime;
  }
  if (group.length > 0) yield group;
}

/**
 * MergedChunkSeries is the merge of equal-labelled chunk series: chunks that overlap nothing pass
 * through untouched, each group of overlapping chunks goes through `mergeGroup`. Chunks are
 * produced lazily, one group at a time.
 */
export class MergedChunkSeries implements ChunkSeries {
  readonly #parts: readonly ChunkSeries[];
  readonly #mergeGroup: MergeChunkGroup;

  constructor(parts: readonly ChunkSeries[], mergeGroup: MergeChunkGroup) {
    if (parts.length === 0) throw new RangeError('MergedChunkSeries needs at least one series');
    this.#parts = parts;
    this.#mergeGroup = mergeGroup;
  }

  labels(): Labels {
    return this.#parts[0]!.labels();
  }

  *chunks(): Generator<ChunkMeta> {
    for (const g of overlappingChunkGroups(this.#parts)) {
      if (g.length === 1) yield g[0]!.meta;
      else yield* this.#mergeGroup(g);
    }
  }
}

/**
 * encodeSamples drains a merged sample iterator into chunks (SampleChunkEncoder, 120 samples per
 * chunk), yielding chunks as they fill. `what` names the series in errors.
 */
export function* encodeSamples(it: SampleIterator, what: () => string): Generator<ChunkMeta> {
  const enc = new SampleChunkEncoder();
  for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
    enc.appendFrom(it, vt);
    if (enc.numPending > 0) yield* enc.drain();
  }
  const err = it.err();
  if (err !== null) throw new TesseraError(MergeChunkErrorCode, `merge chunks of ${what()}: ${err.message}`, { cause: err });
  yield* enc.finish();
}

function asAggr(c: Chunk): AggrChunk {
  return c instanceof AggrChunk ? c : AggrChunk.fromBytes(c.bytes());
}

/**
 * mergeAggrChunks merges overlapping aggregate (0xFF) chunks into one: each aggregate (count, sum,
 * min, max, counter) separately, `merge` combining one sample iterator per list (lists are
 * replicas: each a time-ordered, non-overlapping chunk list), re-encoded as one XOR sub-chunk.
 */
export function mergeAggrChunks(lists: readonly (readonly ChunkMeta[])[], merge: (its: SampleIterator[]) => SampleIterator, what: () => string): ChunkMeta {
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const l of lists) {
    for (const c of l) {
      if (c.chunk.encoding() !== Encoding.Aggr) throw new TesseraError(MergeChunkErrorCode, `merge chunks of ${what()}: an aggregate chunk overlaps a chunk of encoding ${c.chunk.encoding()}`);
      if (c.minTime < minTime) minTime = c.minTime;
      if (c.maxTime > maxTime) maxTime = c.maxTime;
    }
  }
  const aggrs = lists.map((l) => l.map((c) => asAggr(c.chunk)));
  const subs: (Chunk | null)[] = [];
  for (const t of AGGR_TYPES) {
    const its: SampleIterator[] = [];
    for (const l of aggrs) {
      const parts = l.map((a) => a.get(t)).filter((c): c is Chunk => c !== null);
      if (parts.length > 0) its.push(new ChunkListIterator(parts));
    }
    if (its.length === 0) {
      subs.push(null);
      continue;
    }
    const it = merge(its);
    const out = new XorChunk();
    const app = out.appender();
    let n = 0;
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      if (vt !== ValueType.Float) throw new TesseraError(MergeChunkErrorCode, `merge chunks of ${what()}: aggregate sub-chunk holds non-float samples`);
      app.append(it.atT(), it.atF());
      n++;
    }
    const err = it.err();
    if (err !== null) throw new TesseraError(MergeChunkErrorCode, `merge chunks of ${what()}: ${err.message}`, { cause: err });
    subs.push(n > 0 ? out : null);
  }
  return { ref: 0, minTime, maxTime, chunk: AggrChunk.encode(subs) };
}

/**
 * compactingChunkSeriesMerger is Prometheus's NewCompactingChunkSeriesMerger(ChainedSeriesMerge):
 * chunks that overlap nothing pass through untouched, identical chunks are kept once, and each
 * group of overlapping chunks is decoded, merged sample by sample (one sample per timestamp; on a
 * tie the chunk that sorts first by (minTime, maxTime, input) wins) and re-encoded into chunks of
 * 120 samples. Overlapping aggregate chunks are merged per aggregate the same way.
 */
export const compactingChunkSeriesMerger: ChunkSeriesMergeFunc = (series) => {
  if (series.length === 1) return series[0]!;
  const what = (): string => series[0]!.labels().toString();
  return new MergedChunkSeries(series, (group) => {
    if (group.some((c) => c.meta.chunk.encoding() === Encoding.Aggr)) {
      return [mergeAggrChunks(group.map((c) => [c.meta]), (its) => new ChainSampleIterator(its), what)];
    }
    return encodeSamples(new ChainSampleIterator(group.map((c) => c.meta.chunk.iterator())), what);
  });
};
