import { CounterResetHint, type FloatHistogram } from '../../histogram/index.js';
import { annos } from './annotations.js';
import type { EvalHelper, RangeWindow } from './eval-helper.js';
import { combine, compactHistogram, detectReset, scaleHistogram, usesCustomBuckets } from './histogram-ops.js';

/** searchFirst returns the smallest i in [lo, hi) with ts[i] > t (ge: ≥ t), or hi (Go sort.Search). */
function searchFirst(ts: Float64Array, lo: number, hi: number, t: number, ge: boolean): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (ge ? ts[m]! >= t : ts[m]! > t) b = m;
    else a = m + 1;
  }
  return a;
}

/** interpolate is the linear value at t between two points; a counter reset restarts from 0. */
export function interpolate(t1: number, y1: number, t2: number, y2: number, t: number, isCounter: boolean): number {
  if (isCounter && y2 < y1) y1 = 0;
  return y1 + ((y2 - y1) * (t - t1)) / (t2 - t1);
}

/**
 * extendedFloatRate is rate/increase/delta over an `anchored` or `smoothed` range of floats
 * (Prometheus extendedRate): the window holds every float in (rangeStart − lookback, rangeEnd]
 * (+ lookback for smoothed); the value at the left boundary is the last sample at or before it
 * (interpolated for smoothed), likewise at the right boundary, without extrapolation.
 */
export function extendedFloatRate(w: RangeWindow, isCounter: boolean, isRate: boolean, smoothed: boolean): number | undefined {
  const ts = w.fts;
  const vs = w.fvs;
  const base = w.flo;
  let last = w.fhi - 1;
  if (last < base) return undefined;
  let first = Math.max(base, searchFirst(ts, base, last, w.rangeStart, false) - 1);
  if (smoothed) last = searchFirst(ts, base, last, w.rangeEnd, true);
  if (ts[last]! <= w.rangeStart) return undefined;
  if (smoothed && ts[first]! > w.rangeEnd) return undefined;
  const left = smoothed && ts[first]! < w.rangeStart ? interpolate(ts[first]!, vs[first]!, ts[first + 1]!, vs[first + 1]!, w.rangeStart, isCounter) : vs[first]!;
  const right = smoothed && last > base && ts[last]! > w.rangeEnd ? interpolate(ts[last - 1]!, vs[last - 1]!, ts[last]!, vs[last]!, w.rangeEnd, isCounter) : vs[last]!;
  let result = right - left;
  if (isCounter) {
    if (ts[first]! <= w.rangeStart) first++;
    if (ts[last]! >= w.rangeEnd) last--;
    let prev = left;
    for (let i = first; i <= last; i++) {
      if (vs[i]! < prev) result += prev;
      prev = vs[i]!;
    }
    if (right < prev) result += prev;
  }
  if (isRate) result /= w.range / 1000;
  return result;
}

export function interpolateHistograms(h1: FloatHistogram, t1: number, h2: FloatHistogram, t2: number, t: number, isCounter: boolean, enh: EvalHelper, w: { pos: RangeWindow['pos'] }): FloatHistogram | undefined {
  if (t === t1) return h1.copy();
  if (t === t2) return h2.copy();
  const fraction = (t - t1) / (t2 - t1);
  if (isCounter && detectReset(h1, h2)) return scaleHistogram(h2, fraction);
  const d = combine(h2, h1, true);
  if (d.h === undefined) return undefined;
  if (d.reconciled) enh.annotate(annos.mismatchedCustomBuckets('subtraction', w.pos));
  const r = combine(scaleHistogram(d.h, fraction), h1, false);
  if (r.h === undefined) return undefined;
  if (r.reconciled) enh.annotate(annos.mismatchedCustomBuckets('addition', w.pos));
  r.h.counterResetHint = h2.counterResetHint;
  return r.h;
}

/** extendedHistogramRate is extendedFloatRate for native histograms (Prometheus extendedHistogramRate). */
export function extendedHistogramRate(w: RangeWindow, isCounter: boolean, isRate: boolean, smoothed: boolean, enh: EvalHelper): FloatHistogram | undefined {
  const ts = w.hts;
  const hs = w.hvs;
  const base = w.hlo;
  let last = w.hhi - 1;
  if (last < base) return undefined;
  const first = Math.max(base, searchFirst(ts, base, last, w.rangeStart, false) - 1);
  if (smoothed) last = searchFirst(ts, base, last, w.rangeEnd, true);
  if (ts[last]! <= w.rangeStart) return undefined;
  if (smoothed && ts[first]! > w.rangeEnd) return undefined;
  const custom = usesCustomBuckets(hs[first]!);
  for (let i = first; i <= last; i++) {
    const h = hs[i]!;
    if (usesCustomBuckets(h) !== custom) {
      enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
      return undefined;
    }
    if (isCounter && h.counterResetHint === CounterResetHint.Gauge) enh.annotate(annos.nativeHistogramNotCounter(w.metricName, w.pos));
  }
  const left = smoothed && ts[first]! < w.rangeStart ? interpolateHistograms(hs[first]!, ts[first]!, hs[first + 1]!, ts[first + 1]!, w.rangeStart, isCounter, enh, w) : hs[first]!.copy();
  const right = smoothed && last > base && ts[last]! > w.rangeEnd ? interpolateHistograms(hs[last - 1]!, ts[last - 1]!, hs[last]!, ts[last]!, w.rangeEnd, isCounter, enh, w) : hs[last]!.copy();
  if (left === undefined || right === undefined) {
    enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
    return undefined;
  }
  if (!isCounter && (left.counterResetHint !== CounterResetHint.Gauge || right.counterResetHint !== CounterResetHint.Gauge)) {
    enh.annotate(annos.nativeHistogramNotGauge(w.metricName, w.pos));
  }
  const sub = combine(right, left, true);
  if (sub.h === undefined) {
    enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
    return undefined;
  }
  if (sub.reconciled) enh.annotate(annos.mismatchedCustomBuckets('subtraction', w.pos));
  let result = sub.h;
  if (isCounter) {
    let i = first + 1;
    let prev = left;
    if (smoothed && ts[first]! < w.rangeStart && detectReset(hs[first]!, hs[first + 1]!)) {
      prev = hs[first + 1]!;
      i++;
    }
    let correction: FloatHistogram | undefined;
    const addCorrection = (x: FloatHistogram): boolean => {
      if (correction === undefined) {
        correction = x.copy();
        return true;
      }
      const a = combine(correction, x, false);
      if (a.h === undefined) {
        enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
        return false;
      }
      if (a.reconciled) enh.annotate(annos.mismatchedCustomBuckets('addition', w.pos));
      correction = a.h;
      return true;
    };
    if (i <= last) {
      for (; i < last; i++) {
        const cur = hs[i]!;
        if (detectReset(prev, cur) && !addCorrection(prev)) return undefined;
        prev = cur;
      }
      if (detectReset(prev, right) && !addCorrection(prev)) return undefined;
    }
    if (correction !== undefined) {
      const a = combine(result, correction, false);
      if (a.h === undefined) {
        enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
        return undefined;
      }
      if (a.reconciled) enh.annotate(annos.mismatchedCustomBuckets('addition', w.pos));
      result = a.h;
    }
  }
  if (isRate) result = scaleHistogram(result, 1 / (w.range / 1000));
  result.counterResetHint = CounterResetHint.Gauge;
  return compactHistogram(result);
}

/**
 * anchorWindow narrows an `anchored` window for resets/changes to start at the last sample (float
 * or histogram) at or before rangeStart. Returns false when no sample lies after rangeStart.
 */
export function anchorWindow(w: RangeWindow): boolean {
  const fi = searchFirst(w.fts, w.flo, w.fhi, w.rangeStart, false);
  const hi = searchFirst(w.hts, w.hlo, w.hhi, w.rangeStart, false);
  if (fi === w.fhi && hi === w.hhi) return false;
  const ft = fi > w.flo ? w.fts[fi - 1]! : -Infinity;
  const ht = hi > w.hlo ? w.hts[hi - 1]! : -Infinity;
  const anchor = Math.max(ft, ht);
  w.flo = anchor === -Infinity ? w.flo : searchFirst(w.fts, w.flo, w.fhi, anchor, true);
  w.hlo = anchor === -Infinity ? w.hlo : searchFirst(w.hts, w.hlo, w.hhi, anchor, true);
  return true;
}
