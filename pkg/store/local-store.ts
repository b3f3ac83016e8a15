import type { ChunkMeta } from '../chunkenc/index.js';
import { Labels, LabelsBuilder } from '../labels/index.js';
import type { ChunkQueryable, SelectHints } from '../storage/index.js';
import type {
  AggrChunk,
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  SeriesRequest,
  StoreChunk,
  StoreSeries,
} from '../storepb/index.js';
import { xxhash64 } from '../storepb/index.js';
import { ShardMatcher } from './shard-matcher.js';
import { matchExternalLabels, toMatchers } from './matchers.js';
import { sendSeries } from './send-series.js';
import { SeriesFrameWriter } from './series-frame-writer.js';
import { sortLimit } from './sort-limit.js';
import type { SeriesSink, StoreServer } from './store-api.js';
import { GrpcCode, StoreError, abortReason, toStoreError } from './store-error.js';

/** Options of a LocalStore. */
export interface LocalStoreOptions {
  /** queryable is the data; chunk queriers are opened per request over its time range. */
  readonly queryable: ChunkQueryable;
  /** externalLabels are added to every series (overriding same-named labels) and advertised. */
  readonly externalLabels?: Labels;
  /** timeRange returns the [minTime, maxTime] advertised in Info (default: everything). */
  readonly timeRange?: () => { minTime: number; maxTime: number };
  /** componentType is advertised in Info: 'sidecar', 'rule', 'receive', 'store', 'debug'… */
  readonly componentType?: string;
  /** chunkHashes fills Chunk.hash with xxHash64 of the data (default true, as Thanos stores do). */
  readonly chunkHashes?: boolean;
}

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

/**
 * LocalStore serves the StoreAPI over any ChunkQueryable (a TSDB head, blocks, an in-memory
 * storage), adding the external labels like the Thanos sidecar and ruler do. Chunks are passed on
 * as stored; series are sorted by their final labels (the result is buffered and re-sorted when
 * external labels or replica-label removal could change the order). Honours skip_chunks,
 * without_replica_labels (for external labels only), limit, response_batch_size and shard_info
 * (on the final labels); fills chunk hashes (xxHash64) unless disabled.
 */
export class LocalStore implements StoreServer {
  readonly #q: ChunkQueryable;
  readonly #ext: Labels;
  readonly #timeRange: () => { minTime: number; maxTime: number };
  readonly #component: string;
  readonly #hashes: boolean;

  constructor(opts: LocalStoreOptions) {
    this.#q = opts.queryable;
    this.#ext = opts.externalLabels ?? Labels.EMPTY;
    this.#timeRange = opts.timeRange ?? (() => ({ minTime: MIN_INT64, maxTime: MAX_INT64 }));
    this.#component = opts.componentType ?? 'debug';
    this.#hashes = opts.chunkHashes ?? true;
  }

  info(): Promise<InfoResponse> {
    const { minTime, maxTime } = this.#timeRange();
    const labelSets = this.#ext.isEmpty() ? [] : [this.#ext];
    return Promise.resolve({
      labelSets,
      componentType: this.#component,
      store: {
        minTime,
        maxTime,
        supportsSharding: true,
        supportsWithoutReplicaLabels: true,
        tsdbInfos: [{ labels: this.#ext, minTime, maxTime }],
      },
    });
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    const matchers = matchExternalLabels(toMatchers(req.matchers), this.#ext);
    if (matchers === undefined) return;
    if (matchers.length === 0) throw new StoreError(GrpcCode.InvalidArgument, 'no matchers specified (excluding external labels)');
    if (signal.aborted) throw toStoreError(abortReason(signal), 'select series');
    const drop = new Set((req.withoutReplicaLabels ?? []).filter((n) => this.#ext.has(n)));
    const ext = drop.size === 0 ? this.#ext : this.#ext.without(drop);
    const hints: SelectHints = {
      start: req.minTime,
      end: req.maxTime,
      ...(req.skipChunks === true ? { func: 'series' } : {}),
      ...(req.queryHints?.stepMillis ? { step: req.queryHints.stepMillis } : {}),
      ...(req.queryHints?.func?.name ? { func: req.queryHints.func.name } : {}),
      ...(req.queryHints?.range?.millis ? { range: req.queryHints.range.millis } : {}),
      ...(req.queryHints?.grouping ? { grouping: req.queryHints.grouping.labels, by: req.queryHints.grouping.by } : {}),
    };
    const querier = await this.#q.chunkQuerier(req.minTime, req.maxTime);
    try {
      const set = await querier.select(true, hints, matchers, { signal });
      const out: StoreSeries[] = [];
      const builder = new LabelsBuilder();
      const shard = ShardMatcher.of(req.shardInfo);
      let n = 0;
      while (set.next()) {
        if ((++n & 0xff) === 0 && signal.aborted) throw abortReason(signal);
        const s = set.at();
        const labels = withExternalLabels(builder, s.labels(), ext, drop);
        if (shard !== undefined && !shard.matches(labels)) continue;
        out.push({ labels, chunks: req.skipChunks === true ? [] : toAggrChunks(s.chunks(), req.minTime, req.maxTime, this.#hashes) });
      }
      if (set.err() !== null) throw toStoreError(set.err(), 'select series');
      // Adding external labels can move a series behind another (a label-set prefix gets a
      // label appended), so sort by the final label sets; stable, so equal sets stay in order.
      if (!ext.isEmpty() || drop.size > 0) out.sort((a, b) => Labels.compare(a.labels, b.labels));
      const w = new SeriesFrameWriter(sink, req.responseBatchSize ?? 0);
      for (const warn of set.warnings()) await w.warning(warn);
      await sendSeries(w, out, req.limit, signal);
    } catch (err) {
      throw toStoreError(err, 'select series');
    } finally {
      await querier.close();
    }
  }

  async labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> {
    const matchers = matchExternalLabels(toMatchers(req.matchers), this.#ext);
    if (matchers === undefined) return { names: [], warnings: [] };
    const drop = new Set(req.withoutReplicaLabels ?? []);
    const querier = await this.#q.chunkQuerier(req.start, req.end);
    try {
      const res = await querier.labelNames(matchers, req.limit ? { limit: req.limit } : {}, { signal });
      const names = new Set(res.values);
      if (res.values.length > 0 || matchers.length === 0) this.#ext.forEach((n) => names.add(n));
      for (const d of drop) if (this.#ext.has(d)) names.delete(d);
      return { names: sortLimit([...names], req.limit), warnings: [...res.warnings] };
    } catch (err) {
      throw toStoreError(err, 'get label names');
    } finally {
      await querier.close();
    }
  }

  async labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> {
    if (req.label === '') throw new StoreError(GrpcCode.InvalidArgument, 'label name parameter cannot be empty');
    const matchers = matchExternalLabels(toMatchers(req.matchers), this.#ext);
    if (matchers === undefined) return { values: [], warnings: [] };
    if (this.#ext.has(req.label)) {
      if ((req.withoutReplicaLabels ?? []).includes(req.label)) return { values: [], warnings: [] };
      if (matchers.length > 0) {
        // The external value only counts when the other matchers select something.
        const names = await this.labelNames({ start: req.start, end: req.end, matchers }, signal);
        if (names.names.length === 0) return { values: [], warnings: [] };
      }
      return { values: [this.#ext.get(req.label)], warnings: [] };
    }
    const querier = await this.#q.chunkQuerier(req.start, req.end);
    try {
      const res = await querier.labelValues(req.label, matchers, req.limit ? { limit: req.limit } : {}, { signal });
      return { values: sortLimit([...res.values], req.limit), warnings: [...res.warnings] };
    } catch (err) {
      throw toStoreError(err, `get values of label ${req.label}`);
    } finally {
      await querier.close();
    }
  }
}


/**
 * withExternalLabels returns ls with ext added (ext wins over same-named labels) and the replica
 * labels in drop removed, as the Thanos sidecar does for without_replica_labels.
 */
export function withExternalLabels(b: LabelsBuilder, ls: Labels, ext: Labels, drop: ReadonlySet<string> = new Set()): Labels {
  if (ext.isEmpty() && drop.size === 0) return ls;
  b.reset(ls);
  for (const d of drop) b.del(d);
  ext.forEach((n, v) => b.set(n, v));
  return b.labels();
}

/**
 * toAggrChunks converts chunk metas overlapping [mint, maxt] to raw AggrChunks, passing the
 * encoded bytes through (the StoreAPI encoding number is the TSDB one minus one).
 */
export function toAggrChunks(metas: Iterable<ChunkMeta>, mint: number, maxt: number, hashes = false): AggrChunk[] {
  const out: AggrChunk[] = [];
  for (const m of metas) {
    if (m.maxTime < mint || m.minTime > maxt) continue;
    const data = m.chunk.bytes();
    const h = hashes ? xxhash64(data) : undefined;
    const raw: StoreChunk = { type: (m.chunk.encoding() - 1) as StoreChunk['type'], data, hashHi: h?.hi ?? 0, hashLo: h?.lo ?? 0 };
    out.push({ minTime: m.minTime, maxTime: m.maxTime, raw });
  }
  out.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
  return out;
}
