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

/**
 * histogramFraction is Prometheus's HistogramFraction. With NaN observations (a NaN sum) only the
 * bucketed observations count towards the fractions, which are still divided by the total count;
 * nanInfo tells whether that happened (bucket counts below the total).
 */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram): { f: number; nanInfo: boolean } {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return { f: NaN, nanInfo: false };
  if (lower >= upper) return { f: 0, nanInfo: false };
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  const custom = usesCustomBuckets(h);
  const onlyPositive = h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0;
  const onlyNegative = h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0;
  const buckets = allBuckets(h);
  for (const b0 of buckets) {
    const b = { ...b0 };
    let zero = false;
    if (b.lower <= 0 && b.upper >= 0) {
      // As upstream, also for custom buckets: a bucket spanning zero counts from 0 when there are only positive buckets.
      zero = true;
      if (onlyPositive) b.lower = 0;
      else if (onlyNegative) b.upper = 0;
    }
    // Linear interpolation (custom buckets, zero bucket); a bucket reaching down to -Inf is never
    // interpolated into: it contributes all of its count (as a +Inf upper bound contributes none).
    const lin = (v: number): number => (b.lower === -Infinity ? b.count : rank + (b.count * (v - b.lower)) / (b.upper - b.lower));
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
  let count = h.count;
  let nanInfo = false;
  if (Number.isNaN(h.sum)) {
    // NaN observations sit in no bucket: only the bucketed ones can fall into any range.
    let bucketed = 0;
    for (const b of buckets) bucketed += b.count;
    count = bucketed;
    nanInfo = bucketed < h.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return { f: (upperRank - lowerRank) / h.count, nanInfo };
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
        const r = histogramFraction(lower, upper, s.h!);
        if (r.nanInfo) enh.annotate(annos.nativeHistogramFractionNaNs(s.metric.get(MetricName), call.args[2]!.posRange));
        res.push({ metric: s.metric, t: enh.ts, f: r.f, h: undefined, dropName: true });
      }
      return res;
    },
  ],
];
