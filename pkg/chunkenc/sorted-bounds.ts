/**
 * lowerBound and upperBound search a sorted Float64Array of timestamps a[0..n) (e.g. a decoded
 * chunk's or a FloatSampleSink's fts/sts): lowerBound is the first index i with a[i] ≥ t,
 * upperBound the first with a[i] > t, n when there is none. No allocation.
 */
export function lowerBound(a: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** upperBound is the first index i in a[0..n) (sorted) with a[i] > t, else n (see lowerBound). */
export function upperBound(a: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
