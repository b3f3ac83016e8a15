import type { FloatHistogram, Span } from '../histogram/index.js';
import { formatFloat } from './float-format.js';

const customBucketsSchema = -53;

/**
 * bucketBound is Prometheus's getBound: the upper bound of bucket `idx` of an exponential schema
 * (2^(idx·2^-schema)), or of a custom-buckets histogram (customValues[idx], +Inf past the end).
 * For schema > 0 Prometheus uses a table of pre-computed fractions; Math.pow gives the same value
 * except possibly in the last bit.
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
  const frac = 2 ** (fracIdx / n) / 2;
  if (frac === 0.5 && exp === 1025) return Number.MAX_VALUE;
  return frac * 2 ** exp;
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
 * boundaries: 0 = (lower, upper], 1 = [lower, upper), 2 = (lower, upper), 3 = [lower, upper].
 */
export function histogramJson(h: FloatHistogram): string {
  const parts: string[] = [];
  const neg: string[] = [];
  forEachBucket(h.negativeSpans, h.negativeBuckets, (idx, count) => {
    if (count === 0) return;
    neg.push(bucketJson(1, -bucketBound(idx, h.schema, h.customValues), -bucketBound(idx - 1, h.schema, h.customValues), count));
  });
  for (let i = neg.length - 1; i >= 0; i--) parts.push(neg[i]!);
  if (h.zeroCount !== 0) parts.push(bucketJson(3, -h.zeroThreshold, h.zeroThreshold, h.zeroCount));
  forEachBucket(h.positiveSpans, h.positiveBuckets, (idx, count) => {
    if (count === 0) return;
    parts.push(bucketJson(0, bucketBound(idx - 1, h.schema, h.customValues), bucketBound(idx, h.schema, h.customValues), count));
  });
  let out = `{"count":"${formatFloat(h.count)}","sum":"${formatFloat(h.sum)}"`;
  if (parts.length > 0) out += `,"buckets":[${parts.join(',')}]`;
  return `${out}}`;
}
