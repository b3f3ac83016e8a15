/**
 * logNormalCdf is P(X ≤ x) for a log-normal latency distribution with the given median and shape
 * sigma (the standard deviation of ln X), via the Abramowitz–Stegun erf approximation (error below
 * 1.5e-7, plenty for bucket shares).
 */
export function logNormalCdf(x: number, median: number, sigma: number): number {
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  const z = Math.log(x / median) / (sigma * Math.SQRT2);
  return 0.5 * (1 + erf(z));
}

function erf(z: number): number {
  const sign = z < 0 ? -1 : 1;
  const a = Math.abs(z);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}
