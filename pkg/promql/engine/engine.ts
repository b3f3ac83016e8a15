import type { ChunkQueryable, Querier, Queryable, SelectHints } from '../../storage/index.js';
import { ALL_FEATURES, ParseError, exprType, format, inspect, parseExpr, type Call, type Expr, type ParseOptions, type SubqueryExpr, type VectorSelector } from '../parser/index.js';
import { Annotations } from './annotations.js';
import { infoRefTime, planInfo, type InfoPlan } from './info.js';
import { evalDuration } from './durations.js';
import { ErrBadData, ErrExecution, ErrQueryCanceled, ErrQueryMemory, ErrQueryTimeout, ErrStorage, QueryError } from './errors.js';
import { BYTES_PER_SAMPLE, Evaluator, type EvalContext } from './evaluator.js';
import { fastPaths } from './fast-paths.js';
import { SeriesArena } from './series-arena.js';
import { HistogramStats, loadChunkSeriesSetAsync, loadSeriesSetAsync, seriesDataBytes, type SeriesData } from './series-data.js';
import type { Matrix, QueryValue, Series, Vector } from './value.js';
import { compareSeries, cleanupNames } from './cleanup.js';
import { SamplesStats, type QueryStats } from './query-stats.js';

/** EngineOptions configure an Engine. Durations are milliseconds. */
export interface EngineOptions {
  /** timeoutMs bounds each query's evaluation (default 2 minutes). */
  readonly timeoutMs?: number;
  /** maxSamples bounds the samples held in memory at once (default 50 million). */
  readonly maxSamples?: number;
  /**
   * maxMemoryBytes is a per-query memory budget for what max-samples does not count: the series
   * data loaded from storage (samples, staleness markers, histograms, labels), plus 16 bytes a
   * sample held in evaluation. 0 (the default) means no budget.
   */
  readonly maxMemoryBytes?: number;
  /** lookbackDeltaMs is how far back an instant selector looks for a sample (default 5 minutes). */
  readonly lookbackDeltaMs?: number;
  /** enableAtModifier allows `@` (default true, as Prometheus 3). */
  readonly enableAtModifier?: boolean;
  /** enableNegativeOffset allows negative offsets (default true, as Prometheus 3). */
  readonly enableNegativeOffset?: boolean;
  /** noStepSubqueryIntervalMs is the step of subqueries written without one (default 1 minute). */
  readonly noStepSubqueryIntervalMs?: number;
  /** parseOptions enable experimental syntax when the query is given as a string. */
  readonly parseOptions?: ParseOptions;
}

/** QueryOptions are per-query settings. */
export interface QueryOptions {
  readonly signal?: AbortSignal;
  /** lookbackDeltaMs overrides the engine's lookback delta for this query. */
  readonly lookbackDeltaMs?: number;
  /** perStepStats adds totalQueryableSamplesPerStep to a range query's stats (Prometheus's stats=all). */
  readonly perStepStats?: boolean;
}

/** QueryResult is the outcome of a successful query: its value and rendered annotations. */
export interface QueryResult {
  readonly value: QueryValue;
  readonly warnings: string[];
  readonly infos: string[];
  /** stats are Prometheus's query stats (timings in seconds, samples), measured on every query. */
  readonly stats: QueryStats;
}

interface QuerySpec {
  readonly queryable: Queryable;
  readonly expr: string | Expr;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly isRange: boolean;
  readonly opts: QueryOptions;
}

/**
 * Engine evaluates PromQL over any storage.Queryable, with Prometheus 3.x semantics (left-open
 * range windows, lookback delta with staleness, delayed name removal).
 */
export class Engine {
  readonly #opts: Required<Omit<EngineOptions, 'parseOptions'>> & { parseOptions: ParseOptions };

  constructor(opts: EngineOptions = {}) {
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 120_000,
      maxSamples: opts.maxSamples ?? 50_000_000,
      maxMemoryBytes: opts.maxMemoryBytes ?? 0,
      lookbackDeltaMs: opts.lookbackDeltaMs ?? 300_000,
      enableAtModifier: opts.enableAtModifier ?? true,
      enableNegativeOffset: opts.enableNegativeOffset ?? true,
      noStepSubqueryIntervalMs: opts.noStepSubqueryIntervalMs ?? 60_000,
      parseOptions: opts.parseOptions ?? ALL_FEATURES,
    };
  }

  /** instantQuery prepares an instant query at timeMs. */
  instantQuery(queryable: Queryable, expr: string | Expr, timeMs: number, opts: QueryOptions = {}): Query {
    return new Query(this.#opts, { queryable, expr, start: timeMs, end: timeMs, step: 0, isRange: false, opts });
  }

  /** rangeQuery prepares a range query over [startMs, endMs] with stepMs resolution. */
  rangeQuery(queryable: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Query {
    return new Query(this.#opts, { queryable, expr, start: startMs, end: endMs, step: stepMs, isRange: true, opts });
  }
}

/** Query is a prepared query; exec runs it once. */
export class Query {
  readonly #opts: Required<Omit<EngineOptions, 'parseOptions'>> & { parseOptions: ParseOptions };
  readonly #spec: QuerySpec;

  constructor(opts: Required<Omit<EngineOptions, 'parseOptions'>> & { parseOptions: ParseOptions }, spec: QuerySpec) {
    this.#opts = opts;
    this.#spec = spec;
  }

  /** exec evaluates the query; it rejects with a QueryError subclass. */
  async exec(): Promise<QueryResult> {
    const t0 = performance.now();
    const spec = this.#spec;
    let expr: Expr;
    let text: string;
    if (typeof spec.expr === 'string') {
      text = spec.expr;
      try {
        expr = parseExpr(spec.expr, this.#opts.parseOptions);
      } catch (err) {
        if (err instanceof ParseError) throw new ErrBadData(err.message, { cause: err });
        throw err;
      }
    } else {
      expr = spec.expr;
      text = format(expr);
    }
    const t = exprType(expr);
    if (spec.isRange) {
      if (t !== 'scalar' && t !== 'vector') {
        throw new ErrBadData(`invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`);
      }
      if (spec.step <= 0) throw new ErrBadData('zero or negative query resolution step widths are not accepted. Try a positive integer');
      if (spec.end < spec.start) throw new ErrBadData('end timestamp must not be before start time');
    }
    const deadline = performance.now() + this.#opts.timeoutMs;
    const signal = spec.opts.signal;
    let stage = 'query preparation';
    const check = (): void => {
      if (signal?.aborted === true) throw new ErrQueryCanceled(stage, signal.reason);
      if (performance.now() > deadline) throw new ErrQueryTimeout(stage);
    };
    check();
    const interval = spec.isRange ? spec.step : 1;
    const lookback = spec.opts.lookbackDeltaMs ?? this.#opts.lookbackDeltaMs;
    const selected = new Map<VectorSelector, SeriesData[]>();
    const annotations = new Annotations();
    const budget = this.#opts.maxMemoryBytes;
    let loadedBytes = 0;
    const loaded = (d: SeriesData): void => {
      loadedBytes += seriesDataBytes(d);
      if (budget > 0 && loadedBytes > budget) throw new ErrQueryMemory('series loading', loadedBytes, budget);
    };
    const env = { start: spec.start, end: spec.end, interval: spec.isRange ? spec.step : 0 };

    // Select every selector's series once, with hints.
    const sels = collectSelectors(expr, spec, lookback, env);
    const infoPlans = new Map<Call, InfoPlan>();
    inspect(expr, (n) => {
      if (n.kind !== 'Call' || n.func.name !== 'info') return;
      const plan = planInfo(n, (x) => (x.offsetExpr !== null && x.offset === 0 ? evalDuration(x.offsetExpr, env) : x.offset));
      infoPlans.set(n, plan);
      const a = infoRefTime(plan.refPath, spec.start, spec.start, spec.end);
      const b = infoRefTime(plan.refPath, spec.end, spec.start, spec.end);
      sels.push({ vs: plan.selector, hints: { start: Math.min(a, b) - lookback + 1, end: Math.max(a, b), step: spec.isRange ? spec.step : 0, range: 0, func: 'info' } });
    });
    let querier: Querier | undefined;
    // The loaded samples live in pooled blocks, returned when the query is done (the result never
    // shares them).
    const arena = new SeriesArena();
    try {
      if (sels.length > 0) {
        const mint = Math.min(...sels.map((s) => s.hints.start));
        const maxt = Math.max(...sels.map((s) => s.hints.end));
        // Incremental sets: a streaming source hands over series while the rest still arrive, and the
        // loaders decode them meanwhile.
        const callOpts = signal === undefined ? { incremental: true } : { signal, incremental: true };
        // Storages that also serve chunks (local blocks) are read chunk by chunk, straight into
        // the series arrays; a selector whose series have overlapping chunks falls back to samples.
        if (fastPaths.enabled && isChunkQueryable(spec.queryable)) {
          const cq = await spec.queryable.chunkQuerier(mint, maxt);
          try {
            const sets = await Promise.all(sels.map((s) => cq.select(false, s.hints, s.vs.matchers, callOpts)));
            check();
            for (let i = 0; i < sels.length; i++) {
              const s = sels[i]!;
              const set = sets[i]!;
              const before = loadedBytes;
              const datas = await loadChunkSeriesSetAsync(set, s.hints.start, s.hints.end, check, loaded, statsOf(s), arena);
              if (datas === undefined) {
                loadedBytes = before;
                continue;
              }
              for (const w of set.warnings()) annotations.add({ kind: 'warning', text: w, pos: undefined });
              selected.set(s.vs, datas);
            }
          } finally {
            await cq.close();
          }
        }
        const rest = sels.filter((s) => !selected.has(s.vs));
        if (rest.length > 0) {
          querier = await spec.queryable.querier(mint, maxt);
          const sets = await Promise.all(rest.map((s) => querier!.select(false, s.hints, s.vs.matchers, callOpts)));
          check();
          for (let i = 0; i < rest.length; i++) {
            const s = rest[i]!;
            const set = sets[i]!;
            const datas = await loadSeriesSetAsync(set, s.hints.start, s.hints.end, check, loaded, statsOf(s), arena);
            for (const w of set.warnings()) annotations.add({ kind: 'warning', text: w, pos: undefined });
            selected.set(s.vs, datas);
          }
        }
      }
      stage = 'expression evaluation';
      const t1 = performance.now();
      const steps = spec.isRange ? Math.floor((spec.end - spec.start) / spec.step) + 1 : 1;
      const samplesStats = new SamplesStats(spec.start, interval, steps, spec.isRange && spec.opts.perStepStats === true);
      const ctx: EvalContext = {
        queryStart: spec.start,
        queryEnd: spec.end,
        isRangeQuery: spec.isRange,
        queryStep: spec.isRange ? spec.step : 0,
        lookbackDelta: lookback,
        maxSamples: this.#opts.maxSamples,
        sampleLimit: budget > 0 ? Math.min(this.#opts.maxSamples, Math.max(0, Math.floor((budget - loadedBytes) / BYTES_PER_SAMPLE))) : this.#opts.maxSamples,
        maxMemoryBytes: budget,
        loadedBytes,
        noStepSubqueryInterval: this.#opts.noStepSubqueryIntervalMs,
        selected,
        infoPlans,
        annotations,
        check,
        currentSamples: 0,
        samplesStats,
        depth: 0,
      };
      const ev = new Evaluator(ctx, spec.start, spec.end, interval);
      const res = ev.eval(expr);
      const t2 = performance.now();
      const rendered = annotations.asStrings(text);
      let value: QueryValue;
      if (!Array.isArray(res)) {
        value = { type: 'string', value: res };
      } else if (t === 'scalar') {
        const s = res[0];
        if (spec.isRange) value = { type: 'matrix', value: s === undefined ? [] : [{ ...s, dropName: false }] };
        else value = { type: 'scalar', value: { t: spec.start, v: s !== undefined && s.floats.length > 0 ? s.floats.fs[0]! : NaN } };
      } else if (t === 'matrix') {
        value = { type: 'matrix', value: cleanupNames(res).sort(compareSeries) };
      } else if (spec.isRange) {
        value = { type: 'matrix', value: cleanupNames(res).sort(compareSeries) };
      } else {
        value = { type: 'vector', value: toVector(cleanupNames(res), spec.start) };
      }
      const t3 = performance.now();
      const perStep = samplesStats.perStep;
      const stats: QueryStats = {
        timings: { evalTotalTime: (t3 - t0) / 1000, resultSortTime: (t3 - t2) / 1000, queryPreparationTime: (t1 - t0) / 1000, innerEvalTime: (t2 - t1) / 1000 },
        samples: {
          totalQueryableSamples: samplesStats.totalQueryableSamples,
          peakSamples: samplesStats.peakSamples,
          ...(perStep !== null ? { totalQueryableSamplesPerStep: Array.from(perStep, (n, i) => [(spec.start + i * interval) / 1000, n] as const) } : {}),
        },
      };
      return { value, warnings: rendered.warnings, infos: rendered.infos, stats };
    } catch (err) {
      if (err instanceof QueryError) throw err;
      if (signal?.aborted === true) throw new ErrQueryCanceled(stage, err);
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      if (stage === 'query preparation') throw new ErrStorage(err);
      throw new ErrExecution(err instanceof Error ? err.message : String(err));
    } finally {
      selected.clear();
      arena.release();
      await querier?.close();
    }
  }
}

function toVector(m: Matrix, ts: number): Vector {
  const out: Vector = [];
  for (const s of m) {
    if (s.floats.length > 0) out.push({ metric: s.metric, t: ts, f: s.floats.fs[0]!, h: undefined, dropName: false });
    else {
      const h = s.histograms[0];
      if (h !== undefined) out.push({ metric: s.metric, t: ts, f: 0, h: h.h, dropName: false });
    }
  }
  return out;
}

interface Selection {
  vs: VectorSelector;
  hints: SelectHints;
  /**
   * statsFrom is set when the selector's histograms only feed histogram_count, histogram_sum or
   * histogram_avg: they are loaded as stats (count, sum) from this time on (see HistogramStats).
   */
  statsFrom?: number;
}

function statsOf(s: Selection): HistogramStats | undefined {
  return s.statsFrom === undefined ? undefined : new HistogramStats(s.statsFrom);
}

/**
 * statsOnly reports whether the histograms of a selector under path (root first) may be loaded as
 * stats only, as Prometheus's detectHistogramStatsDecoding: below histogram_count, histogram_sum or
 * histogram_avg, unless a subquery (which needs the buckets for its own reset detection), a
 * function needing the buckets, or a trim operator comes between.
 */
function statsOnly(path: readonly Expr[]): boolean {
  let skip = false;
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i]!;
    if (n.kind === 'SubqueryExpr') return false;
    if (n.kind === 'Call') {
      const name = n.func.name;
      if (name === 'histogram_count' || name === 'histogram_sum' || name === 'histogram_avg') skip = true;
      else if (name === 'histogram_quantile' || name === 'histogram_quantiles' || name === 'histogram_fraction') return false;
    } else if (n.kind === 'BinaryExpr' && (n.op === '</' || n.op === '>/')) return false;
  }
  return skip;
}

/** collectSelectors computes the time range and hints of every selector (getTimeRangesForSelector). */
function collectSelectors(root: Expr, spec: QuerySpec, lookback: number, env: { start: number; end: number; interval: number }): Selection[] {
  const out: Selection[] = [];
  const path: Expr[] = [];
  const atOf = (n: VectorSelector | SubqueryExpr): number | null => (n.startOrEnd === 'start' ? spec.start : n.startOrEnd === 'end' ? spec.end : n.timestamp);
  const visitSel = (vs: VectorSelector, evalRange: number): void => {
    let start = spec.start;
    let end = spec.end;
    let subOffset = 0;
    let subRange = 0;
    let subTs: number | null = null;
    for (const n of path) {
      if (n.kind !== 'SubqueryExpr') continue;
      const at = atOf(n);
      if (at !== null) {
        subTs = at;
        subOffset = 0;
        subRange = 0;
      }
      subOffset += n.offsetExpr !== null && n.offset === 0 ? evalDuration(n.offsetExpr, env) : n.offset;
      subRange += n.rangeExpr !== null && n.range === 0 ? evalDuration(n.rangeExpr, env) : n.range;
    }
    if (subTs !== null) {
      start = subTs;
      end = subTs;
    }
    const at = atOf(vs);
    if (at !== null) {
      start = at;
      end = at;
    } else {
      start = start - subOffset - subRange;
      end -= subOffset;
    }
    start -= evalRange === 0 ? lookback : evalRange;
    // anchored and smoothed look one lookback delta before the range, smoothed also after it.
    if (vs.anchored || vs.smoothed) start -= lookback;
    if (vs.smoothed) end += lookback;
    const off = vs.offsetExpr !== null && vs.offset === 0 ? evalDuration(vs.offsetExpr, env) : vs.offset;
    start -= off;
    end -= off;
    let func: string | undefined;
    let grouping: readonly string[] | undefined;
    let by: boolean | undefined;
    for (let i = path.length - 1; i >= 0; i--) {
      const n = path[i]!;
      if (func === undefined && n.kind === 'Call') func = n.func.name;
      if (n.kind === 'AggregateExpr') {
        grouping = n.grouping;
        by = !n.without;
        break;
      }
    }
    const hints: SelectHints = {
      start,
      end,
      step: spec.isRange ? spec.step : 0,
      range: evalRange,
      ...(func !== undefined ? { func } : {}),
      ...(grouping !== undefined ? { grouping, by: by ?? true } : {}),
    };
    // Prometheus's iterators start a vector selector's lookback window just after its start, a range's at it.
    if (statsOnly(path)) out.push({ vs, hints, statsFrom: evalRange === 0 ? start + 1 : start });
    else out.push({ vs, hints });
  };
  // An explicit stack instead of recursion (expressions may be thousands of levels deep);
  // null pops the path.
  const stack: (Expr | null)[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e === null) {
      path.pop();
      continue;
    }
    if (e.kind === 'VectorSelector') {
      visitSel(e, 0);
      continue;
    }
    if (e.kind === 'MatrixSelector') {
      const r = e.rangeExpr !== null && e.range === 0 ? evalDuration(e.rangeExpr, env) : e.range;
      path.push(e);
      visitSel(e.vectorSelector, r);
      path.pop();
      continue;
    }
    path.push(e);
    stack.push(null);
    let kids: readonly Expr[];
    switch (e.kind) {
      case 'AggregateExpr':
        kids = e.param !== null ? [e.expr, e.param] : [e.expr];
        break;
      case 'BinaryExpr':
        kids = [e.lhs, e.rhs];
        break;
      case 'Call':
        // info()'s second argument only selects info series; the engine pre-selects those itself.
        kids = e.func.name === 'info' ? e.args.slice(0, 1) : e.args;
        break;
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        kids = [e.expr];
        break;
      default:
        kids = [];
        break;
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out;
}

export type { Series };

function isChunkQueryable(q: Queryable): q is Queryable & ChunkQueryable {
  return typeof (q as Partial<ChunkQueryable>).chunkQuerier === 'function';
}
