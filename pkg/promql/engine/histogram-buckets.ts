import type { FloatHistogram } from '../../histogram/index.js';
import { bucketLowerBound, bucketUpperBound, usesCustomBuckets } from './histogram-ops.js';

/** Bucket is one bucket of a native histogram with its bounds. */
export interface Bucket {
  lower: number;
  upper: number;
  count: number;
}

function positives(h: FloatHistogram): Bucket[] {
  const out: Bucket[] = [];
  let idx = 0;
  let bi = 0;
  const custom = usesCustomBuckets(h);
  for (const s of h.positiveSpans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++) {
      const count = h.positiveBuckets[bi++] ?? 0;
      if (custom) {
        const lower = idx === 0 ? -Infinity : (h.customValues[idx - 1] ?? Infinity);
        const upper = idx < h.customValues.length ? h.customValues[idx]! : Infinity;
        out.push({ lower, upper, count });
      } else {
        out.push({ lower: bucketLowerBound(idx, h.schema), upper: bucketUpperBound(idx, h.schema), count });
      }
      idx++;
    }
  }
  if (!custom) for (const b of out) if (b.lower < h.zeroThreshold) b.lower = h.zeroThreshold;
  return out;
}

function negatives(h: FloatHistogram): Bucket[] {
  const out: Bucket[] = [];
  let idx = 0;
  let bi = 0;
  for (const s of h.negativeSpans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++) {
      const count = h.negativeBuckets[bi++] ?? 0;
      out.push({ lower: -bucketUpperBound(idx, h.schema), upper: -bucketLowerBound(idx, h.schema), count });
      idx++;
    }
  }
  for (const b of out) if (b.upper > -h.zeroThreshold) b.upper = -h.zeroThreshold;
  return out.reverse();
}

/** allBuckets lists every bucket from the lowest to the highest, including the zero bucket. */
export function allBuckets(h: FloatHistogram): Bucket[] {
  if (usesCustomBuckets(h)) return positives(h);
  const out = negatives(h);
  if (h.zeroThreshold !== 0 || h.zeroCount !== 0) out.push({ lower: -h.zeroThreshold, upper: h.zeroThreshold, count: h.zeroCount });
  out.push(...positives(h));
  return out;
}
