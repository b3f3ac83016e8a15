import { setMaxListeners } from 'node:events';
import { TesseraError } from '../errors/index.js';
import type { Matcher } from '../labels/index.js';
import type {
  CallOptions,
  ChunkQuerier,
  ChunkQueryable,
  ChunkSeriesSet,
  LabelHints,
  LabelResult,
  Querier,
  Queryable,
  SelectHints,
  SeriesSet,
} from '../storage/index.js';
import { ProxyStore, ShardMatcher, inProcessClient, type ProxyTarget, type StoreClient } from '../store/index.js';
import { PartialResponseStrategy, type LabelMatcher, type SeriesRequest, type ShardInfo } from '../storepb/index.js';
import { aggrsForFunc } from './aggr-iterator.js';
import { StoreSeriesStream } from './store-series-stream.js';

/** StoreQueryOptions are the per-request choices of the Thanos querier (flags and API params). */
export interface StoreQueryOptions {
  /** replicaLabels are removed and their series merged when dedup is on. */
  readonly replicaLabels: readonly string[];
  /** dedup enables replica deduplication (API `dedup`, default true). */
  readonly dedup: boolean;
  /** partialResponse: store failures become warnings (true) or fail the query (false). */
  readonly partialResponse: boolean;
  /** maxSourceResolutionMs allows downsampled data up to this resolution (0 = raw only). */
  readonly maxSourceResolutionMs?: number;
  /** timeoutMs is the gRPC deadline of each store call. */
  readonly timeoutMs?: number;
  /** storeMatchers restrict the stores asked (API `storeMatch[]`); passed to the client. */
  readonly storeMatchers?: readonly (readonly Matcher[])[];
  /**
   * shardInfo selects one vertical shard of the series (API `shard_info`): a series is read only
   * when the hash of its sharding labels falls in the shard (see effectiveShardInfo).
   */
  readonly shardInfo?: ShardInfo;
}

/**
 * effectiveShardInfo makes a shard a function of the labels a series keeps after dedup: with
 * replica labels removed, the replicas of one series must land in the same shard, so replica
 * labels never count (removed from `by` labels, added to `without` labels). Thanos hashes them
 * under `without`, which puts the replicas of a series in different shards and double-counts
 * their group across shards.
 */
export function effectiveShardInfo(info: ShardInfo | undefined, replica: ReadonlySet<string>): ShardInfo | undefined {
  if (info === undefined || info.totalShards < 1) return undefined;
  if (replica.size === 0) return info;
  const labels = info.by ? info.labels.filter((l) => !replica.has(l)) : [...new Set([...info.labels, ...replica])];
  return { ...info, labels };
}

/**
 * CreateStoreQueryableOptions name the StoreAPI source of createStoreQueryable: either one client
 * (usually an in-process ProxyStore) or the stores themselves, fanned out through a new ProxyStore.
 * replicaLabels alone turn dedup on (dedup defaults to true when any is given).
 */
export type CreateStoreQueryableOptions = Omit<StoreQueryOptions, 'dedup'> & {
  readonly dedup?: boolean;
  /** proxyResponseTimeoutMs bounds each store's next frame when `stores` are given (--store.response-timeout). */
  readonly proxyResponseTimeoutMs?: number;
} & ({ readonly client: StoreClient; readonly stores?: never } | { readonly stores: readonly ProxyTarget[] | (() => readonly ProxyTarget[]); readonly client?: never });

/**
 * createStoreQueryable returns the PromQL engine's Queryable (and ChunkQueryable) over StoreAPI
 * endpoints with replica dedup: what `tessera query` evaluates through, for any component that
 * runs the embedded engine over stores (the ruler).
 */
export function createStoreQueryable(opts: CreateStoreQueryableOptions): StoreQueryable {
  let client: StoreClient;
  if (opts.client !== undefined) client = opts.client;
  else {
    const stores = opts.stores;
    const targets = typeof stores === 'function' ? stores : () => stores;
    const proxy = new ProxyStore({ targets, componentType: 'query', ...(opts.proxyResponseTimeoutMs !== undefined ? { responseTimeoutMs: opts.proxyResponseTimeoutMs } : {}) });
    client = inProcessClient(proxy, 'proxy');
  }
  return new StoreQueryable(client, {
    replicaLabels: opts.replicaLabels,
    dedup: opts.dedup ?? opts.replicaLabels.length > 0,
    partialResponse: opts.partialResponse,
    ...(opts.maxSourceResolutionMs !== undefined ? { maxSourceResolutionMs: opts.maxSourceResolutionMs } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.storeMatchers !== undefined ? { storeMatchers: opts.storeMatchers } : {}),
    ...(opts.shardInfo !== undefined ? { shardInfo: opts.shardInfo } : {}),
  });
}

function toLabelMatchers(ms: readonly Matcher[]): LabelMatcher[] {
  return ms.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

const MIN_T = -9223372036854775808;
const MAX_T = 9223372036854775807;

/**
 * DEDUP_CONTEXT_MS is how much data beyond the query window each replica is read with under
 * dedup: DedupIterator decides at a time t from the replicas' samples a few intervals around t,
 * so with this context a window gets exactly the samples the whole range has there (for scrape
 * intervals up to about a minute and a half).
 */
const DEDUP_CONTEXT_MS = 5 * 60_000;

/**
 * StoreQueryable adapts a StoreAPI client (usually the in-process ProxyStore) to the storage
 * Queryable the PromQL engine reads. Unlike Thanos's pkg/query it does not ask the stores for
 * `without_replica_labels` on Series: a store would merge the chunks of all replicas into one
 * series, and splitting them again by overlap ("virtual replicas") chains one replica's chunk
 * onto another's at every chunk cut and block boundary, so the output would switch replica
 * there. It keeps each replica's chunks apart instead, strips the replica labels itself, and
 * merges the replicas of each series with the dedup iterator in replica-label order.
 *
 * It is also a ChunkQueryable for the PromQL engine's chunk path: a series whose samples come
 * from one replica's chunks in the query range (decided from the chunks' time ranges) passes
 * those chunks through, decoded straight into the engine's arrays with no iterator or dedup work
 * per sample; other series are one IteratorChunk over their merge.
 */
export class StoreQueryable implements Queryable, ChunkQueryable {
  readonly #client: StoreClient;
  readonly #opts: StoreQueryOptions;

  constructor(client: StoreClient, opts: StoreQueryOptions) {
    this.#client = client;
    this.#opts = opts;
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    return new StoreQuerier(this.#client, this.#opts, mint, maxt);
  }

  async chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    return new StoreChunkQuerier(new StoreQuerier(this.#client, this.#opts, mint, maxt));
  }
}

/** StoreChunkQuerier serves a StoreQuerier's series as chunks (StoreSeriesView.chunks). */
class StoreChunkQuerier implements ChunkQuerier {
  readonly #q: StoreQuerier;

  constructor(q: StoreQuerier) {
    this.#q = q;
  }

  select(sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<ChunkSeriesSet> {
    return this.#q.stream(sort, hints, matchers, opts);
  }

  labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return this.#q.labelNames(matchers, hints, opts);
  }

  labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return this.#q.labelValues(name, matchers, hints, opts);
  }

  close(): Promise<void> {
    return this.#q.close();
  }
}

/** StoreQuerier is the Querier of a StoreQueryable over one time range. */
export class StoreQuerier implements Querier {
  readonly #client: StoreClient;
  readonly #opts: StoreQueryOptions;
  readonly #mint: number;
  readonly #maxt: number;
  readonly #replica: ReadonlySet<string>;
  readonly #closed = new AbortController();

  constructor(client: StoreClient, opts: StoreQueryOptions, mint: number, maxt: number) {
    this.#client = client;
    this.#opts = opts;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#replica = new Set(opts.dedup ? opts.replicaLabels : []);
    // Every select of the querier's queries listens on it (a query may have many selectors).
    setMaxListeners(0, this.#closed.signal);
  }

  #strategy(): PartialResponseStrategy {
    return this.#opts.partialResponse ? PartialResponseStrategy.WARN : PartialResponseStrategy.ABORT;
  }

  #callOpts(opts?: CallOptions) {
    return {
      ...(opts?.signal !== undefined ? { signal: opts.signal } : {}),
      ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}),
    };
  }

  select(sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<SeriesSet> {
    return this.stream(sort, hints, matchers, opts);
  }

  /**
   * stream asks the stores for the selected series and returns them as StoreSeriesViews, with
   * the replicas of each series merged under dedup. With opts.incremental and no sorting asked
   * for, it resolves as soon as the first series are ready and the set fills while the engine
   * reads it (an IncrementalSet); otherwise it reads every series first and, under dedup,
   * sorts them by their labels without the replica labels.
   */
  async stream(sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<StoreSeriesStream> {
    const mint = Math.max(hints?.start ?? this.#mint, MIN_T);
    const maxt = Math.min(hints?.end ?? this.#maxt, MAX_T);
    const dedup = this.#replica.size > 0;
    const ctx = dedup ? DEDUP_CONTEXT_MS : 0;
    const aggrs = aggrsForFunc(hints?.func);
    const skipChunks = hints?.func === 'series';
    const shardInfo = effectiveShardInfo(this.#opts.shardInfo, this.#replica);
    const req: SeriesRequest = {
      minTime: Math.max(mint - ctx, MIN_T),
      maxTime: Math.min(maxt + ctx, MAX_T),
      matchers: toLabelMatchers(matchers),
      maxResolutionWindow: this.#resolutionFor(hints),
      aggregates: aggrs,
      partialResponseStrategy: this.#strategy(),
      partialResponseDisabled: !this.#opts.partialResponse,
      skipChunks,
      ...(dedup ? { replicaLabelsHint: [...this.#replica] } : {}),
      ...(shardInfo !== undefined ? { shardInfo } : {}),
      ...(hints?.step !== undefined ? { step: hints.step } : {}),
      ...(hints?.range !== undefined ? { range: hints.range } : {}),
      queryHints: {
        ...(hints?.step !== undefined ? { stepMillis: hints.step } : {}),
        ...(hints?.func !== undefined ? { func: { name: hints.func } } : {}),
        ...(hints?.grouping !== undefined ? { grouping: { by: hints.by ?? false, labels: hints.grouping } } : {}),
        ...(hints?.range !== undefined ? { range: { millis: hints.range } } : {}),
      },
    };
    const stop = this.#closed.signal;
    const signal = opts?.signal !== undefined ? AbortSignal.any([opts.signal, stop]) : stop;
    const source = this.#client.series(req, this.#callOpts({ signal }));
    // Stores that do not shard (sidecars, store gateways, older peers) send every series; those
    // that do already dropped the others, and the same labels give them the same answer here.
    const shard = ShardMatcher.of(shardInfo);
    const set = new StoreSeriesStream(
      source,
      { replica: this.#replica, aggrs, mint, maxt, ctx, func: hints?.func, incremental: opts?.incremental === true && !sort, ...(shard !== undefined ? { shard } : {}) },
      stop,
    );
    await set.started;
    // A failure before the first series rejects select, as a store error always did.
    if (set.done()) {
      const err = set.err();
      if (err !== null) throw err;
    }
    return set;
  }

  #resolutionFor(hints: SelectHints | undefined): number {
    let res = this.#opts.maxSourceResolutionMs ?? 0;
    const f = hints?.func;
    const range = hints?.range ?? 0;
    if (range > 0 && f !== undefined && ['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'holt_winters', 'double_exponential_smoothing'].includes(f)) {
      res = Math.min(res, Math.floor(range / 2));
    }
    return res;
  }

  /** #labelsRequest holds the fields a LabelNames and a LabelValues request share. */
  #labelsRequest(matchers: readonly Matcher[], hints: LabelHints | undefined) {
    return {
      start: this.#mint,
      end: this.#maxt,
      matchers: toLabelMatchers(matchers),
      partialResponseStrategy: this.#strategy(),
      partialResponseDisabled: !this.#opts.partialResponse,
      withoutReplicaLabels: [...this.#replica],
      ...(hints?.limit !== undefined ? { limit: hints.limit } : {}),
    };
  }

  async labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    const res = await this.#client.labelNames(this.#labelsRequest(matchers, hints), this.#callOpts(opts));
    return { values: res.names.filter((n) => !this.#replica.has(n)), warnings: res.warnings };
  }

  async labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    if (this.#replica.has(name)) return { values: [], warnings: [] };
    const res = await this.#client.labelValues({ label: name, ...this.#labelsRequest(matchers, hints) }, this.#callOpts(opts));
    return { values: res.values, warnings: res.warnings };
  }

  /** close stops the series streams still being read. */
  async close(): Promise<void> {
    this.#closed.abort(new TesseraError('TESSERA_QUERIER_CLOSED', 'read series from the stores: the querier was closed'));
  }
}
