/**
 * StepRange is a range query's evaluation grid: every `start + k*step` with `k >= 0` up to and
 * including `end`. Times and step are integer milliseconds; `end` is always a grid point.
 */
export interface StepRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/** lastGridPoint returns the last point of start's grid at or before t (start - step when t < start). */
export function lastGridPoint(start: number, step: number, t: number): number {
  if (t < start) return start - step;
  return start + Math.floor((t - start) / step) * step;
}

/** firstGridPoint returns the first point of start's grid at or after t. */
export function firstGridPoint(start: number, step: number, t: number): number {
  if (t <= start) return start;
  return start + Math.ceil((t - start) / step) * step;
}

/**
 * splitByInterval cuts a range query at every multiple of intervalMs (counted from the Unix epoch,
 * so the same wall-clock day lands in the same part whatever the query). Each part is itself a
 * StepRange on the same grid, and every grid point of r lands in exactly one part: a part starts
 * at the first grid point at or after its boundary and ends at the last grid point before the next
 * boundary. intervalMs <= 0 returns r whole.
 */
export function splitByInterval(r: StepRange, intervalMs: number): StepRange[] {
  const end = lastGridPoint(r.start, r.step, r.end);
  if (end < r.start) return [];
  if (intervalMs <= 0) return [{ start: r.start, end, step: r.step }];
  const parts: StepRange[] = [];
  let s = r.start;
  while (s <= end) {
    const next = (Math.floor(s / intervalMs) + 1) * intervalMs;
    const e = Math.min(end, lastGridPoint(r.start, r.step, next - 1));
    if (e >= s) parts.push({ start: s, end: e, step: r.step });
    s = firstGridPoint(r.start, r.step, next);
  }
  return parts;
}

/** alignToStep snaps start and end down to multiples of step (--query-range.align-range-with-step). */
export function alignToStep(r: StepRange): StepRange {
  const floor = (t: number) => Math.floor(t / r.step) * r.step;
  return { start: floor(r.start), end: floor(r.end), step: r.step };
}

/** bucketOf is the index of the split interval that holds t (the cache keeps one entry per bucket). */
export function bucketOf(t: number, intervalMs: number): number {
  return intervalMs <= 0 ? 0 : Math.floor(t / intervalMs);
}
