import type { FloatHistogram } from '../../histogram/index.js';
import { MetricName } from '../../labels/index.js';
import { annos } from './annotations.js';
import type { InstantFn } from './eval-helper.js';
import { allBuckets } from './histogram-buckets.js';
import { usesCustomBuckets } from './histogram-ops.js';
import { kahanSumInc } from './kahan.js';
import { bucketFraction, classicGroups } from './histogram-quantile.js';
import type { Vector } from './value.js';

function perHistogram(f: (h: FloatHistogram) => number): InstantFn {
  return (args, _call, enh) => {
    const res: Vector = [];
    for (const s of args[0]!) if (s.h !== undefined) res.push({ metric: s.metric, t: enh.ts, f: f(s.h), h: undefined, dropName: true });
    return res;
  };
}

function variance(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  let v = 0;
  let c = 0;
  const custom = usesCustomBuckets(h);
  for (const b of allBuckets(h)) {
    if (b.count === 0) continue;
    let val: number;
    if (custom) val = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) val = 0;
    else {
      val = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    const d = val - mean;
    [v, c] = kahanSumInc(b.count * d * d, v, c);
  }
  return (v + c) / h.count;
}

/** histogramFraction is Prometheus's HistogramFraction. */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  const custom = usesCustomBuckets(h);
  for (const b0 of allBuckets(h)) {
    const b = { ...b0 };
    let zero = false;
    if (custom) {
      if (b.lower === -Infinity && b.upper > 0) b.lower = 0;
    } else if (b.lower <= 0 && b.upper >= 0) {
      zero = true;
      if (h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0) b.lower = 0;
      else if (h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0) b.upper = 0;
    }
    const lin = (v: number): number => rank + (b.count * (v - b.lower)) / (b.upper - b.lower);
    const exp = (v: number): number => {
      const ll = Math.log2(Math.abs(b.lower));
      const lu = Math.log2(Math.abs(b.upper));
      const lv = Math.log2(Math.abs(v));
      const fr = v > 0 ? (lv - ll) / (lu - ll) : 1 - (lv - lu) / (ll - lu);
      return rank + b.count * fr;
    };
    if (!lowerSet && b.lower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && b.lower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && b.lower < lower && b.upper > lower) {
      lowerRank = custom || zero ? lin(lower) : exp(lower);
      lowerSet = true;
    }
    if (!upperSet && b.lower < upper && b.upper > upper) {
      upperRank = custom || zero ? lin(upper) : exp(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  if (!lowerSet || lowerRank > h.count) lowerRank = h.count;
  if (!upperSet || upperRank > h.count) upperRank = h.count;
  return (upperRank - lowerRank) / h.count;
}

/** histogramFunctions are the functions over native histogram samples. */
export const histogramFunctions: [string, InstantFn][] = [
  ['histogram_count', perHistogram((h) => h.count)],
  ['histogram_sum', perHistogram((h) => h.sum)],
  ['histogram_avg', perHistogram((h) => h.sum / h.count)],
  ['histogram_stdvar', perHistogram(variance)],
  ['histogram_stddev', perHistogram((h) => Math.sqrt(variance(h)))],
  [
    'histogram_fraction',
    (args, call, enh) => {
      const lower = args[0]![0]?.f ?? NaN;
      const upper = args[1]![0]?.f ?? NaN;
      const res: Vector = [];
      const { natives, groups } = classicGroups(args[2]!, call.args[2]!.posRange, enh);
      for (const g of groups.values()) {
        if (g.buckets.length === 0) continue;
        res.push({ metric: g.metric, t: enh.ts, f: bucketFraction(lower, upper, g.buckets), h: undefined, dropName: false });
      }
      for (const s of natives) {
        if (Number.isNaN(s.h!.sum)) enh.annotate(annos.nativeHistogramFractionNaNs(s.metric.get(MetricName), call.args[2]!.posRange));
        res.push({ metric: s.metric, t: enh.ts, f: histogramFraction(lower, upper, s.h!), h: undefined, dropName: true });
      }
      return res;
    },
  ],
];
