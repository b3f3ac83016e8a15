const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the high word in the platform's byte order (little-endian everywhere Node runs).
const hi = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const lo = 1 - hi;

/** nextUp returns the smallest float64 greater than x (x for NaN and +Inf). */
function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  if (x > 0) {
    if (u32[lo] === 0xffffffff) {
      u32[lo] = 0;
      u32[hi] = u32[hi]! + 1;
    } else u32[lo] = u32[lo]! + 1;
  } else if (u32[lo] === 0) {
    u32[lo] = 0xffffffff;
    u32[hi] = u32[hi]! - 1;
  } else u32[lo] = u32[lo]! - 1;
  return f64[0]!;
}

/**
 * switchOffset returns a replica's new counter offset when the merged series switches to it at
 * time t: y is the replica's raw value there, p its own previous raw value at pt (NaN if unknown),
 * off its current offset, and last the value emitted at lastT. The new value is last + inc, where
 * inc estimates the counter's increase over [lastT, t] from the replica's own last interval:
 * (y − p)·(t − lastT)/(t − pt) at a constant rate when pt < lastT, y − p otherwise, y when y < p (a
 * reset in between). This is independent of the replicas' counter bases (a raw value that merely
 * looks plausible can still carry another base). Without p (the replica's first sample) the raw
 * value is kept, only raised to last when below it (Thanos), since replicas scraping one target
 * see the same counter. Because y + (target − y) can round below
 * target, the offset is nudged up until y + off ≥ last holds exactly: a value one ulp below the
 * previous one would be a counter reset to PromQL. NaN inputs keep `off`.
 */
export function switchOffset(y: number, p: number, pt: number, t: number, off: number, last: number, lastT: number): number {
  if (Number.isNaN(last) || Number.isNaN(y)) return off;
  const adj = y + off;
  let target = adj < last ? last : adj;
  if (!Number.isNaN(p)) {
    let inc = y >= p ? y - p : y;
    if (y >= p && pt < lastT) inc = (inc * (t - lastT)) / (t - pt);
    if (inc >= 0) target = last + inc;
  }
  if (target === adj || Number.isNaN(target) || !Number.isFinite(target)) return off;
  let o = target - y;
  for (let i = 0; i < 64 && y + o < last; i++) o = nextUp(o);
  return o;
}
