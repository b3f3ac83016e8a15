import { FloatHistogram, type Span } from '../../histogram/index.js';
import { bucketLowerBound, bucketUpperBound, compactHistogram, usesCustomBuckets } from './histogram-ops.js';

/** Kept part of one bucket after a trim: the fraction of its count and the bounds of that part. */
interface Kept {
  frac: number;
  lo: number;
  hi: number;
}

const dropAll: Kept = { frac: 0, lo: 0, hi: 0 };

/**
 * keptPart classifies bucket [lo, hi] against the cutoff r. `upper` keeps observations below r
 * (`</`), otherwise those above r (`>/`). interp gives the fraction of the bucket below r.
 */
function keptPart(lo: number, hi: number, r: number, upper: boolean, interp: (lo: number, hi: number, r: number) => number): Kept {
  if (upper) {
    if (hi <= r) return { frac: 1, lo, hi };
    if (lo >= r) return dropAll;
    return { frac: interp(lo, hi, r), lo, hi: r };
  }
  if (lo >= r) return { frac: 1, lo, hi };
  if (hi <= r) return dropAll;
  return { frac: 1 - interp(lo, hi, r), lo: r, hi };
}

const linear = (lo: number, hi: number, r: number): number => (r - lo) / (hi - lo);

/** Exponential buckets interpolate in log space (both bounds share a sign). */
const logInterp = (lo: number, hi: number, r: number): number => {
  if (lo > 0) return Math.log(r / lo) / Math.log(hi / lo);
  return Math.log(-lo / -r) / Math.log(-lo / -hi);
};

const geoMean = (lo: number, hi: number): number => (lo >= 0 ? Math.sqrt(lo * hi) : -Math.sqrt(lo * hi));

/**
 * trimHistogram implements the experimental trim operators: `h </ r` removes the observations
 * above r, `h >/ r` those below r, interpolating within the bucket that contains r (log-linearly
 * for exponential buckets, linearly for the zero bucket and custom buckets). When anything is
 * removed, count and sum are recomputed from the remaining buckets, each bucket's observations
 * taken at the (geometric, for exponential buckets) middle of its remaining part. For custom
 * buckets, a first bucket with a positive upper bound starts at 0, and a bucket with an infinite
 * bound that contains r is kept whole (observations at r) when its infinite side is kept,
 * dropped otherwise. Returns a new histogram; h is not modified.
 */
export function trimHistogram(h: FloatHistogram, r: number, upper: boolean): FloatHistogram {
  const out = h.copy();
  if (Number.isNaN(r)) return out;
  let changed = false;
  let count = 0;
  let sum = 0;
  if (usesCustomBuckets(h)) {
    const cv = h.customValues;
    let idx = 0;
    let bi = 0;
    for (const s of out.positiveSpans) {
      idx += s.offset;
      for (let j = 0; j < s.length; j++, idx++, bi++) {
        const c = out.positiveBuckets[bi]!;
        const oLo = idx === 0 ? -Infinity : (cv[idx - 1] ?? Infinity);
        const hi = idx < cv.length ? cv[idx]! : Infinity;
        let lo = oLo;
        if (idx === 0 && hi > 0 && (upper || r >= 0)) lo = 0;
        let k = keptPart(lo, hi, r, upper, linear);
        const partial = k !== dropAll && (k.lo !== lo || k.hi !== hi);
        if (partial && (lo === -Infinity || hi === Infinity)) {
          const infKept = (lo === -Infinity && k.lo === -Infinity) || (hi === Infinity && k.hi === Infinity);
          k = infKept && !(oLo === -Infinity && hi === Infinity) ? { frac: 1, lo: r, hi: r } : dropAll;
        }
        if (k.frac !== 1) changed = true;
        const kc = c * k.frac;
        out.positiveBuckets[bi] = kc;
        if (kc === 0) continue;
        count += kc;
        let rep: number;
        if (k.lo === -Infinity) rep = k.hi;
        else if (k.hi === Infinity) rep = k.lo;
        else rep = (k.lo + k.hi) / 2;
        sum += kc * rep;
      }
    }
  } else {
    const zt = h.zeroThreshold;
    const hasPos = h.positiveBuckets.some((c) => c > 0);
    const hasNeg = h.negativeBuckets.some((c) => c > 0);
    const trimSide = (spans: Span[], buckets: number[], negative: boolean): void => {
      let idx = 0;
      let bi = 0;
      for (const s of spans) {
        idx += s.offset;
        for (let j = 0; j < s.length; j++, idx++, bi++) {
          const c = buckets[bi]!;
          let lo = bucketLowerBound(idx, h.schema);
          let hi = bucketUpperBound(idx, h.schema);
          if (lo < zt) lo = zt;
          if (negative) [lo, hi] = [-hi, -lo];
          const k = keptPart(lo, hi, r, upper, logInterp);
          if (k.frac !== 1) changed = true;
          const kc = c * k.frac;
          buckets[bi] = kc;
          if (kc === 0) continue;
          count += kc;
          sum += kc * geoMean(k.lo, k.hi);
        }
      }
    };
    trimSide(out.negativeSpans, out.negativeBuckets, true);
    trimSide(out.positiveSpans, out.positiveBuckets, false);
    if (h.zeroCount !== 0) {
      const zlo = hasPos && !hasNeg ? 0 : -zt;
      const zhi = hasNeg && !hasPos ? 0 : zt;
      const k = keptPart(zlo, zhi, r, upper, linear);
      if (k.frac !== 1) changed = true;
      out.zeroCount = h.zeroCount * k.frac;
      count += out.zeroCount;
      if (out.zeroCount !== 0) sum += out.zeroCount * ((k.lo + k.hi) / 2);
    }
  }
  if (!changed) return h.copy();
  out.count = count;
  out.sum = sum;
  return compactHistogram(out);
}
