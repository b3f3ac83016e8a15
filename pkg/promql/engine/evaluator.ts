import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName } from '../../labels/index.js';
import type { Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from '../parser/index.js';
import type { SamplesStats } from './query-stats.js';
import { evalAggregation } from './aggregations.js';
import { annos, type Annotation, type Annotations } from './annotations.js';
import { evalBinary } from './binary.js';
import { evalDuration } from './durations.js';
import { combineInfo, infoRefTime, type InfoPlan } from './info.js';
import { anchorWindow, extendedFloatRate, extendedHistogramRate, interpolate, interpolateHistograms } from './extended-rate.js';
import { usesCustomBuckets } from './histogram-ops.js';
import { ErrExecution, ErrQueryMemory, ErrTooManySamples } from './errors.js';
import type { EvalHelper, RangeWindow } from './eval-helper.js';
import { absentLabelsOf, instantFunctions } from './functions.js';
import { negateHistogram } from './histogram-ops.js';
import { floatAvgOverTime, floatExtrapolatedRate, floatInstantValue, floatMaxOverTime, floatMinOverTime, floatSumOverTime, rangeFunctions } from './range-functions.js';
import { upperBound } from '../../chunkenc/index.js';
import { seriesDataFromSeries, type SeriesData } from './series-data.js';
import { FloatArena, Floats } from './floats.js';
import { histogramSizePrefix, hpointSize, hpointsSize } from './hpoint-size.js';
import type { HPoint, Matrix, Sample, Series, StringValue, Vector } from './value.js';

/** EvalContext is shared by the evaluators of one query (top-level and subqueries). */
export interface EvalContext {
  readonly queryStart: number;
  readonly queryEnd: number;
  readonly isRangeQuery: boolean;
  readonly queryStep: number;
  readonly lookbackDelta: number;
  readonly maxSamples: number;
  /**
   * sampleLimit is the number of samples evaluation may hold: maxSamples, or fewer when the
   * per-query memory budget (less the loaded series data) allows fewer at 16 bytes a sample.
   */
  readonly sampleLimit: number;
  /** maxMemoryBytes is the per-query memory budget (0: none); loadedBytes what loading took of it. */
  readonly maxMemoryBytes: number;
  readonly loadedBytes: number;
  readonly noStepSubqueryInterval: number;
  readonly selected: Map<VectorSelector, SeriesData[]>;
  /** infoPlans holds the plan of every info() call, whose info series are in selected. */
  readonly infoPlans?: Map<Call, InfoPlan>;
  readonly annotations: Annotations;
  /** check throws when the query timed out or was canceled. */
  readonly check: () => void;
  currentSamples: number;
  /** samplesStats counts the samples selectors read and the peak of currentSamples (query stats); optional. */
  readonly samplesStats?: SamplesStats;
  /** depth counts the nested eval calls on the JavaScript stack (see Evaluator.eval). */
  depth: number;
}

/** DEEP_EVAL is the eval nesting from which a subtree is evaluated in bands (see #evalDeep). */
const DEEP_EVAL = 96;
/** BAND is the number of levels each banded evaluation recurses at most. */
const BAND = 48;

/** EvalResult is what evaluating a node gives: a matrix over all steps, or a string. */
export type EvalResult = Matrix | StringValue;

/** unwrapParens strips ParenExpr and StepInvariantExpr wrappers. */
export function unwrapParens(e: Expr): Expr {
  while (e.kind === 'ParenExpr' || e.kind === 'StepInvariantExpr') e = e.expr;
  return e;
}

/** atOf resolves the `@` modifier of a selector or subquery to ms, or null when absent. */
export function atOf(n: VectorSelector | SubqueryExpr, ctx: EvalContext): number | null {
  if (n.startOrEnd === 'start') return ctx.queryStart;
  if (n.startOrEnd === 'end') return ctx.queryEnd;
  return n.timestamp;
}

const namePreservingRangeFns = new Set(['last_over_time', 'first_over_time']);

/**
 * floatStepKinds numbers the range functions Evaluator#floatSteps computes over float series
 * itself (results written unboxed), each with the fewest samples a window needs for a result.
 */
const floatStepKinds: ReadonlyMap<string, { readonly kind: number; readonly minCount: number }> = new Map([
  ['rate', { kind: 0, minCount: 2 }],
  ['increase', { kind: 1, minCount: 2 }],
  ['delta', { kind: 2, minCount: 2 }],
  ['avg_over_time', { kind: 3, minCount: 1 }],
  ['sum_over_time', { kind: 4, minCount: 1 }],
  ['max_over_time', { kind: 5, minCount: 1 }],
  ['min_over_time', { kind: 6, minCount: 1 }],
  ['count_over_time', { kind: 7, minCount: 1 }],
  ['irate', { kind: 8, minCount: 2 }],
  ['idelta', { kind: 9, minCount: 2 }],
]);

/**
 * Evaluator evaluates an expression at every step of [start, end] (one step for instant queries),
 * as Prometheus's evaluator: every vector expression yields a Matrix with one point per step and
 * series, scalars a one-series Matrix without labels.
 */
export class Evaluator implements EvalHelper {
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  readonly ctx: EvalContext;
  ts = 0;

  constructor(ctx: EvalContext, start: number, end: number, interval: number) {
    this.ctx = ctx;
    this.start = start;
    this.end = end;
    this.interval = interval;
  }

  get queryStart(): number {
    return this.ctx.queryStart;
  }

  get queryEnd(): number {
    return this.ctx.queryEnd;
  }

  get queryStep(): number {
    return this.ctx.queryStep;
  }

  get isRangeQuery(): boolean {
    return this.ctx.isRangeQuery;
  }

  get numSteps(): number {
    return Math.floor((this.end - this.start) / this.interval) + 1;
  }

  annotate(a: Annotation): void {
    this.ctx.annotations.add(a);
  }

  /**
   * eval evaluates e over all steps. Expressions may nest arbitrarily deep (a chain of 10,000
   * binary operators is 10,000 levels), beyond what the JavaScript stack holds: past DEEP_EVAL
   * nested calls, the subtree is evaluated in bands (#evalDeep).
   */
  eval(e: Expr): EvalResult {
    const pre = this.#pre.get(e);
    if (pre !== undefined) {
      this.#pre.delete(e);
      if (Array.isArray(pre)) this.countSamples(totalSamples(pre));
      return pre;
    }
    const ctx = this.ctx;
    if (ctx.depth >= DEEP_EVAL) return this.#evalDeep(e);
    ctx.depth++;
    try {
      return this.#evalNode(e);
    } finally {
      ctx.depth--;
    }
  }

  readonly #pre = new Map<Expr, EvalResult>();

  /**
   * #evalDeep evaluates a deep subtree without deep recursion: the nodes BAND, 2·BAND, … levels
   * below e (among those this evaluator evaluates through eval) are evaluated first, deepest
   * band first, each recursing at most BAND levels before it meets the results of the band
   * below; then e itself. A pending result is not counted against maxSamples until its parent
   * takes it (eval counts it then), so the accounting equals the recursive evaluation's except
   * that the peak omits results waiting for their parent.
   */
  #evalDeep(e: Expr): EvalResult {
    const ctx = this.ctx;
    const saved = ctx.depth;
    ctx.depth = 0;
    try {
      const bands: Expr[][] = [];
      const stack: [Expr, number][] = [[e, 0]];
      while (stack.length > 0) {
        const [n, d] = stack.pop()!;
        if (d > 0 && d % BAND === 0) (bands[d / BAND] ??= []).push(n);
        for (const c of evalOperands(n)) stack.push([c, d + 1]);
      }
      for (let b = bands.length - 1; b >= 1; b--) {
        for (const n of bands[b] ?? []) {
          const r = this.eval(n);
          if (Array.isArray(r)) ctx.currentSamples -= totalSamples(r);
          this.#pre.set(n, r);
        }
      }
      return this.eval(e);
    } finally {
      ctx.depth = saved;
    }
  }

  #evalNode(e: Expr): EvalResult {
    this.ctx.check();
    switch (e.kind) {
      case 'NumberLiteral':
        return this.constant(e.val);
      case 'DurationExpr':
        return this.constant(evalDuration(e, this.#durEnv()) / 1000);
      case 'StringLiteral':
        return { t: this.start, v: e.val };
      case 'ParenExpr':
      case 'StepInvariantExpr':
        return this.eval(e.expr);
      case 'UnaryExpr': {
        const m = this.evalMatrix(e.expr);
        if (e.op === '-') {
          for (const s of m) {
            const fs = s.floats.fs;
            for (let i = 0; i < s.floats.length; i++) fs[i] = -fs[i]!;
            for (const p of s.histograms) p.h = negateHistogram(p.h);
            if (s.metric.has(MetricName)) s.dropName = true;
          }
        }
        return m;
      }
      case 'VectorSelector':
        return this.evalVectorSelector(e);
      case 'MatrixSelector':
        return this.evalMatrixSelector(e);
      case 'SubqueryExpr':
        return this.evalSubqueryDirect(e);
      case 'Call':
        return this.evalCall(e);
      case 'AggregateExpr':
        return evalAggregation(this, e);
      case 'BinaryExpr':
        return evalBinary(this, e);
    }
  }

  /** evalMatrix evaluates e, which must not be a string. */
  evalMatrix(e: Expr): Matrix {
    const r = this.eval(e);
    if (!Array.isArray(r)) throw new ErrExecution('unexpected string value');
    return r;
  }

  /** evalScalarSteps evaluates a scalar expression to one value per step. */
  evalScalarSteps(e: Expr): Float64Array {
    const m = this.evalMatrix(e);
    const out = new Float64Array(this.numSteps).fill(NaN);
    const s = m[0];
    if (s !== undefined) for (let i = 0; i < s.floats.length; i++) out[this.stepIndex(s.floats.ts[i]!)] = s.floats.fs[i]!;
    return out;
  }

  stepIndex(t: number): number {
    return Math.round((t - this.start) / this.interval);
  }

  /** constant returns a scalar matrix with v at every step. */
  constant(v: number): Matrix {
    const n = this.numSteps;
    const floats = Floats.withCapacity(n);
    for (let i = 0; i < n; i++) floats.push(this.start + i * this.interval, v);
    return [{ metric: Labels.EMPTY, floats, histograms: [], dropName: false }];
  }

  /** countSamples adds n to the in-memory sample count and enforces maxSamples. */
  countSamples(n: number): void {
    this.ctx.currentSamples += n;
    if (this.ctx.currentSamples > this.ctx.sampleLimit) throw limitError(this.ctx);
    const st = this.ctx.samplesStats;
    if (st !== undefined && this.ctx.currentSamples > st.peakSamples) st.peakSamples = this.ctx.currentSamples;
  }

  /**
   * settle ends a node that consumed already evaluated inputs, as Prometheus's rangeEval does:
   * the output's samples are counted on top of the inputs (failing when both together exceed
   * maxSamples), then the inputs are released, leaving original (the count before the inputs were
   * evaluated) plus the output.
   */
  settle(original: number, out: Matrix): Matrix {
    const n = totalSamples(out);
    this.countSamples(n);
    this.ctx.currentSamples = original + n;
    return out;
  }

  /**
   * rangeEval evaluates exprs, then calls fn once per step with the instant vectors of each
   * argument at that step (empty for string arguments), and collects the results into a Matrix.
   */
  rangeEval(exprs: readonly Expr[], fn: (args: Vector[], enh: EvalHelper) => Vector): Matrix {
    const original = this.ctx.currentSamples;
    return this.rangeEvalMatrices(this.evalArgs(exprs), fn, original);
  }

  /** evalArgs evaluates exprs in order; string results become empty matrices. */
  evalArgs(exprs: readonly Expr[]): Matrix[] {
    return exprs.map((e) => {
      const r = this.eval(e);
      return Array.isArray(r) ? r : [];
    });
  }

  /**
   * rangeEvalMatrices is rangeEval over already evaluated arguments; original is the sample count
   * before they were evaluated. As Prometheus's rangeEval, the inputs stay counted while the
   * output grows (each step's output is counted and checked), and are released at the end.
   */
  rangeEvalMatrices(mats: readonly Matrix[], fn: (args: Vector[], enh: EvalHelper) => Vector, original: number): Matrix {
    const ptrs = mats.map((m) => ({ f: new Int32Array(m.length), h: new Int32Array(m.length) }));
    const out = new MatrixBuilder();
    const args: Vector[] = mats.map(() => []);
    const n = this.numSteps;
    for (let step = 0; step < n; step++) {
      if ((step & 63) === 0) this.ctx.check();
      const ts = this.start + step * this.interval;
      this.ts = ts;
      for (let i = 0; i < mats.length; i++) {
        const m = mats[i]!;
        const p = ptrs[i]!;
        const vec: Vector = [];
        for (let j = 0; j < m.length; j++) {
          const s = m[j]!;
          const fl = s.floats;
          let fi = p.f[j]!;
          while (fi < fl.length && fl.ts[fi]! < ts) fi++;
          p.f[j] = fi;
          if (fi < fl.length && fl.ts[fi] === ts) {
            vec.push({ metric: s.metric, t: ts, f: fl.fs[fi]!, h: undefined, dropName: s.dropName });
            continue;
          }
          let hi = p.h[j]!;
          while (hi < s.histograms.length && s.histograms[hi]!.t < ts) hi++;
          p.h[j] = hi;
          const hp = s.histograms[hi];
          if (hp !== undefined && hp.t === ts) vec.push({ metric: s.metric, t: ts, f: 0, h: hp.h, dropName: s.dropName });
        }
        args[i] = vec;
      }
      const res = fn(args, this);
      let size = 0;
      for (const s of res) size += s.h === undefined ? 1 : hpointSize(s.h);
      this.countSamples(size);
      out.addVector(res, ts);
    }
    const m = out.matrix();
    this.ctx.currentSamples = original + totalSamples(m);
    return m;
  }

  /** offsetOf resolves an offset written as a duration expression (e.g. `offset step()`). */
  offsetOf(n: VectorSelector | SubqueryExpr): number {
    return n.offsetExpr !== null && n.offset === 0 ? evalDuration(n.offsetExpr, this.#durEnv()) : n.offset;
  }

  #durEnv(): { start: number; end: number; interval: number } {
    return { start: this.ctx.queryStart, end: this.ctx.queryEnd, interval: this.ctx.queryStep };
  }

  // ---- selectors ----

  /**
   * #lookup finds the sample an instant selector sees at refT: -1 for none, 2·i for float i,
   * 2·i + 1 for histogram i (a number, so a lookup allocates nothing).
   */
  #lookup(d: SeriesData, refT: number): number {
    const fi = upperBound(d.fts, d.fn, refT) - 1;
    const hi = upperBound(d.hts, d.hn, refT) - 1;
    const ft = fi >= 0 ? d.fts[fi]! : -Infinity;
    const ht = hi >= 0 ? d.hts[hi]! : -Infinity;
    const t = Math.max(ft, ht);
    if (t === -Infinity || t <= refT - this.ctx.lookbackDelta) return -1;
    if (d.sn > 0) {
      const si = upperBound(d.sts, d.sn, refT) - 1;
      if (si >= 0 && d.sts[si]! > t) return -1;
    }
    return ft >= ht ? 2 * fi : 2 * hi + 1;
  }

  evalVectorSelector(vs: VectorSelector, sampleTimestamps = false): Matrix {
    const datas = this.ctx.selected.get(vs) ?? [];
    const at = atOf(vs, this.ctx);
    const offset = this.offsetOf(vs);
    const out: Matrix = [];
    const n = this.numSteps;
    const ctx = this.ctx;
    const max = ctx.sampleLimit;
    const st = ctx.samplesStats;
    // Per-step stats are counted per point; otherwise the series' total is added once after its loop.
    const perStep = st !== undefined && st.perStep !== null ? st : undefined;
    // Points go into a scratch list sized for the longest series, then into exact-size views;
    // every point is counted as it is produced, so an over-limit selector fails before it holds
    // more than maxSamples points.
    const scratch = Floats.withCapacity(Math.min(n, 1 << 16));
    scratch.maxCapacity = n;
    const arena = new FloatArena();
    let processed = 0;
    for (const d of datas) {
      if ((++processed & 63) === 0) ctx.check();
      scratch.length = 0;
      const histograms: HPoint[] = [];
      if (vs.smoothed && !sampleTimestamps) {
        for (let step = 0; step < n; step++) {
          const ts = this.start + step * this.interval;
          this.#smoothedAt(d, (at ?? ts) - offset, ts, vs, scratch, histograms);
        }
        if (scratch.length > 0 || histograms.length > 0) {
          out.push({ metric: d.metric, floats: arena.seal(scratch), histograms, dropName: false });
          this.countSamples(scratch.length + hpointsSize(histograms));
        }
        continue;
      }
      const seriesStart = ctx.currentSamples;
      for (let step = 0; step < n; step++) {
        const ts = this.start + step * this.interval;
        const refT = (at ?? ts) - offset;
        const r = this.#lookup(d, refT);
        if (r < 0) continue;
        const i = r >>> 1;
        const k = (r & 1) === 0 || sampleTimestamps ? 1 : hpointSize(d.hvs[i]!);
        ctx.currentSamples += k;
        if (ctx.currentSamples > max) throw limitError(ctx);
        if (perStep !== undefined) perStep.addAt(ts, k);
        if ((step & 0xffff) === 0xffff) ctx.check();
        if ((r & 1) === 0) scratch.push(ts, sampleTimestamps ? d.fts[i]! / 1000 : d.fvs[i]!);
        else if (sampleTimestamps) scratch.push(ts, d.hts[i]! / 1000);
        else histograms.push({ t: ts, h: d.hvs[i]! });
      }
      if (st !== undefined) {
        if (perStep === undefined) st.totalQueryableSamples += ctx.currentSamples - seriesStart;
        if (ctx.currentSamples > st.peakSamples) st.peakSamples = ctx.currentSamples;
      }
      if (scratch.length > 0 || histograms.length > 0) {
        out.push({ metric: d.metric, floats: arena.seal(scratch), histograms, dropName: sampleTimestamps });
      }
    }
    return out;
  }

  /**
   * #smoothedAt appends the value of a `smoothed` selector at refT: the sample at refT, else the
   * linear interpolation between the samples around refT (within the lookback delta on each
   * side; histograms as counters), else the last sample before refT.
   */
  #smoothedAt(d: SeriesData, refT: number, ts: number, vs: VectorSelector, floats: Floats, histograms: HPoint[]): void {
    const lb = this.ctx.lookbackDelta;
    const fi = upperBound(d.fts, d.fn, refT) - 1;
    const hi = upperBound(d.hts, d.hn, refT) - 1;
    const pft = fi >= 0 && d.fts[fi]! > refT - lb ? d.fts[fi]! : -Infinity;
    const pht = hi >= 0 && d.hts[hi]! > refT - lb ? d.hts[hi]! : -Infinity;
    const nft = fi + 1 < d.fn && d.fts[fi + 1]! <= refT + lb ? d.fts[fi + 1]! : Infinity;
    const nht = hi + 1 < d.hn && d.hts[hi + 1]! <= refT + lb ? d.hts[hi + 1]! : Infinity;
    const prevIsF = pft >= pht;
    const prevT = Math.max(pft, pht);
    if (prevT === -Infinity) return;
    if (prevT === refT) {
      if (prevIsF) floats.push(ts, d.fvs[fi]!);
      else histograms.push({ t: ts, h: d.hvs[hi]! });
      return;
    }
    const nextIsF = nft <= nht;
    const nextT = Math.min(nft, nht);
    if (nextT === Infinity) {
      if (prevIsF) floats.push(ts, d.fvs[fi]!);
      else histograms.push({ t: ts, h: d.hvs[hi]! });
      return;
    }
    if (prevIsF !== nextIsF) {
      this.annotate(annos.mixedFloatsHistograms(d.metric.get(MetricName), vs.posRange));
      return;
    }
    if (prevIsF) {
      floats.push(ts, interpolate(prevT, d.fvs[fi]!, nextT, d.fvs[fi + 1]!, refT, false));
      return;
    }
    const h1 = d.hvs[hi]!;
    const h2 = d.hvs[hi + 1]!;
    if (usesCustomBuckets(h1) !== usesCustomBuckets(h2)) {
      this.annotate(annos.mixedExponentialCustom(d.metric.get(MetricName), vs.posRange));
      return;
    }
    const h = interpolateHistograms(h1, prevT, h2, nextT, refT, true, this, { pos: vs.posRange });
    if (h === undefined) {
      this.annotate(annos.mixedExponentialCustom(d.metric.get(MetricName), vs.posRange));
      return;
    }
    histograms.push({ t: ts, h });
  }

  /** evalMatrixSelector evaluates a range vector at the (single) evaluation time. */
  evalMatrixSelector(ms: MatrixSelector): Matrix {
    const vs = ms.vectorSelector;
    const datas = this.ctx.selected.get(vs) ?? [];
    return this.#matrixFromData(datas, this.#rangeOf(ms), this.offsetOf(vs), atOf(vs, this.ctx), true);
  }

  #matrixFromData(datas: readonly SeriesData[], range: number, offset: number, at: number | null, fromSelector = false): Matrix {
    const refT = (at ?? this.start) - offset;
    const out: Matrix = [];
    for (const d of datas) {
      const flo = upperBound(d.fts, d.fn, refT - range);
      const fhi = upperBound(d.fts, d.fn, refT);
      const hlo = upperBound(d.hts, d.hn, refT - range);
      const hhi = upperBound(d.hts, d.hn, refT);
      if (flo === fhi && hlo === hhi) continue;
      const hsz = hhi > hlo ? histogramSizePrefix(d) : null;
      const cnt = fhi - flo + (hsz === null ? 0 : hsz[hhi]! - hsz[hlo]!);
      this.countSamples(cnt);
      if (fromSelector) this.ctx.samplesStats?.addAt(this.start, cnt);
      const floats = new Floats(d.fts.slice(flo, fhi), d.fvs.slice(flo, fhi));
      const histograms: HPoint[] = [];
      for (let i = hlo; i < hhi; i++) histograms.push({ t: d.hts[i]!, h: d.hvs[i]! });
      out.push({ metric: d.metric, floats, histograms, dropName: d.dropName });
    }
    return out;
  }

  #rangeOf(ms: MatrixSelector): number {
    if (ms.rangeExpr !== null && ms.range === 0) return evalDuration(ms.rangeExpr, this.#durEnv());
    return ms.range;
  }

  /** subqueryTimes returns the evaluator for a subquery and the data of its result series. */
  /**
   * evalSubquery evaluates a subquery's steps. forRangeFunction (a range function reads the result)
   * turns the result histograms' counter reset hints other than gauge into unknown, as Prometheus
   * does: the subquery may skip or repeat raw samples, so the stored hints no longer describe the
   * relation between consecutive points, and resets are detected from the buckets instead.
   */
  evalSubquery(sq: SubqueryExpr, forRangeFunction = false): { datas: SeriesData[]; range: number; offset: number; at: number | null; samples: number } {
    const range = sq.rangeExpr !== null && sq.range === 0 ? evalDuration(sq.rangeExpr, this.#durEnv()) : sq.range;
    let step = sq.stepExpr !== null && sq.step === 0 ? evalDuration(sq.stepExpr, this.#durEnv()) : sq.step;
    if (step === 0) step = this.ctx.noStepSubqueryInterval;
    const offset = this.offsetOf(sq);
    const at = atOf(sq, this.ctx);
    const from = (at ?? this.start) - offset - range;
    const to = (at ?? this.end) - offset;
    let start = step * Math.trunc(from / step);
    if (start <= from) start += step;
    const sub = new Evaluator(this.ctx, start, to, step);
    if (start > to) return { datas: [], range, offset, at, samples: 0 };
    // The result's samples stay counted (the sub-evaluator shares ctx) until the caller is done
    // with them and subtracts `samples`, as Prometheus's evalSubquery/totalSamples.
    const m = sub.evalMatrix(sq.expr);
    if (forRangeFunction) for (const s of m) unknownCounterResets(s.histograms);
    return { datas: m.map(seriesDataFromSeries), range, offset, at, samples: totalSamples(m) };
  }

  evalSubqueryDirect(sq: SubqueryExpr): Matrix {
    const r = this.evalSubquery(sq);
    const out = this.#matrixFromData(r.datas, r.range, r.offset, r.at);
    this.ctx.currentSamples -= r.samples;
    return out;
  }

  // ---- calls ----

  /** #extendedCall evaluates a function over an anchored/smoothed window at one step. */
  #extendedCall(name: string, w: RangeWindow, smoothed: boolean, call: Call, scalarArgs: (Float64Array | null)[], step: number): number | FloatHistogram | undefined {
    if (name === 'rate' || name === 'increase' || name === 'delta') {
      const isCounter = name !== 'delta';
      const isRate = name === 'rate';
      if (w.fhi > w.flo && w.hhi > w.hlo) {
        this.annotate(annos.mixedFloatsHistograms(w.metricName, w.pos));
        return undefined;
      }
      if (w.hhi > w.hlo) return extendedHistogramRate(w, isCounter, isRate, smoothed, this);
      const r = extendedFloatRate(w, isCounter, isRate, smoothed);
      if (r !== undefined && isCounter && w.metricName !== '' && !/(_total|_sum|_count|_bucket)$/.test(w.metricName)) {
        this.annotate(annos.possibleNonCounter(w.metricName, w.pos));
      }
      return r;
    }
    if (!anchorWindow(w)) return undefined;
    const fn = rangeFunctions.get(name)!;
    const scalars: number[] = [];
    for (const sa of scalarArgs) if (sa !== null) scalars.push(sa[step]!);
    return fn(w, scalars, call, this);
  }

  evalCall(call: Call): EvalResult {
    const name = call.func.name;
    if (name === 'timestamp') {
      const a = unwrapParens(call.args[0]!);
      if (a.kind === 'VectorSelector') return this.evalVectorSelector(a, true);
    }
    const matrixIdx = call.func.argTypes.indexOf('matrix');
    if (matrixIdx >= 0 && call.args.length > matrixIdx) return this.evalRangeCall(call, matrixIdx);
    if (name === 'info') return this.evalInfo(call);
    const fn = instantFunctions.get(name);
    if (fn === undefined) throw new ErrExecution(`function ${JSON.stringify(name)} is not implemented`);
    if (name === 'absent') return this.evalAbsent(call, fn);
    if (name === 'info') return this.evalInfo(call);
    return this.rangeEval(call.args, (args, enh) => fn(args, call, enh));
  }

  /** evalInfo evaluates info(): enriches its first argument with info series data labels. */
  evalInfo(call: Call): Matrix {
    const plan = this.ctx.infoPlans?.get(call);
    if (plan === undefined) throw new ErrExecution('info() was not planned');
    const base = this.evalMatrix(call.args[0]!);
    const infos = this.ctx.selected.get(plan.selector) ?? [];
    const steps = [];
    for (let i = 0; i < this.numSteps; i++) {
      const ts = this.start + i * this.interval;
      steps.push({ ts, refT: infoRefTime(plan.refPath, ts, this.ctx.queryStart, this.ctx.queryEnd) });
    }
    const out = new MatrixBuilder();
    combineInfo(plan, base, infos, steps, this.ctx.lookbackDelta, (metric, dropName, ts, f, h) => out.add({ metric, t: ts, f, h, dropName }, ts), this.ctx.check);
    const m = out.matrix();
    this.countSamples(totalSamples(m));
    return m;
  }

  evalAbsent(call: Call, fn: (args: Vector[], call: Call, enh: EvalHelper) => Vector): Matrix {
    const m = this.rangeEval(call.args, (args, enh) => fn(args, call, enh));
    return m;
  }

  /**
   * #floatSteps is evalRangeCall's step loop for a function of floatStepKinds (kind, minCount)
   * over a series of floats alone, without @, anchored, smoothed or scalar arguments: the same
   * windows, sample accounting and annotations, with the function's result computed by a
   * monomorphic call (floatExtrapolatedRate, floatAvgOverTime, ...) and written to floats, so no
   * step boxes a result (the generic loop's megamorphic RangeFn call does). It returns the last
   * step's window size.
   */
  #floatSteps(d: SeriesData, w: RangeWindow, floats: Floats, kind: number, minCount: number, offset: number, range: number, stats: SamplesStats | undefined, warnNonCounter: boolean): number {
    const n = this.numSteps;
    const start = this.start;
    const interval = this.interval;
    const fts = d.fts;
    const fn = d.fn;
    let fptr = 0;
    let fhi = 0;
    let lastCnt = 0;
    for (let step = 0; step < n; step++) {
      const ts = start + step * interval;
      this.ts = ts;
      const refT = ts - offset;
      const lo = refT - range;
      // Windows only move forward without @, so scan instead of searching.
      while (fptr < fn && fts[fptr]! <= lo) fptr++;
      let e = fptr > fhi ? fptr : fhi;
      while (e < fn && fts[e]! <= refT) e++;
      fhi = e;
      const cnt = e - fptr;
      lastCnt = cnt;
      if (cnt === 0) continue;
      stats?.addAt(ts, cnt);
      this.countSamples(cnt);
      if (warnNonCounter) this.annotate(annos.possibleNonCounter(w.metricName, w.pos));
      if (cnt >= minCount) {
        w.flo = fptr;
        w.fhi = e;
        w.rangeStart = lo;
        w.rangeEnd = refT;
        switch (kind) {
          case 0: // rate
          case 1: // increase
          case 2: // delta
            floats.push(ts, floatExtrapolatedRate(w, kind !== 2, kind === 0));
            break;
          case 3:
            floats.push(ts, floatAvgOverTime(w));
            break;
          case 4:
            floats.push(ts, floatSumOverTime(w));
            break;
          case 5:
            floats.push(ts, floatMaxOverTime(w));
            break;
          case 6:
            floats.push(ts, floatMinOverTime(w));
            break;
          case 7:
            floats.push(ts, cnt);
            break;
          default:
            // irate (8), idelta (9): no result for two samples at the same time.
            if (fts[e - 1] !== fts[e - 2]) floats.push(ts, floatInstantValue(w, kind === 8));
        }
      }
      this.ctx.currentSamples -= cnt;
    }
    return lastCnt;
  }

  evalRangeCall(call: Call, idx: number): Matrix {
    const name = call.func.name;
    const fn = rangeFunctions.get(name);
    if (fn === undefined) throw new ErrExecution(`function ${JSON.stringify(name)} is not implemented`);
    const arg = unwrapParens(call.args[idx]!);
    let datas: readonly SeriesData[];
    let range: number;
    let offset: number;
    let at: number | null;
    let matchers: VectorSelector | null = null;
    let subSamples = 0;
    let anchored = false;
    let smoothed = false;
    if (arg.kind === 'MatrixSelector') {
      anchored = arg.vectorSelector.anchored;
      smoothed = arg.vectorSelector.smoothed;
      if (anchored && !anchoredSafe.has(name)) throw new ErrExecution(`anchored modifier can only be used with: ${[...anchoredSafe].sort().join(', ')} - not with ${name}`);
      if (smoothed && !smoothedSafe.has(name)) throw new ErrExecution(`smoothed modifier can only be used with: ${[...smoothedSafe].sort().join(', ')} - not with ${name}`);
      datas = this.ctx.selected.get(arg.vectorSelector) ?? [];
      range = this.#rangeOf(arg);
      offset = this.offsetOf(arg.vectorSelector);
      at = atOf(arg.vectorSelector, this.ctx);
      matchers = arg.vectorSelector;
    } else if (arg.kind === 'SubqueryExpr') {
      const r = this.evalSubquery(arg, true);
      datas = r.datas;
      range = r.range;
      offset = r.offset;
      at = r.at;
      subSamples = r.samples;
    } else {
      throw new ErrExecution(`ranges only allowed for vector selectors`);
    }
    const scalarArgs: (Float64Array | null)[] = call.args.map((a, i) => (i === idx || call.func.argTypes[Math.min(i, call.func.argTypes.length - 1)] !== 'scalar' ? null : this.evalScalarSteps(a)));
    const scalars: number[] = [];
    const hasScalars = scalarArgs.some((a) => a !== null);
    const n = this.numSteps;
    const dropName = !namePreservingRangeFns.has(name);
    const w: RangeWindow = {
      fts: new Float64Array(0),
      fvs: new Float64Array(0),
      flo: 0,
      fhi: 0,
      hts: new Float64Array(0),
      hvs: [],
      hlo: 0,
      hhi: 0,
      rangeStart: 0,
      rangeEnd: 0,
      range,
      metricName: '',
      pos: call.args[idx]!.posRange,
      fn: 0,
      resetFrom: 0,
      resetNext: -1,
      resetsKnown: false,
    };
    const isAbsent = name === 'absent_over_time';
    const present = isAbsent ? new Uint8Array(n) : null;
    const checkCounter = name === 'rate' || name === 'increase';
    // rate, increase, delta, irate, idelta and avg/sum/max/min/count_over_time over float series
    // step by step in #floatSteps (no boxed results).
    const floatStep = !anchored && !smoothed && at === null && present === null && !hasScalars ? floatStepKinds.get(name) : undefined;
    const out: Matrix = [];
    let processed = 0;
    const floats = Floats.withCapacity(Math.min(n, 1 << 16));
    floats.maxCapacity = n;
    const arena = new FloatArena();
    for (const d of datas) {
      if ((++processed & 63) === 0) this.ctx.check();
      floats.length = 0;
      // The window of the last step stays counted while the series' output is added, as
      // Prometheus's buffer of window points stays counted until the next series.
      let lastCnt = 0;
      let n0 = 0;
      const histograms: HPoint[] = [];
      w.fts = d.fts;
      w.fvs = d.fvs;
      w.hts = d.hts;
      w.hvs = d.hvs;
      w.metricName = d.metric.get(MetricName);
      w.fn = d.fn;
      w.resetFrom = 0;
      w.resetNext = -1; // nothing scanned yet
      w.resetsKnown = checkCounter;
      const warnNonCounter = checkCounter && w.metricName !== '' && !/(_total|_sum|_count|_bucket)$/.test(w.metricName);
      let fptr = 0;
      let hptr = 0;
      if (floatStep !== undefined && d.hn === 0) {
        lastCnt = this.#floatSteps(d, w, floats, floatStep.kind, floatStep.minCount, offset, range, matchers !== null ? this.ctx.samplesStats : undefined, warnNonCounter);
        n0 = n;
      }
      for (let step = n0; step < n; step++) {
        const ts = this.start + step * this.interval;
        this.ts = ts;
        const refT = (at ?? ts) - offset;
        const lo = refT - range;
        if (anchored || smoothed) {
          const elo = lo - this.ctx.lookbackDelta;
          const ehi = smoothed ? refT + this.ctx.lookbackDelta : refT;
          w.flo = upperBound(d.fts, d.fn, elo);
          w.fhi = upperBound(d.fts, d.fn, ehi);
          w.hlo = upperBound(d.hts, d.hn, elo);
          w.hhi = upperBound(d.hts, d.hn, ehi);
          w.rangeStart = lo;
          w.rangeEnd = refT;
          const cnt = w.fhi - w.flo + (w.hhi > w.hlo ? windowHistSize(d, w.hlo, w.hhi) : 0);
          lastCnt = cnt;
          if (cnt === 0) continue;
          this.countSamples(cnt);
          if (matchers !== null) this.ctx.samplesStats?.addAt(ts, cnt);
          const r = this.#extendedCall(name, w, smoothed, call, scalarArgs, step);
          this.ctx.currentSamples -= cnt;
          if (r === undefined) continue;
          if (typeof r === 'number') floats.push(ts, r);
          else histograms.push({ t: ts, h: r });
          continue;
        }
        // Windows only move forward without @, so scan instead of searching.
        if (at === null) {
          while (fptr < d.fn && d.fts[fptr]! <= lo) fptr++;
          w.flo = fptr;
          let e = Math.max(fptr, w.fhi);
          while (e < d.fn && d.fts[e]! <= refT) e++;
          w.fhi = e;
          while (hptr < d.hn && d.hts[hptr]! <= lo) hptr++;
          w.hlo = hptr;
          let he = Math.max(hptr, w.hhi);
          while (he < d.hn && d.hts[he]! <= refT) he++;
          w.hhi = he;
        } else {
          w.flo = upperBound(d.fts, d.fn, lo);
          w.fhi = upperBound(d.fts, d.fn, refT);
          w.hlo = upperBound(d.hts, d.hn, lo);
          w.hhi = upperBound(d.hts, d.hn, refT);
        }
        w.rangeStart = lo;
        w.rangeEnd = refT;
        const cnt = w.fhi - w.flo + (w.hhi > w.hlo ? windowHistSize(d, w.hlo, w.hhi) : 0);
        lastCnt = cnt;
        if (cnt === 0) continue;
        if (matchers !== null) this.ctx.samplesStats?.addAt(ts, cnt);
        if (present !== null) {
          present[step] = 1;
          continue;
        }
        this.countSamples(cnt);
        if (warnNonCounter && w.fhi > w.flo) {
          this.annotate(annos.possibleNonCounter(w.metricName, w.pos));
        }
        if (hasScalars) {
          scalars.length = 0;
          for (const sa of scalarArgs) if (sa !== null) scalars.push(sa[step]!);
        }
        const r = fn(w, scalars, call, this);
        this.ctx.currentSamples -= cnt;
        if (r === undefined) continue;
        if (typeof r === 'number') floats.push(ts, r);
        else histograms.push({ t: ts, h: r });
      }
      w.fhi = 0;
      w.hhi = 0;
      if (floats.length > 0 || histograms.length > 0) {
        this.countSamples(lastCnt + floats.length + hpointsSize(histograms));
        this.ctx.currentSamples -= lastCnt;
        out.push({ metric: d.metric, floats: arena.seal(floats), histograms, dropName: d.dropName || (dropName && d.metric.has(MetricName)) });
      }
    }
    this.ctx.currentSamples -= subSamples;
    if (present !== null) {
      const floats = Floats.withCapacity(n);
      for (let step = 0; step < n; step++) if (present[step] === 0) floats.push(this.start + step * this.interval, 1);
      if (floats.length === 0) return [];
      const metric = matchers === null ? Labels.EMPTY : absentLabelsOf(matchers);
      return [{ metric, floats, histograms: [], dropName: false }];
    }
    return out;
  }
}


/** Functions that accept `anchored` and `smoothed` range selectors (Prometheus AnchoredSafeFunctions, SmoothedSafeFunctions). */
const anchoredSafe = new Set(['resets', 'changes', 'rate', 'increase', 'delta']);
const smoothedSafe = new Set(['rate', 'increase', 'delta']);

/**
 * MatrixBuilder collects per-step output vectors into series keyed by labels, raising
 * Prometheus's duplicate-labelset error when two samples of a step share a label set.
 */
export class MatrixBuilder {
  readonly #byKey = new Map<string, Series>();
  readonly #order: Series[] = [];

  addVector(v: Vector, ts: number): void {
    for (const s of v) this.add(s, ts);
  }

  add(s: Sample, ts: number): void {
    const key = s.metric.key();
    let ser = this.#byKey.get(key);
    if (ser === undefined) {
      ser = { metric: s.metric, floats: new Floats(), histograms: [], dropName: s.dropName };
      this.#byKey.set(key, ser);
      this.#order.push(ser);
    } else {
      const lh = ser.histograms[ser.histograms.length - 1];
      if (ser.floats.lastT() === ts || (lh !== undefined && lh.t === ts)) {
        throw new ErrExecution('vector cannot contain metrics with the same labelset');
      }
      ser.dropName ||= s.dropName;
    }
    if (s.h !== undefined) ser.histograms.push({ t: ts, h: s.h });
    else ser.floats.push(ts, s.f);
  }

  /** matrix returns the series, their floats moved to exact-size arrays. */
  matrix(): Matrix {
    const arena = new FloatArena();
    for (const s of this.#order) s.floats = arena.seal(s.floats);
    return this.#order;
  }
}

/**
 * checkDuplicateSeries raises the duplicate-labelset error if two series of m would have the
 * same labels after name removal and overlap in time.
 */
export function checkDuplicateSeries(m: Matrix, afterNameDrop: boolean): void {
  const seen = new Map<string, Series>();
  for (const s of m) {
    const lbls = afterNameDrop && s.dropName ? s.metric.withoutMetricName() : s.metric;
    const k = lbls.key();
    const prev = seen.get(k);
    if (prev !== undefined && overlaps(prev, s)) throw new ErrExecution('vector cannot contain metrics with the same labelset');
    seen.set(k, s);
  }
}

function overlaps(a: Series, b: Series): boolean {
  const ta = new Set<number>();
  for (let i = 0; i < a.floats.length; i++) ta.add(a.floats.ts[i]!);
  for (const p of a.histograms) ta.add(p.t);
  for (let i = 0; i < b.floats.length; i++) if (ta.has(b.floats.ts[i]!)) return true;
  for (const p of b.histograms) if (ta.has(p.t)) return true;
  return false;
}

/** sampleOf makes a Sample (helper for functions). */
export function sampleOf(metric: Labels, t: number, f: number, h: FloatHistogram | undefined, dropName: boolean): Sample {
  return { metric, t, f, h, dropName };
}

/** totalSamples is what m counts against max-samples (Prometheus's Matrix.TotalSamples). */
export function totalSamples(m: Matrix): number {
  let n = 0;
  for (const s of m) n += s.floats.length + (s.histograms.length === 0 ? 0 : hpointsSize(s.histograms));
  return n;
}

/** windowHistSize is the max-samples size of d's histograms [lo, hi). */
function windowHistSize(d: SeriesData, lo: number, hi: number): number {
  const p = histogramSizePrefix(d);
  return p[hi]! - p[lo]!;
}

/**
 * evalOperands lists the operands of n that an evaluator evaluates through its own eval (same
 * steps): not a range function's matrix argument, not a subquery's body (another evaluator),
 * not timestamp()'s selector, not info()'s label selector.
 */
function evalOperands(n: Expr): readonly Expr[] {
  switch (n.kind) {
    case 'ParenExpr':
    case 'StepInvariantExpr':
    case 'UnaryExpr':
      return [n.expr];
    case 'BinaryExpr':
      return [n.lhs, n.rhs];
    case 'AggregateExpr':
      return n.param !== null && n.op !== 'count_values' ? [n.param, n.expr] : [n.expr];
    case 'Call': {
      const name = n.func.name;
      if (name === 'timestamp' && n.args[0] !== undefined && unwrapParens(n.args[0]).kind === 'VectorSelector') return [];
      if (name === 'info') return n.args.slice(0, 1);
      const idx = n.func.argTypes.indexOf('matrix');
      if (idx >= 0 && n.args.length > idx) return n.args.filter((_a, i) => i !== idx && n.func.argTypes[Math.min(i, n.func.argTypes.length - 1)] === 'scalar');
      return n.args;
    }
    default:
      return [];
  }
}

/** BYTES_PER_SAMPLE is what a float sample held in evaluation costs (two Float64Array slots). */
export const BYTES_PER_SAMPLE = 16;

/** limitError is the error for ctx.currentSamples over ctx.sampleLimit: samples or memory. */
function limitError(ctx: EvalContext): Error {
  if (ctx.currentSamples > ctx.maxSamples) return new ErrTooManySamples('query execution');
  return new ErrQueryMemory('query execution', ctx.loadedBytes + ctx.currentSamples * BYTES_PER_SAMPLE, ctx.maxMemoryBytes);
}

/** unknownCounterResets replaces the points whose hint is reset or not-reset by shallow copies with an unknown hint. */
function unknownCounterResets(hs: HPoint[]): void {
  for (const p of hs) {
    const hint = p.h.counterResetHint;
    if (hint !== CounterResetHint.CounterReset && hint !== CounterResetHint.NotCounterReset) continue;
    const h = Object.assign(new FloatHistogram(), p.h);
    h.counterResetHint = CounterResetHint.Unknown;
    p.h = h;
  }
}

