/**
 * kahanSumInc adds inc to sum with Neumaier-compensated summation, returning the new sum and
 * compensation, as Prometheus's kahanSumInc.
 */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  return [t, kahanComp(inc, sum, t, c)];
}

/**
 * kahanComp is the compensation kahanSumInc returns for sum + inc = t (t computed by the caller):
 * the same arithmetic without a result pair, for per-sample loops (nothing to allocate).
 */
export function kahanComp(inc: number, sum: number, t: number, c: number): number {
  if (t === Infinity || t === -Infinity) return 0;
  if (Math.abs(sum) >= Math.abs(inc)) return c + (sum - t + inc);
  return c + (inc - t + sum);
}
