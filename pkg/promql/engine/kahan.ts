/**
 * kahanSumInc adds inc to sum with Neumaier-compensated summation, returning the new sum and
 * compensation, as Prometheus's kahanSumInc.
 */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}
