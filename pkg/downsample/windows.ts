/**
 * windowEnd returns the last millisecond of the resolution window `[kR, (k+1)R)` that t falls in:
 * the timestamp of that window's aggregate (Thanos's currentWindow; `%` truncates like Go's).
 */
export function windowEnd(t: number, res: number): number {
  return t - (t % res) + res - 1;
}

/**
 * targetChunkCount returns how many aggregate chunks a series of count samples at resolution inRes
 * over [mint, maxt] is cut into at resolution outRes: the number of output windows the range can
 * hold, scaled by how densely the input fills it, plus one, split into chunks of at most 140 samples
 * on average (Thanos's targetChunkCount, algorithms.md §3.2).
 */
export function targetChunkCount(mint: number, maxt: number, inRes: number, outRes: number, count: number): number {
  const maxSamples = Math.trunc((maxt - mint) / outRes);
  let fullness = count / ((maxt - mint) / inRes);
  if (fullness > 1) fullness = 1;
  const expSamples = Math.trunc(maxSamples * fullness) + 1;
  // The smallest x >= 1 with trunc(expSamples / x) <= 140.
  return expSamples <= 140 ? 1 : Math.floor(expSamples / 141) + 1;
}
