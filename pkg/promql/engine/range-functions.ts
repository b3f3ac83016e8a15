import { CounterResetHint, type FloatHistogram } from '../../histogram/index.js';
import { annos } from './annotations.js';
import { ErrExecution } from './errors.js';
import type { RangeFn, RangeWindow } from './eval-helper.js';
import { histogramRate, histogramsEqual, detectReset, histAvgOverTime, histSumOverTime, subHistograms, scaleHistogram } from './histogram-ops.js';
import { kahanComp, kahanSumInc } from './kahan.js';

/** linearRegression fits floats of w against time (seconds from interceptTime), as Prometheus. */
export function linearRegression(ts: Float64Array, vs: Float64Array, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const f = vs[i]!;
    if (constY && i > lo && f !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(f, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * f, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function mixedWarning(w: RangeWindow, enh: Parameters<RangeFn>[3]): boolean {
  if (w.fhi > w.flo && w.hhi > w.hlo) {
    enh.annotate(annos.mixedFloatsHistograms(w.metricName, w.pos));
    return true;
  }
  return false;
}

function ignoredHistInfo(w: RangeWindow, enh: Parameters<RangeFn>[3]): void {
  if (w.hhi > w.hlo) enh.annotate(annos.histogramIgnoredInMixedRange(w.metricName, w.pos));
}

/** nextReset returns the first index >= a where w's floats drop, or w.fn (moves w's cursor). */
function nextReset(w: RangeWindow, a: number): number {
  if (a >= w.resetFrom && a <= w.resetNext) return w.resetNext;
  const fvs = w.fvs;
  let i = a;
  while (i < w.fn && !(fvs[i]! < fvs[i - 1]!)) i++;
  w.resetFrom = a;
  w.resetNext = i;
  return i;
}

/**
 * floatExtrapolatedRate is rate (isRate), increase (isCounter) or delta over the floats
 * w.flo..w.fhi of a window that has at least two floats and no histograms. It returns a plain
 * number, so the engine's per-step loop for these functions (see Evaluator) keeps it unboxed.
 */
export function floatExtrapolatedRate(w: RangeWindow, isCounter: boolean, isRate: boolean): number {
  const fts = w.fts;
  const fvs = w.fvs;
  const flo = w.flo;
  const fhi = w.fhi;
  const nMinus1 = fhi - flo - 1;
  const firstT = fts[flo]!;
  const lastT = fts[fhi - 1]!;
  let resultFloat = fvs[fhi - 1]! - fvs[flo]!;
  // With the reset cursor, a window without a drop skips the scan (the sum is the same: 0).
  if (isCounter && (!w.resetsKnown || nextReset(w, flo + 1) < fhi)) {
    let prev = fvs[flo]!;
    for (let i = flo + 1; i < fhi; i++) {
      const cur = fvs[i]!;
      if (cur < prev) resultFloat += prev;
      prev = cur;
    }
  }
  return resultFloat * extrapolationFactor(w, firstT, lastT, nMinus1, isCounter, isRate, resultFloat, fvs[flo]!);
}

/**
 * extrapolationFactor is the factor rate/increase/delta scale a window's raw change by: the
 * sampled interval firstT..lastT (nMinus1 gaps) extended towards w's range bounds (by at most half
 * an average gap, and for a counter not below zero, judged from the change and the first value),
 * divided by the range in seconds for a rate. Shared by floats and histograms (count, count of the first).
 */
function extrapolationFactor(w: RangeWindow, firstT: number, lastT: number, nMinus1: number, isCounter: boolean, isRate: boolean, change: number, first: number): number {
  let durationToStart = (firstT - w.rangeStart) / 1000;
  let durationToEnd = (w.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avg = sampledInterval / nMinus1;
  const threshold = avg * 1.1;
  let extrapolateToInterval = sampledInterval;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (change > 0 && first >= 0) durationToZero = sampledInterval * (first / change);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateToInterval += durationToStart;
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  extrapolateToInterval += durationToEnd;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= w.range / 1000;
  return factor;
}

function extrapolatedRate(isCounter: boolean, isRate: boolean): RangeFn {
  return (w, _s, _call, enh) => {
    if (mixedWarning(w, enh)) return undefined;
    const nh = w.hhi - w.hlo;
    // Both kinds in the window were reported above: floats here mean no histograms.
    if (nh <= 1) return w.fhi - w.flo > 1 ? floatExtrapolatedRate(w, isCounter, isRate) : undefined;
    const nMinus1 = nh - 1;
    const firstT = w.hts[w.hlo]!;
    const lastT = w.hts[w.hhi - 1]!;
    const resultHist = histogramRate(w, isCounter, enh);
    if (resultHist === undefined) return undefined;
    return scaleHistogram(resultHist, extrapolationFactor(w, firstT, lastT, nMinus1, isCounter, isRate, resultHist.count, w.hvs[w.hlo]!.count));
  };
}

/**
 * floatInstantValue is irate (isRate) or idelta over the last two floats w.fhi-2, w.fhi-1 of a
 * window with no histograms; NaN with a zero interval (no result: the caller checks that first).
 */
export function floatInstantValue(w: RangeWindow, isRate: boolean): number {
  const fts = w.fts;
  const fvs = w.fvs;
  const i = w.fhi - 1;
  const last = fvs[i]!;
  const prev = fvs[i - 1]!;
  const f = isRate && last < prev ? last : last - prev;
  return isRate ? f / ((fts[i]! - fts[i - 1]!) / 1000) : f;
}

function instantValue(isRate: boolean): RangeFn {
  return (w, _s, _call, enh) => {
    if (w.hhi === w.hlo) {
      if (w.fhi - w.flo < 2 || w.fts[w.fhi - 1] === w.fts[w.fhi - 2]) return undefined;
      return floatInstantValue(w, isRate);
    }
    // Last two samples across floats and histograms.
    type S = { t: number; f: number; h: FloatHistogram | undefined };
    const ss: S[] = [];
    for (let i = Math.max(w.flo, w.fhi - 2); i < w.fhi; i++) ss.push({ t: w.fts[i]!, f: w.fvs[i]!, h: undefined });
    for (let i = Math.max(w.hlo, w.hhi - 2); i < w.hhi; i++) {
      const s: S = { t: w.hts[i]!, f: 0, h: w.hvs[i]! };
      if (ss.length === 0) ss.push(s);
      else if (ss.length === 1) {
        if (s.t < ss[0]!.t) ss.unshift(s);
        else ss.push(s);
      } else if (s.t < ss[0]!.t) {
        // older than both: discard
      } else if (s.t > ss[1]!.t) {
        ss[0] = ss[1]!;
        ss[1] = s;
      } else ss[0] = s;
    }
    if (ss.length < 2) return undefined;
    const last = ss[1]!;
    const prev = ss[0]!;
    let f = 0;
    let h: FloatHistogram | undefined;
    if (last.h === undefined && prev.h === undefined) {
      f = isRate && last.f < prev.f ? last.f : last.f - prev.f;
    } else if (last.h !== undefined && prev.h !== undefined) {
      const G = CounterResetHint.Gauge;
      if (isRate && (prev.h.counterResetHint === G || last.h.counterResetHint === G)) enh.annotate(annos.nativeHistogramNotCounter(w.metricName, w.pos));
      if (!isRate && (prev.h.counterResetHint !== G || last.h.counterResetHint !== G)) enh.annotate(annos.nativeHistogramNotGauge(w.metricName, w.pos));
      if (isRate && detectReset(prev.h, last.h)) h = last.h;
      else {
        const r = subHistograms(last.h, prev.h, w.metricName, w.pos, enh, 'subtraction');
        if (r === undefined) return undefined;
        h = r;
      }
      h = h.copy();
      h.counterResetHint = CounterResetHint.Gauge;
    } else {
      enh.annotate(annos.mixedFloatsHistograms(w.metricName, w.pos));
      return undefined;
    }
    const interval = last.t - prev.t;
    if (interval === 0) return undefined;
    if (isRate) {
      if (h !== undefined) return scaleHistogram(h, 1000 / interval);
      f /= interval / 1000;
    }
    return h ?? f;
  };
}

function floatQuantile(q: number, vals: number[]): number {
  if (vals.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  vals.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = vals.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return vals[lower]! * (1 - weight) + vals[upper]! * weight;
}

export { floatQuantile };

let quantileScratch = new Float64Array(256);

/**
 * windowQuantile is floatQuantile over vs[lo, hi) without building an array: the values are
 * sorted in a reused Float64Array (numeric order, NaNs last), and ranks are shifted so NaNs
 * count as smallest, as floatQuantile's comparator orders them. Windows holding -0 go through
 * floatQuantile, whose stable sort keeps -0 and 0 in input order.
 */
function windowQuantile(q: number, vs: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (quantileScratch.length < n) quantileScratch = new Float64Array(Math.max(n, quantileScratch.length * 2));
  const a = quantileScratch.subarray(0, n);
  let nans = 0;
  for (let i = 0; i < n; i++) {
    const v = vs[lo + i]!;
    if (v === 0 && 1 / v < 0) return floatQuantile(q, Array.from(vs.subarray(lo, hi)));
    if (v !== v) nans++;
    a[i] = v;
  }
  a.sort();
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  const vl = lower < nans ? NaN : a[lower - nans]!;
  const vu = upper < nans ? NaN : a[upper - nans]!;
  return vl * (1 - weight) + vu * weight;
}

function floatsOf(w: RangeWindow): number[] {
  const out: number[] = [];
  for (let i = w.flo; i < w.fhi; i++) out.push(w.fvs[i]!);
  return out;
}

function varianceOverTime(w: RangeWindow): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = w.flo; i < w.fhi; i++) {
    const f = w.fvs[i]!;
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** floatSumOverTime is sum_over_time over the floats w.flo..w.fhi (at least one) of a window. */
export function floatSumOverTime(w: RangeWindow): number {
  let sum = 0;
  let c = 0;
  const fvs = w.fvs;
  for (let i = w.flo; i < w.fhi; i++) {
    const f = fvs[i]!;
    const t = sum + f;
    c = kahanComp(f, sum, t, c);
    sum = t;
  }
  if (!Number.isFinite(sum)) return sum;
  return sum + c;
}

/** floatAvgOverTime is avg_over_time over the floats w.flo..w.fhi (at least one) of a window. */
export function floatAvgOverTime(w: RangeWindow): number {
  let sum = w.fvs[w.flo]!;
  let count = 1;
  let mean = 0;
  let kahanC = 0;
  let incremental = false;
  // kahanSumInc's steps, written out (kahanComp) so that no sample allocates a result pair.
  const fvs = w.fvs;
  for (let i = w.flo + 1; i < w.fhi; i++) {
    const f = fvs[i]!;
    count = i - w.flo + 1;
    if (!incremental) {
      const ns = sum + f;
      if (Number.isFinite(ns) || Number.isNaN(ns)) {
        kahanC = kahanComp(f, sum, ns, kahanC);
        sum = ns;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      kahanC /= count - 1;
    }
    const q = (count - 1) / count;
    const inc = f / count;
    const base = q * mean;
    const t = base + inc;
    kahanC = kahanComp(inc, base, t, q * kahanC);
    mean = t;
  }
  if (incremental) return mean + kahanC;
  return sum / count + kahanC / count;
}

/** floatMaxOverTime is max_over_time over the floats w.flo..w.fhi (at least one) of a window. */
export function floatMaxOverTime(w: RangeWindow): number {
  const fvs = w.fvs;
  let m = fvs[w.flo]!;
  for (let i = w.flo; i < w.fhi; i++) {
    const f = fvs[i]!;
    if (f > m || Number.isNaN(m)) m = f;
  }
  return m;
}

/** floatMinOverTime is min_over_time over the floats w.flo..w.fhi (at least one) of a window. */
export function floatMinOverTime(w: RangeWindow): number {
  const fvs = w.fvs;
  let m = fvs[w.flo]!;
  for (let i = w.flo; i < w.fhi; i++) {
    const f = fvs[i]!;
    if (f < m || Number.isNaN(m)) m = f;
  }
  return m;
}

function floatOnly(f: (w: RangeWindow, scalars: readonly number[]) => number | undefined): RangeFn {
  return (w, s, _call, enh) => {
    if (w.fhi === w.flo) return undefined;
    ignoredHistInfo(w, enh);
    return f(w, s);
  };
}

function formatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return v.toFixed(6);
}

/** rangeFunctions maps function names taking a range vector to their implementations. */
export const rangeFunctions: ReadonlyMap<string, RangeFn> = new Map<string, RangeFn>([
  ['rate', extrapolatedRate(true, true)],
  ['increase', extrapolatedRate(true, false)],
  ['delta', extrapolatedRate(false, false)],
  ['irate', instantValue(true)],
  ['idelta', instantValue(false)],
  [
    'deriv',
    (w, _s, _call, enh) => {
      if (w.fhi - w.flo < 2) {
        if (w.fhi - w.flo === 1 && w.hhi > w.hlo) ignoredHistInfo(w, enh);
        return undefined;
      }
      ignoredHistInfo(w, enh);
      return linearRegression(w.fts, w.fvs, w.flo, w.fhi, w.fts[w.flo]!)[0];
    },
  ],
  [
    'predict_linear',
    (w, s, _call, enh) => {
      if (w.fhi - w.flo < 2) {
        if (w.fhi - w.flo === 1 && w.hhi > w.hlo) ignoredHistInfo(w, enh);
        return undefined;
      }
      ignoredHistInfo(w, enh);
      const [slope, intercept] = linearRegression(w.fts, w.fvs, w.flo, w.fhi, enh.ts);
      return slope * s[0]! + intercept;
    },
  ],
  [
    'double_exponential_smoothing',
    (w, s, _call, enh) => {
      const sf = s[0]!;
      const tf = s[1]!;
      if (!(sf > 0 && sf < 1)) throw new ErrExecution(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatF(sf)}`);
      if (!(tf > 0 && tf < 1)) throw new ErrExecution(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatF(tf)}`);
      const l = w.fhi - w.flo;
      if (l < 2) {
        if (l === 1 && w.hhi > w.hlo) ignoredHistInfo(w, enh);
        return undefined;
      }
      ignoredHistInfo(w, enh);
      let s0 = 0;
      let s1 = w.fvs[w.flo]!;
      let b = w.fvs[w.flo + 1]! - w.fvs[w.flo]!;
      for (let i = 1; i < l; i++) {
        const x = sf * w.fvs[w.flo + i]!;
        if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
        const y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    },
  ],
  [
    'sum_over_time',
    (w, _s, _call, enh) => {
      if (mixedWarning(w, enh)) return undefined;
      if (w.fhi === w.flo) return histSumOverTime(w, enh);
      return floatSumOverTime(w);
    },
  ],
  [
    'avg_over_time',
    (w, _s, _call, enh) => {
      if (mixedWarning(w, enh)) return undefined;
      if (w.fhi === w.flo) return histAvgOverTime(w, enh);
      return floatAvgOverTime(w);
    },
  ],
  ['count_over_time', (w) => w.fhi - w.flo + (w.hhi - w.hlo)],
  ['present_over_time', () => 1],
  [
    'last_over_time',
    (w) => {
      const ft = w.fhi > w.flo ? w.fts[w.fhi - 1]! : -Infinity;
      const ht = w.hhi > w.hlo ? w.hts[w.hhi - 1]! : -Infinity;
      return ht > ft ? w.hvs[w.hhi - 1]! : w.fvs[w.fhi - 1]!;
    },
  ],
  [
    'first_over_time',
    (w) => {
      const ft = w.fhi > w.flo ? w.fts[w.flo]! : Infinity;
      const ht = w.hhi > w.hlo ? w.hts[w.hlo]! : Infinity;
      return ht < ft ? w.hvs[w.hlo]! : w.fvs[w.flo]!;
    },
  ],
  [
    'ts_of_last_over_time',
    (w) => {
      const ft = w.fhi > w.flo ? w.fts[w.fhi - 1]! : -Infinity;
      const ht = w.hhi > w.hlo ? w.hts[w.hhi - 1]! : -Infinity;
      return Math.max(ft, ht) / 1000;
    },
  ],
  [
    'ts_of_first_over_time',
    (w) => {
      const ft = w.fhi > w.flo ? w.fts[w.flo]! : Infinity;
      const ht = w.hhi > w.hlo ? w.hts[w.hlo]! : Infinity;
      return Math.min(ft, ht) / 1000;
    },
  ],
  ['max_over_time', floatOnly(floatMaxOverTime)],
  ['min_over_time', floatOnly(floatMinOverTime)],
  [
    'ts_of_max_over_time',
    floatOnly((w) => {
      let m = w.fvs[w.flo]!;
      let t = w.fts[w.flo]!;
      for (let i = w.flo; i < w.fhi; i++) {
        const f = w.fvs[i]!;
        if (f >= m || Number.isNaN(m)) {
          m = f;
          t = w.fts[i]!;
        }
      }
      return t / 1000;
    }),
  ],
  [
    'ts_of_min_over_time',
    floatOnly((w) => {
      let m = w.fvs[w.flo]!;
      let t = w.fts[w.flo]!;
      for (let i = w.flo; i < w.fhi; i++) {
        const f = w.fvs[i]!;
        if (f <= m || Number.isNaN(m)) {
          m = f;
          t = w.fts[i]!;
        }
      }
      return t / 1000;
    }),
  ],
  ['stddev_over_time', floatOnly((w) => Math.sqrt(varianceOverTime(w)))],
  ['stdvar_over_time', floatOnly((w) => varianceOverTime(w))],
  [
    'quantile_over_time',
    (w, s, call, enh) => {
      const q = s[0]!;
      if (w.fhi === w.flo) return undefined;
      if (Number.isNaN(q) || q < 0 || q > 1) enh.annotate(annos.invalidQuantile(q, call.args[0]!.posRange));
      ignoredHistInfo(w, enh);
      return windowQuantile(q, w.fvs, w.flo, w.fhi);
    },
  ],
  [
    'mad_over_time',
    floatOnly((w) => {
      const vals = floatsOf(w);
      if (vals.some((v) => Number.isNaN(v))) return NaN;
      const median = floatQuantile(0.5, vals.slice());
      return floatQuantile(
        0.5,
        vals.map((v) => Math.abs(v - median)),
      );
    }),
  ],
  [
    'changes',
    (w) => {
      let changes = 0;
      let fi = w.flo;
      let hi = w.hlo;
      let prevF = 0;
      let prevH: FloatHistogram | undefined;
      let first = true;
      while (fi < w.fhi || hi < w.hhi) {
        const takeF = hi >= w.hhi || (fi < w.fhi && w.fts[fi]! < w.hts[hi]!);
        if (takeF) {
          const f = w.fvs[fi++]!;
          if (!first && (prevH !== undefined || (f !== prevF && !(Number.isNaN(f) && Number.isNaN(prevF))))) changes++;
          prevF = f;
          prevH = undefined;
        } else {
          const h = w.hvs[hi++]!;
          if (!first && (prevH === undefined || !histogramsEqual(prevH, h))) changes++;
          prevH = h;
        }
        first = false;
      }
      return changes;
    },
  ],
  [
    'resets',
    (w) => {
      let resets = 0;
      let fi = w.flo;
      let hi = w.hlo;
      let prevF = 0;
      let prevH: FloatHistogram | undefined;
      let first = true;
      while (fi < w.fhi || hi < w.hhi) {
        const takeF = hi >= w.hhi || (fi < w.fhi && w.fts[fi]! < w.hts[hi]!);
        if (takeF) {
          const f = w.fvs[fi++]!;
          if (!first && (prevH !== undefined || f < prevF)) resets++;
          prevF = f;
          prevH = undefined;
        } else {
          const h = w.hvs[hi++]!;
          if (!first && (prevH === undefined || detectReset(prevH, h))) resets++;
          prevH = h;
        }
        first = false;
      }
      return resets;
    },
  ],
  ['absent_over_time', () => 1],
]);
