import type {
  LabelsResult,
  MatrixSeries,
  QueryEngine,
  QueryOptions,
  QueryResult,
  SeriesResult,
  SeriesSource,
  SeriesSourceOptions,
  VectorElement,
} from '../api/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { Labels, compareStrings, type Matcher } from '../labels/index.js';
import type { Engine, QueryResult as EngineResult } from '../promql/index.js';
import { StoreQueryable } from '../query/index.js';
import type { StoreClient } from '../store/index.js';
import type { ShardInfo } from '../storepb/index.js';
import { Semaphore } from './semaphore.js';

/** QueryApiAdapterOptions are the querier's defaults for per-request options. */
export interface QueryApiAdapterOptions {
  readonly engine: Engine;
  /** client is the StoreAPI the queries read (the querier's in-process ProxyStore). */
  readonly client: StoreClient;
  /**
   * clientFor returns a client restricted to the stores matching any of the `storeMatch[]`
   * selectors; without it, storeMatch[] is ignored.
   */
  readonly clientFor?: (storeMatchers: readonly (readonly Matcher[])[]) => StoreClient;
  readonly replicaLabels: readonly string[];
  /** partialResponse is the default when the request has no partial_response (Thanos: true). */
  readonly partialResponse: boolean;
  /** autoDownsampling picks step/5 as max source resolution when the request names none. */
  readonly autoDownsampling: boolean;
  /**
   * instantDefaultMaxSourceResolutionMs is what instant queries use instead of step / 5 under
   * autoDownsampling or max_source_resolution=auto (Thanos's
   * --query.instant.default.max_source_resolution; default 0, raw).
   */
  readonly instantDefaultMaxSourceResolutionMs?: number;
  /** maxConcurrent bounds concurrent queries (--query.max-concurrent, 20). */
  readonly maxConcurrent: number;
  /** storeTimeoutMs bounds each store call (gRPC deadline); 0 = none. */
  readonly storeTimeoutMs?: number;
  /**
   * remote, when set, evaluates instant and range queries instead of `engine` (worker threads,
   * see WorkerQueryEngine), after the --query.max-concurrent wait here; it learns how long the
   * query queued (seconds, for stats). Series and label requests stay here.
   */
  readonly remote?: RemoteQueryEngine;
}

/**
 * RemoteQueryEngine evaluates queries elsewhere (WorkerQueryEngine: in worker threads). It calls
 * `finished` exactly once, when it is done with the query: a cancelled request is answered at once
 * while its evaluation may run on until the worker sees the cancellation, and it holds its
 * --query.max-concurrent place until then.
 */
export interface RemoteQueryEngine {
  instantQuery(expr: string, timeMs: number, opts: QueryOptions, queuedSec: number, finished: () => void): Promise<QueryResult>;
  rangeQuery(expr: string, start: number, end: number, step: number, opts: QueryOptions, queuedSec: number, finished: () => void): Promise<QueryResult>;
}

/**
 * QueryApiAdapter serves the HTTP API's QueryEngine and SeriesSource from the PromQL engine over a
 * StoreAPI client, applying the Thanos request options (dedup, replicaLabels[], partial_response,
 * max_source_resolution) per request.
 */
export class QueryApiAdapter implements QueryEngine, SeriesSource {
  readonly #o: QueryApiAdapterOptions;
  readonly #sem: Semaphore;

  constructor(opts: QueryApiAdapterOptions) {
    this.#o = opts;
    this.#sem = new Semaphore(opts.maxConcurrent);
  }

  #queryable(
    opts: { dedup?: boolean; partialResponse?: boolean; replicaLabels?: readonly string[]; storeMatchers?: readonly (readonly Matcher[])[]; shardInfo?: ShardInfo },
    maxRes: number,
  ): StoreQueryable {
    const sm = opts.storeMatchers;
    const client = sm !== undefined && sm.length > 0 && this.#o.clientFor !== undefined ? this.#o.clientFor(sm) : this.#o.client;
    return new StoreQueryable(client, {
      replicaLabels: opts.replicaLabels ?? this.#o.replicaLabels,
      dedup: opts.dedup ?? true,
      partialResponse: opts.partialResponse ?? this.#o.partialResponse,
      maxSourceResolutionMs: maxRes,
      ...(opts.shardInfo !== undefined ? { shardInfo: opts.shardInfo } : {}),
      ...(this.#o.storeTimeoutMs ? { timeoutMs: this.#o.storeTimeoutMs } : {}),
    });
  }

  /**
   * #limitedRemote runs fn under --query.max-concurrent like #limited, but the place is given back
   * when the remote engine says it finished the query (fn's `finished`), not when fn settles.
   */
  async #limitedRemote<T>(signal: AbortSignal, fn: (queuedSec: number, finished: () => void) => Promise<T>): Promise<T> {
    const q0 = performance.now();
    await this.#sem.acquire(signal);
    let released = false;
    const finished = (): void => {
      if (released) return;
      released = true;
      this.#sem.release();
    };
    let p: Promise<T>;
    try {
      p = fn((performance.now() - q0) / 1000, finished);
    } catch (err) {
      finished();
      throw err;
    }
    return p;
  }

  /** #limited runs fn under --query.max-concurrent; fn learns how long it queued (seconds). */
  async #limited<T>(signal: AbortSignal, fn: (queuedSec: number) => Promise<T>): Promise<T> {
    const q0 = performance.now();
    await this.#sem.acquire(signal);
    try {
      return await fn((performance.now() - q0) / 1000);
    } finally {
      this.#sem.release();
    }
  }

  #maxRes(opts: QueryOptions, stepMs: number, auto = stepMs / 5): number {
    const m = opts.maxSourceResolution;
    if (m === 'auto') return auto;
    if (typeof m === 'number') return m;
    return this.#o.autoDownsampling ? auto : 0;
  }

  /** lookback grows with the resolution that may be read (dynamic lookback delta). */
  #lookback(opts: QueryOptions, maxRes: number): number | undefined {
    const lb = opts.lookbackDelta;
    // 1d is ours (algorithms.md §6): a 1d block has one sample a day, so the lookback becomes a day.
    if (maxRes >= 86_400_000) return Math.max(lb ?? 300_000, 86_400_000);
    if (maxRes >= 3_600_000) return Math.max(lb ?? 300_000, 3_600_000);
    if (maxRes >= 300_000) return Math.max(lb ?? 300_000, 300_000);
    return lb;
  }

  instantQuery(expr: string, timeMs: number, opts: QueryOptions): Promise<QueryResult> {
    const remote = this.#o.remote;
    if (remote !== undefined) return this.#limitedRemote(opts.signal, (queued, finished) => remote.instantQuery(expr, timeMs, opts, queued, finished));
    return this.#limited(opts.signal, async (queued) => {
      const maxRes = this.#maxRes(opts, 0, this.#o.instantDefaultMaxSourceResolutionMs ?? 0);
      const lb = this.#lookback(opts, maxRes);
      const q = this.#o.engine.instantQuery(this.#queryable(opts, maxRes), expr, timeMs, {
        signal: opts.signal,
        ...(lb !== undefined ? { lookbackDeltaMs: lb } : {}),
        ...(opts.stats === 'all' ? { perStepStats: true } : {}),
      });
      return toApiResult(await q.exec(), opts.stats, queued);
    });
  }

  rangeQuery(expr: string, start: number, end: number, step: number, opts: QueryOptions): Promise<QueryResult> {
    const remote = this.#o.remote;
    if (remote !== undefined) return this.#limitedRemote(opts.signal, (queued, finished) => remote.rangeQuery(expr, start, end, step, opts, queued, finished));
    return this.#limited(opts.signal, async (queued) => {
      const maxRes = this.#maxRes(opts, step);
      const lb = this.#lookback(opts, maxRes);
      const q = this.#o.engine.rangeQuery(this.#queryable(opts, maxRes), expr, start, end, step, {
        signal: opts.signal,
        ...(lb !== undefined ? { lookbackDeltaMs: lb } : {}),
        ...(opts.stats === 'all' ? { perStepStats: true } : {}),
      });
      return toApiResult(await q.exec(), opts.stats, queued);
    });
  }

  async series(matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<SeriesResult> {
    const q = await this.#queryable(opts, 0).querier(start, end);
    // One select per matcher set, several in flight (as Thanos starts them all before merging):
    // 1,000 `match[]` one after the other took 15 s over two stores.
    const perSet = await mapConcurrent(matcherSets, seriesSelectConcurrency, async (ms) => {
      const set = await q.select(true, { start, end, func: 'series' }, ms, { signal: opts.signal });
      const found: Labels[] = [];
      while (set.next()) {
        found.push(set.at().labels());
        if (opts.limit > 0 && found.length > opts.limit) break;
      }
      if (set.err() !== null) throw set.err();
      return { found, warnings: set.warnings() };
    });
    const seen = new Map<string, Labels>();
    const warnings: string[] = [];
    for (const r of perSet) {
      for (const l of r.found) {
        if (opts.limit > 0 && seen.size > opts.limit) break;
        seen.set(l.key(), l);
      }
      warnings.push(...r.warnings);
    }
    const series = [...seen.values()].sort(Labels.compare);
    return { series, warnings };
  }

  // labelNames and labelValues never deduplicate, as Thanos's /api/v1/labels and
  // /api/v1/label/<name>/values (v0.42 pkg/api/query/v1.go: queryableCreate(true, nil, ...), so
  // isDedupEnabled is false): replica labels and their values are listed.
  async labelNames(matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<LabelsResult> {
    const q = await this.#queryable({ ...opts, dedup: false }, 0).querier(start, end);
    return merged(await Promise.all((matcherSets.length === 0 ? [[]] : matcherSets).map((ms) => q.labelNames(ms, opts.limit > 0 ? { limit: opts.limit } : {}, { signal: opts.signal }))));
  }

  async labelValues(name: string, matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<LabelsResult> {
    const q = await this.#queryable({ ...opts, dedup: false }, 0).querier(start, end);
    return merged(
      await Promise.all((matcherSets.length === 0 ? [[]] : matcherSets).map((ms) => q.labelValues(name, ms, opts.limit > 0 ? { limit: opts.limit } : {}, { signal: opts.signal }))),
    );
  }
}

/** seriesSelectConcurrency bounds the selects /series runs at once for its matcher sets. */
const seriesSelectConcurrency = 16;

/** mapConcurrent maps items with at most `limit` calls of f in flight; results keep item order. */
async function mapConcurrent<T, R>(items: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function merged(results: readonly { values: readonly string[]; warnings: readonly string[] }[]): LabelsResult {
  const set = new Set<string>();
  const warnings: string[] = [];
  for (const r of results) {
    for (const v of r.values) set.add(v);
    warnings.push(...r.warnings);
  }
  return { values: [...set].sort(compareStrings), warnings };
}

/**
 * statsJson is Prometheus's `data.stats` for a query: its timings (seconds; execQueueTime is the
 * wait for --query.max-concurrent) and sample counts, the per-step counts only for `stats=all`.
 */
function statsJson(r: EngineResult, stats: string, queuedSec: number): unknown {
  const t = r.stats.timings;
  const s = r.stats.samples;
  return {
    timings: { ...t, execQueueTime: queuedSec, execTotalTime: queuedSec + t.evalTotalTime },
    samples: {
      ...(stats === 'all' && s.totalQueryableSamplesPerStep !== undefined ? { totalQueryableSamplesPerStep: s.totalQueryableSamplesPerStep } : {}),
      totalQueryableSamples: s.totalQueryableSamples,
      peakSamples: s.peakSamples,
    },
  };
}

/** toApiResult converts the engine's value to the HTTP API's shape (with `data.stats` when stats is non-empty). */
export function toApiResult(r: EngineResult, stats?: string, queuedSec = 0): QueryResult {
  const base = { warnings: r.warnings, infos: r.infos, ...(stats !== undefined && stats !== '' ? { stats: statsJson(r, stats, queuedSec) } : {}) };
  const v = r.value;
  switch (v.type) {
    case 'scalar':
      return { resultType: 'scalar', result: { t: v.value.t, v: v.value.v }, ...base };
    case 'string':
      return { resultType: 'string', result: { t: v.value.t, v: v.value.v }, ...base };
    case 'vector':
      return {
        resultType: 'vector',
        result: v.value.map((s): VectorElement => (s.h !== undefined ? { metric: s.metric, t: s.t, f: s.f, h: s.h } : { metric: s.metric, t: s.t, f: s.f })),
        ...base,
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: v.value.map((s): MatrixSeries => {
          const ts = s.floats.ts.subarray(0, s.floats.length);
          const fs = s.floats.fs.subarray(0, s.floats.length);
          if (s.histograms.length === 0) return { metric: s.metric, ts, fs };
          const hts = s.histograms.map((p) => p.t);
          const hs: FloatHistogram[] = s.histograms.map((p) => p.h);
          return { metric: s.metric, ts, fs, hts, hs };
        }),
        ...base,
      };
  }
}
