import type { FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName } from '../../labels/index.js';
import { annos } from './annotations.js';
import type { InstantFn } from './eval-helper.js';
import { allBuckets } from './histogram-buckets.js';
import { usesCustomBuckets } from './histogram-ops.js';
import type { Vector } from './value.js';
import { formatFloat } from './format-float.js';

interface ClassicBucket {
  upperBound: number;
  count: number;
}

const minNormal = 2.2250738585072014e-308;

/** almostEqual is Prometheus's util/almost.Equal. */
export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

const floatRe = /^[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|0x[0-9a-f]+(?:\.[0-9a-f]*)?(?:p[+-]?\d+)?)$/i;

/** parseGoFloat parses like Go's strconv.ParseFloat; undefined on syntax error. */
export function parseGoFloat(s: string): number | undefined {
  if (!floatRe.test(s)) return undefined;
  const body = s.replace(/^[+-]/, '').toLowerCase();
  const neg = s.startsWith('-');
  let v: number;
  if (body.startsWith('inf')) v = Infinity;
  else if (body === 'nan') v = NaN;
  else if (body.startsWith('0x')) {
    const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(body)!;
    const frac = m[2] ?? '';
    v = parseInt((m[1] ?? '') + frac || '0', 16) * Math.pow(2, Number(m[3] ?? 0) - 4 * frac.length);
  } else v = Number(body);
  return neg ? -v : v;
}

/** bucketQuantile is Prometheus's BucketQuantile; returns [value, forcedMonotonicity]. */
export function bucketQuantile(q: number, buckets: ClassicBucket[]): [number, boolean] {
  if (Number.isNaN(q)) return [NaN, false];
  if (q < 0) return [-Infinity, false];
  if (q > 1) return [Infinity, false];
  buckets.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  if (buckets[buckets.length - 1]!.upperBound !== Infinity) return [NaN, false];
  // coalesce
  const co: ClassicBucket[] = [];
  for (const b of buckets) {
    const last = co[co.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else co.push({ upperBound: b.upperBound, count: b.count });
  }
  let forced = false;
  let prev = co[0]!.count;
  for (let i = 1; i < co.length; i++) {
    const cur = co[i]!.count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      co[i]!.count = prev;
      continue;
    }
    if (cur < prev) {
      co[i]!.count = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  if (co.length < 2) return [NaN, forced];
  const observations = co[co.length - 1]!.count;
  if (observations === 0) return [NaN, forced];
  let rank = q * observations;
  let b = 0;
  {
    let lo = 0;
    let hi = co.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (co[mid]!.count >= rank) hi = mid;
      else lo = mid + 1;
    }
    b = lo;
  }
  if (b === co.length - 1) return [co[co.length - 2]!.upperBound, forced];
  if (b === 0 && co[0]!.upperBound <= 0) return [co[0]!.upperBound, forced];
  let bucketStart = 0;
  const bucketEnd = co[b]!.upperBound;
  let count = co[b]!.count;
  if (b > 0) {
    bucketStart = co[b - 1]!.upperBound;
    count -= co[b - 1]!.count;
    rank -= co[b - 1]!.count;
  }
  return [bucketStart + (bucketEnd - bucketStart) * (rank / count), forced];
}

/** histogramQuantile is Prometheus's HistogramQuantile for native histograms. */
export function histogramQuantile(q: number, h: FloatHistogram): number {
  return histogramQuantileNaN(q, h)[0];
}

/**
 * histogramQuantileNaN is histogramQuantile that also tells whether NaN observations made the
 * result NaN ('nan') or skewed it ('skew').
 */
export function histogramQuantileNaN(q: number, h: FloatHistogram): [number, 'nan' | 'skew' | undefined] {
  const hasNaN = Number.isNaN(h.sum);
  const r = histogramQuantileRaw(q, h);
  if (!hasNaN || q < 0 || q > 1 || h.count === 0 || Number.isNaN(q)) return [r[0], undefined];
  return r[1] ? [NaN, 'nan'] : [r[0], 'skew'];
}

function histogramQuantileRaw(q: number, h: FloatHistogram): [number, boolean] {
  const v = histogramQuantileInner(q, h);
  return v;
}

function histogramQuantileInner(q: number, h: FloatHistogram): [number, boolean] {
  if (q < 0) return [-Infinity, false];
  if (q > 1) return [Infinity, false];
  if (h.count === 0 || Number.isNaN(q)) return [NaN, false];
  const custom = usesCustomBuckets(h);
  let bs = allBuckets(h);
  const forward = Number.isNaN(h.sum) || q < 0.5;
  let rank = forward ? q * h.count : (1 - q) * h.count;
  if (!forward) bs = bs.reverse();
  let count = 0;
  let bucket = { lower: 0, upper: 0, count: 0 };
  for (const b of bs) {
    bucket = { ...b };
    if (b.count === 0) continue;
    count += b.count;
    if (count >= rank) break;
  }
  if (!custom && bucket.lower < 0 && bucket.upper > 0) {
    const hasNeg = h.negativeBuckets.length > 0;
    const hasPos = h.positiveBuckets.length > 0;
    if (!hasNeg && hasPos) bucket.lower = 0;
    else if (!hasPos && hasNeg) bucket.upper = 0;
  } else if (custom) {
    if (bucket.lower === -Infinity) {
      if (bucket.upper <= 0) return [bucket.upper, false];
      bucket.lower = 0;
    } else if (bucket.upper === Infinity) return [bucket.lower, false];
  }
  if (count > h.count) count = h.count;
  if (count < rank) return [bucket.upper, true];
  if (forward) rank -= count - bucket.count;
  else rank = count - rank;
  const fraction = rank / bucket.count;
  if (custom || (bucket.lower <= 0 && bucket.upper >= 0)) return [bucket.lower + (bucket.upper - bucket.lower) * fraction, false];
  const logLower = Math.log2(Math.abs(bucket.lower));
  const logUpper = Math.log2(Math.abs(bucket.upper));
  if (bucket.lower > 0) return [Math.pow(2, logLower + (logUpper - logLower) * fraction), false];
  return [-Math.pow(2, logUpper + (logLower - logUpper) * (1 - fraction)), false];
}

/** funcHistogramQuantile implements histogram_quantile over classic and native histograms. */
export const funcHistogramQuantile: InstantFn = (args, call, enh) => {
  const q = args[0]![0]?.f ?? NaN;
  if (Number.isNaN(q) || q < 0 || q > 1) enh.annotate(annos.invalidQuantile(q, call.args[0]!.posRange));
  const pos = call.args[1]!.posRange;
  const groups = new Map<string, { metric: Labels; buckets: ClassicBucket[]; dropName: boolean }>();
  const natives: Vector = [];
  for (const s of args[1]!) {
    if (s.h !== undefined) {
      natives.push(s);
      continue;
    }
    const le = s.metric.get('le');
    const ub = parseGoFloat(le);
    if (ub === undefined) {
      enh.annotate(annos.badBucketLabel(s.metric.get(MetricName), le, pos));
      continue;
    }
    const sig = s.metric.without(['le']).key();
    let g = groups.get(sig);
    if (g === undefined) {
      g = { metric: s.metric.without([MetricName, 'le']), buckets: [], dropName: true };
      groups.set(sig, g);
    }
    g.buckets.push({ upperBound: ub, count: s.f });
  }
  const res: Vector = [];
  for (const s of natives) {
    const sig = s.metric.key();
    const g = groups.get(sig);
    if (g !== undefined && g.buckets.length > 0) {
      enh.annotate(annos.mixedClassicNative(s.metric.get(MetricName), pos));
      groups.delete(sig);
      continue;
    }
    const [v, nan] = histogramQuantileNaN(q, s.h!);
    if (nan === 'nan') enh.annotate(annos.nativeHistogramQuantileNaNResult(s.metric.get(MetricName), pos));
    else if (nan === 'skew') enh.annotate(annos.nativeHistogramQuantileNaNSkew(s.metric.get(MetricName), pos));
    res.push({ metric: s.metric, t: enh.ts, f: v, h: undefined, dropName: true });
  }
  for (const g of groups.values()) {
    if (g.buckets.length === 0) continue;
    const name = g.buckets.length > 0 ? '' : '';
    const [v, forced] = bucketQuantile(q, g.buckets);
    if (forced) enh.annotate(annos.histogramQuantileForcedMonotonicity(name, pos));
    res.push({ metric: g.metric, t: enh.ts, f: v, h: undefined, dropName: false });
  }
  return res;
};

export { Labels };

/** bucketFraction is histogram_fraction over classic (cumulative `le`) buckets. */
export function bucketFraction(lower: number, upper: number, buckets: ClassicBucket[]): number {
  buckets.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  if (buckets.length === 0 || buckets[buckets.length - 1]!.upperBound !== Infinity) return NaN;
  const co: ClassicBucket[] = [];
  for (const b of buckets) {
    const last = co[co.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else co.push({ upperBound: b.upperBound, count: b.count });
  }
  let prev = co[0]!.count;
  for (let i = 1; i < co.length; i++) {
    const cur = co[i]!.count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12) || cur < prev) {
      co[i]!.count = prev;
      continue;
    }
    prev = cur;
  }
  const count = co[co.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let lowerBound = co[0]!.upperBound <= 0 ? -Infinity : 0;
  for (let i = 0; i < co.length; i++) {
    const b = co[i]!;
    if (i > 0) lowerBound = co[i - 1]!.upperBound;
    const upperBound = b.upperBound;
    const interp = (v: number): number => (lowerBound === -Infinity ? b.count : rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound));
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interp(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interp(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/** ClassicGroups splits a vector into native histogram samples and classic bucket groups. */
export function classicGroups(
  vec: Vector,
  pos: import('../parser/index.js').PositionRange,
  enh: { annotate(a: import('./annotations.js').Annotation): void },
): { natives: Vector; groups: Map<string, { metric: Labels; buckets: ClassicBucket[] }> } {
  const groups = new Map<string, { metric: Labels; buckets: ClassicBucket[] }>();
  const natives: Vector = [];
  for (const s of vec) {
    if (s.h !== undefined) {
      natives.push(s);
      continue;
    }
    const le = s.metric.get('le');
    const ub = parseGoFloat(le);
    if (ub === undefined) {
      enh.annotate(annos.badBucketLabel(s.metric.get(MetricName), le, pos));
      continue;
    }
    const sig = s.metric.without(['le']).key();
    let g = groups.get(sig);
    if (g === undefined) {
      g = { metric: s.metric.without([MetricName, 'le']), buckets: [] };
      groups.set(sig, g);
    }
    g.buckets.push({ upperBound: ub, count: s.f });
  }
  const keptNatives: Vector = [];
  for (const s of natives) {
    const sig = s.metric.key();
    const g = groups.get(sig);
    if (g !== undefined && g.buckets.length > 0) {
      enh.annotate(annos.mixedClassicNative(s.metric.get(MetricName), pos));
      groups.delete(sig);
      continue;
    }
    keptNatives.push(s);
  }
  return { natives: keptNatives, groups };
}

function quantileLabel(q: number): string {
  const s = formatFloat(q);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/**
 * funcHistogramQuantiles implements the experimental histogram_quantiles(v, "label", q...):
 * one output series per quantile, labelled with the quantile.
 */
export const funcHistogramQuantiles: InstantFn = (args, call, enh) => {
  const label = stringArgOf(call.args[1]);
  const res: Vector = [];
  for (let i = 2; i < call.args.length; i++) {
    const q = args[i]![0]?.f ?? NaN;
    const sub = funcHistogramQuantile([[{ metric: Labels.EMPTY, t: enh.ts, f: q, h: undefined, dropName: false }], args[0]!], { ...call, args: [call.args[i]!, call.args[0]!] }, enh);
    for (const s of sub) res.push({ ...s, metric: s.metric.builder().set(label, quantileLabel(q)).labels() });
  }
  return res;
};

function stringArgOf(e: import('../parser/index.js').Expr | undefined): string {
  while (e !== undefined && (e.kind === 'ParenExpr' || e.kind === 'StepInvariantExpr')) e = e.expr;
  return e !== undefined && e.kind === 'StringLiteral' ? e.val : '';
}
