import type { ChunkMeta, SampleIterator } from '../chunkenc/index.js';
import { BoundedIterator, DedupIterator, FollowFirstIterator, isCounterHint, splitOverlapping } from '../dedup/index.js';
import { Labels, type Matcher } from '../labels/index.js';
import type {
  CallOptions,
  ChunkQuerier,
  ChunkQueryable,
  ChunkSeries,
  ChunkSeriesSet,
  LabelHints,
  LabelResult,
  Querier,
  Queryable,
  SelectHints,
  Series,
  SeriesSet,
} from '../storage/index.js';
import { ArraySeriesSet } from '../storage/index.js';
import { ProxyStore, ShardMatcher, dedupChunks, inProcessClient, type ProxyTarget, type StoreClient } from '../store/index.js';
import { PartialResponseStrategy, type ShardInfo, type Aggr, type AggrChunk, type LabelMatcher, type SeriesRequest, type StoreSeries } from '../storepb/index.js';
import { aggrChunkIterator, aggrsForFunc, toChunk } from './aggr-iterator.js';
import { IteratorChunk } from './iterator-chunk.js';
import { ReplicaChunkIterator } from './replica-chunk-iterator.js';

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

  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<ChunkSeriesSet> {
    const { views, warnings } = await this.#q.views(hints, matchers, opts);
    return new ArraySeriesSet<ChunkSeries>(views, warnings);
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

  constructor(client: StoreClient, opts: StoreQueryOptions, mint: number, maxt: number) {
    this.#client = client;
    this.#opts = opts;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#replica = new Set(opts.dedup ? opts.replicaLabels : []);
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

  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<SeriesSet> {
    const { views, warnings } = await this.views(hints, matchers, opts);
    return new ArraySeriesSet<Series>(views, warnings);
  }

  /** views fetches the selected series, sorted by their labels without the replica labels. */
  async views(hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<{ views: StoreSeriesView[]; warnings: string[] }> {
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
    const warnings: string[] = [];
    let series: StoreSeries[] = [];
    for await (const batch of this.#client.series(req, this.#callOpts(opts))) {
      for (const r of batch) {
        if (r.kind === 'series') series.push(r.series);
        else if (r.kind === 'batch') series.push(...r.batch);
        else if (r.kind === 'warning') warnings.push(r.warning);
      }
    }
    // Stores that do not shard (sidecars, store gateways, older peers) send every series; those
    // that do already dropped the others, and the same labels give them the same answer here.
    const shard = ShardMatcher.of(shardInfo);
    if (shard !== undefined) series = series.filter((s) => shard.matches(s.labels));
    // Series sorted by their labels without the replica labels, then by the replica labels, so
    // that the replicas of one series are adjacent and in a fixed order (the dedup priority).
    let entries = series.map((s) => ({ lset: dedup ? s.labels.without(this.#replica) : s.labels, full: s.labels, chunks: s.chunks }));
    if (dedup) entries = entries.sort((a, b) => Labels.compare(a.lset, b.lset) || Labels.compare(a.full, b.full));
    const out: StoreSeriesView[] = [];
    let i = 0;
    while (i < entries.length) {
      const lset = entries[i]!.lset;
      // Runs of non-overlapping chunks: per replica (equal full labels, from any store), in order.
      const runs: AggrChunk[][] = [];
      let j = i;
      while (j < entries.length && entries[j]!.lset.equals(lset)) {
        const full = entries[j]!.full;
        const replica: AggrChunk[] = [];
        while (j < entries.length && entries[j]!.full.equals(full)) replica.push(...entries[j++]!.chunks);
        runs.push(...splitOverlapping(dedupChunks(replica)));
      }
      out.push(new StoreSeriesView(lset, runs, aggrs, mint, maxt, ctx, isCounterHint(hints?.func, lset)));
      i = j;
    }
    return { views: out, warnings };
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

  async labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    const res = await this.#client.labelNames(
      {
        start: this.#mint,
        end: this.#maxt,
        matchers: toLabelMatchers(matchers),
        partialResponseStrategy: this.#strategy(),
        partialResponseDisabled: !this.#opts.partialResponse,
        withoutReplicaLabels: [...this.#replica],
        ...(hints?.limit !== undefined ? { limit: hints.limit } : {}),
      },
      this.#callOpts(opts),
    );
    return { values: res.names.filter((n) => !this.#replica.has(n)), warnings: res.warnings };
  }

  async labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    if (this.#replica.has(name)) return { values: [], warnings: [] };
    const res = await this.#client.labelValues(
      {
        label: name,
        start: this.#mint,
        end: this.#maxt,
        matchers: toLabelMatchers(matchers),
        partialResponseStrategy: this.#strategy(),
        partialResponseDisabled: !this.#opts.partialResponse,
        withoutReplicaLabels: [...this.#replica],
        ...(hints?.limit !== undefined ? { limit: hints.limit } : {}),
      },
      this.#callOpts(opts),
    );
    return { values: res.values, warnings: res.warnings };
  }

  async close(): Promise<void> {}
}

/** StoreSeriesView is one (possibly deduplicated) series built from StoreAPI chunks. */
class StoreSeriesView implements Series, ChunkSeries {
  readonly #lset: Labels;
  readonly #runs: AggrChunk[][];
  readonly #aggrs: readonly Aggr[];
  readonly #mint: number;
  readonly #maxt: number;
  readonly #ctx: number;
  readonly #counter: boolean;

  /**
   * runs are sorted, non-overlapping chunk lists in dedup priority order (one replica's chunks
   * each, usually); ctx is how far beyond [mint, maxt] the replicas are read for dedup. Runs
   * without a chunk in that range take no part (the chunk-level decision: with one run left,
   * there is nothing to merge).
   */
  constructor(lset: Labels, runs: AggrChunk[][], aggrs: readonly Aggr[], mint: number, maxt: number, ctx: number, counter: boolean) {
    this.#lset = lset;
    const lo = mint - ctx;
    const hi = maxt + ctx;
    this.#runs = runs.length <= 1 ? runs : runs.filter((r) => r.some((c) => c.maxTime >= lo && c.minTime <= hi));
    this.#aggrs = aggrs;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#ctx = ctx;
    this.#counter = counter;
  }

  labels(): Labels {
    return this.#lset;
  }

  iterator(): SampleIterator {
    const runs = this.#runs;
    if (runs.length <= 1) return aggrChunkIterator(runs[0] ?? [], this.#aggrs, this.#mint, this.#maxt);
    if (runs.every((r) => r.every((c) => c.raw !== undefined))) {
      // Replica 0's chunks straight where it covers; the dedup iterator only around its gaps.
      const open = (r: AggrChunk[], lo: number, hi: number) => new ReplicaChunkIterator(r.filter((c) => c.maxTime >= lo && c.minTime <= hi), lo, hi);
      return new FollowFirstIterator({
        open: (lo, hi) => runs.map((r) => open(r, lo, hi)),
        openFirst: (lo, hi) => open(runs[0]!, lo, hi),
        mint: this.#mint,
        maxt: this.#maxt,
        ctx: this.#ctx,
        counter: this.#counter,
      });
    }
    const lo = this.#mint - this.#ctx;
    const hi = this.#maxt + this.#ctx;
    const its = runs.map((r) => aggrChunkIterator(r, this.#aggrs, lo, hi));
    return new BoundedIterator(new DedupIterator(its, { counter: this.#counter }), this.#mint, this.#maxt);
  }

  /**
   * chunks returns the raw chunks of a series with one run (the engine decodes them itself and
   * bounds them to the query range), else one IteratorChunk over iterator().
   */
  chunks(): ChunkMeta[] {
    const runs = this.#runs;
    const only = runs.length === 1 ? runs[0]! : runs.length === 0 ? [] : undefined;
    if (only !== undefined && only.every((c) => c.raw !== undefined)) {
      const out: ChunkMeta[] = [];
      for (const c of only) if (c.maxTime >= this.#mint && c.minTime <= this.#maxt) out.push({ ref: 0, minTime: c.minTime, maxTime: c.maxTime, chunk: toChunk(c.raw!) });
      return out;
    }
    return [{ ref: 0, minTime: this.#mint, maxTime: this.#maxt, chunk: new IteratorChunk(() => this.iterator()) }];
  }
}
