/** A chunk's time range (inclusive), as chunk metas of a series entry give it. */
export interface TimeSpan {
  readonly minTime: number;
  readonly maxTime: number;
}

/** Used when the chunks tell nothing about the scrape interval. */
const DEFAULT_INTERVAL_MS = 60_000;
/** Gaps never count as covered beyond Prometheus's default lookback delta. */
const MAX_TOLERANCE_MS = 5 * 60_000;

/**
 * coveredByReplicas reports whether the chunks of the other replicas of a series cover the time
 * range of the chunks that could not be read (clipped to [mint, maxt]), so that leaving the
 * unreadable ones out loses no data once replicas are deduplicated.
 *
 * Replicas scrape at different moments and cut chunks at different samples, so ranges are compared
 * with a tolerance of two scrape intervals: the interval is estimated as the smallest gap between
 * consecutive chunks of any of the series' chunk lists (one scrape apart when nothing is missing),
 * 1 minute when no list has two chunks, and the tolerance is at most 5 minutes. Any hole in the
 * other replicas' chunks longer than the tolerance inside the range means data is missing.
 */
export function coveredByReplicas(lost: readonly TimeSpan[], others: readonly (readonly TimeSpan[])[], mint: number, maxt: number): boolean {
  if (lost.length === 0) return true;
  let from = Infinity;
  let to = -Infinity;
  for (const c of lost) {
    if (c.minTime < from) from = c.minTime;
    if (c.maxTime > to) to = c.maxTime;
  }
  from = Math.max(from, mint);
  to = Math.min(to, maxt);
  if (from > to) return true;
  let interval = Infinity;
  const spans: TimeSpan[] = [];
  for (const list of [lost, ...others]) {
    for (let i = 1; i < list.length; i++) {
      const gap = list[i]!.minTime - list[i - 1]!.maxTime;
      if (gap > 0 && gap < interval) interval = gap;
    }
  }
  for (const list of others) for (const c of list) spans.push(c);
  if (spans.length === 0) return false;
  const tol = Math.min(MAX_TOLERANCE_MS, 2 * (Number.isFinite(interval) ? interval : DEFAULT_INTERVAL_MS));
  spans.sort((a, b) => a.minTime - b.minTime);
  // Sweep: `reached` is how far the other replicas cover [from, ...] without a hole > tol.
  let reached = from;
  for (const s of spans) {
    if (s.maxTime < reached) continue;
    if (s.minTime - reached > tol) break;
    reached = Math.max(reached, s.maxTime);
    if (reached >= to - tol) return true;
  }
  return reached >= to - tol;
}
