import type { SampleIterator } from '../chunkenc/index.js';
import { DedupIterator, isCounterHint, splitOverlapping } from '../dedup/index.js';
import { Labels, type Matcher } from '../labels/index.js';
import type {
  CallOptions,
  LabelHints,
  LabelResult,
  Querier,
  Queryable,
  SelectHints,
  Series,
  SeriesSet,
} from '../storage/index.js';
import { ArraySeriesSet } from '../storage/index.js';
import { dedupChunks, type StoreClient } from '../store/index.js';
import { PartialResponseStrategy, type Aggr, type AggrChunk, type LabelMatcher, type SeriesRequest, type StoreSeries } from '../storepb/index.js';
import { aggrChunkIterator, aggrsForFunc } from './aggr-iterator.js';

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
}

function toLabelMatchers(ms: readonly Matcher[]): LabelMatcher[] {
  return ms.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

const MIN_T = -9223372036854775808;
const MAX_T = 9223372036854775807;

/**
 * StoreQueryable adapts a StoreAPI client (usually the in-process ProxyStore) to the storage
 * Queryable the PromQL engine reads, as Thanos's pkg/query does: it asks for
 * `without_replica_labels`, splits each returned series' chunks into non-overlapping runs
 * ("virtual replicas") and merges the runs with the dedup iterator.
 */
export class StoreQueryable implements Queryable {
  readonly #client: StoreClient;
  readonly #opts: StoreQueryOptions;

  constructor(client: StoreClient, opts: StoreQueryOptions) {
    this.#client = client;
    this.#opts = opts;
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    return new StoreQuerier(this.#client, this.#opts, mint, maxt);
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
    const mint = Math.max(hints?.start ?? this.#mint, MIN_T);
    const maxt = Math.min(hints?.end ?? this.#maxt, MAX_T);
    const aggrs = aggrsForFunc(hints?.func);
    const skipChunks = hints?.func === 'series';
    const req: SeriesRequest = {
      minTime: mint,
      maxTime: maxt,
      matchers: toLabelMatchers(matchers),
      maxResolutionWindow: this.#resolutionFor(hints),
      aggregates: aggrs,
      partialResponseStrategy: this.#strategy(),
      partialResponseDisabled: !this.#opts.partialResponse,
      skipChunks,
      withoutReplicaLabels: [...this.#replica],
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
    const series: StoreSeries[] = [];
    for await (const batch of this.#client.series(req, this.#callOpts(opts))) {
      for (const r of batch) {
        if (r.kind === 'series') series.push(r.series);
        else if (r.kind === 'batch') series.push(...r.batch);
        else if (r.kind === 'warning') warnings.push(r.warning);
      }
    }
    const out: Series[] = [];
    let i = 0;
    while (i < series.length) {
      // Stores return sorted series; equal label sets (replicas or several stores) are adjacent.
      let lset = series[i]!.labels;
      if (this.#replica.size > 0) lset = lset.without(this.#replica);
      const group: AggrChunk[] = [...series[i]!.chunks];
      let j = i + 1;
      while (j < series.length) {
        const l = this.#replica.size > 0 ? series[j]!.labels.without(this.#replica) : series[j]!.labels;
        if (!l.equals(lset)) break;
        group.push(...series[j]!.chunks);
        j++;
      }
      out.push(new StoreSeriesView(lset, dedupChunks(group), aggrs, mint, maxt, isCounterHint(hints?.func, lset), this.#replica.size > 0));
      i = j;
    }
    if (this.#replica.size > 0) out.sort((a, b) => Labels.compare(a.labels(), b.labels()));
    return new ArraySeriesSet(out, warnings);
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
class StoreSeriesView implements Series {
  readonly #lset: Labels;
  readonly #runs: AggrChunk[][];
  readonly #aggrs: readonly Aggr[];
  readonly #mint: number;
  readonly #maxt: number;
  readonly #counter: boolean;
  readonly #dedup: boolean;

  /** chunks are sorted by time without byte-identical duplicates (dedupChunks). */
  constructor(lset: Labels, chunks: AggrChunk[], aggrs: readonly Aggr[], mint: number, maxt: number, counter: boolean, dedup: boolean) {
    this.#lset = lset;
    this.#dedup = dedup;
    this.#runs = splitOverlapping(chunks);
    this.#aggrs = aggrs;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#counter = counter;
  }

  labels(): Labels {
    return this.#lset;
  }

  iterator(): SampleIterator {
    const its = this.#runs.map((r) => aggrChunkIterator(r, this.#aggrs, this.#mint, this.#maxt));
    if (its.length === 0) return aggrChunkIterator([], this.#aggrs, this.#mint, this.#maxt);
    // Under dedup even one run goes through the dedup iterator: a run can chain one replica's
    // chunk onto another's (a ends at 800 s, b starts at 800.37 s), and the iterator thins
    // samples closer than half an interval, as at a replica switch.
    if (its.length === 1 && !this.#dedup) return its[0]!;
    return new DedupIterator(its, { counter: this.#counter });
  }
}
