import type { FloatHistogram, Span } from '../histogram/index.js';
import { formatFloat } from './float-format.js';
import { exponentialBounds } from './histogram-bounds-table.js';

const customBucketsSchema = -53;

/**
 * bucketBound is Prometheus's getBound: the upper bound of bucket `idx` of an exponential schema
 * (2^(idx·2^-schema)), or of a custom-buckets histogram (customValues[idx], +Inf past the end).
 * For schemas 1…8 Prometheus multiplies constants from a table that are not always the correctly
 * rounded powers of two (e.g. 1.414213562373095 for √2); histogram-bounds-table.ts holds the
 * values as a real Prometheus reports them.
 */
function bucketBound(idx: number, schema: number, customValues: readonly number[]): number {
  if (schema === customBucketsSchema) {
    if (idx < 0) return -Infinity;
    return idx < customValues.length ? customValues[idx]! : Infinity;
  }
  if (schema <= 0) {
    const exp = idx * 2 ** -schema;
    if (exp >= 1024) return Number.MAX_VALUE;
    return 2 ** exp;
  }
  const n = 2 ** schema;
  const fracIdx = ((idx % n) + n) % n;
  const exp = Math.floor(idx / n) + 1;
  if (fracIdx === 0 && exp === 1025) return Number.MAX_VALUE;
  // Go: math.Ldexp(frac, exp) with frac = y/2 from its constant table; y read from Prometheus.
  const y = exponentialBounds[schema - 1]![fracIdx]!;
  return exp - 1 > 1023 ? y * 2 ** 1023 * 2 ** (exp - 1024) : y * 2 ** (exp - 1);
}

function bucketJson(boundaries: number, lower: number, upper: number, count: number): string {
  return `[${boundaries},"${formatFloat(lower)}","${formatFloat(upper)}","${formatFloat(count)}"]`;
}

/** forEachBucket calls fn(index, count) for the buckets described by spans/counts, in index order. */
function forEachBucket(spans: readonly Span[], counts: readonly number[], fn: (idx: number, count: number) => void): void {
  let idx = 0;
  let k = 0;
  for (let s = 0; s < spans.length; s++) {
    const span = spans[s]!;
    idx += span.offset;
    for (let j = 0; j < span.length; j++, idx++, k++) fn(idx, counts[k] ?? 0);
  }
}

/**
 * histogramJson encodes a native histogram as Prometheus's API does (jsonutil.MarshalHistogram):
 * `{"count":"…","sum":"…","buckets":[[boundaries,"lower","upper","count"],…]}` with buckets in
 * ascending order (negative, zero, positive), only non-empty ones, and `buckets` omitted when none.
 * Bounds of buckets that reach into the zero bucket are clamped to ±zeroThreshold, as Prometheus
 * does. Inclusiveness follows Prometheus: a bound is inclusive when it is on the far side of zero
 * (lower < 0, upper > 0).
 * boundaries: 0 = (lower, upper], 1 = [lower, upper), 2 = (lower, upper), 3 = [lower, upper].
 */
export function histogramJson(h: FloatHistogram): string {
  const parts: string[] = [];
  const neg: string[] = [];
  // Buckets overlapping the zero bucket are clamped to its threshold (allFloatBucketIterator);
  // not for custom buckets, whose first lower bound is -Inf.
  const zt = h.schema === customBucketsSchema ? -Infinity : h.zeroThreshold;
  forEachBucket(h.negativeSpans, h.negativeBuckets, (idx, count) => {
    if (count === 0) return;
    let upper = -bucketBound(idx - 1, h.schema, h.customValues);
    if (upper > -zt) upper = -zt;
    neg.push(bucketJson(1, -bucketBound(idx, h.schema, h.customValues), upper, count));
  });
  for (let i = neg.length - 1; i >= 0; i--) parts.push(neg[i]!);
  if (h.zeroCount > 0) parts.push(bucketJson(3, -h.zeroThreshold, h.zeroThreshold, h.zeroCount));
  forEachBucket(h.positiveSpans, h.positiveBuckets, (idx, count) => {
    if (count === 0) return;
    let lower = bucketBound(idx - 1, h.schema, h.customValues);
    if (lower < zt) lower = zt;
    parts.push(bucketJson(lower < 0 ? 3 : 0, lower, bucketBound(idx, h.schema, h.customValues), count));
  });
  let out = `{"count":"${formatFloat(h.count)}","sum":"${formatFloat(h.sum)}"`;
  if (parts.length > 0) out += `,"buckets":[${parts.join(',')}]`;
  return `${out}}`;
}
