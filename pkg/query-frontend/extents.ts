import { concatMatrices, sliceMatrix, type Matrix } from './matrix.js';
import { lastGridPoint, type StepRange } from './step-range.js';

/**
 * Extent is a cached piece of a range query's answer: the complete result of every grid point in
 * [start, end] (ms, both grid points of the query's step grid).
 */
export interface Extent {
  readonly start: number;
  readonly end: number;
  readonly result: Matrix;
}

/**
 * missingRanges returns the parts of r (as ranges on r's grid, in time order) that no extent
 * covers. Extents must lie on r's grid (the cache key includes the step and the grid offset).
 */
export function missingRanges(r: StepRange, extents: readonly Extent[]): StepRange[] {
  const sorted = [...extents].sort((a, b) => a.start - b.start);
  const out: StepRange[] = [];
  let cur = r.start;
  for (const e of sorted) {
    if (cur > r.end) break;
    if (e.end < cur) continue;
    if (e.start > r.end) break;
    if (e.start > cur) out.push({ start: cur, end: lastGridPoint(r.start, r.step, e.start - 1), step: r.step });
    cur = Math.max(cur, e.end + r.step);
  }
  if (cur <= r.end) out.push({ start: cur, end: r.end, step: r.step });
  return out.filter((x) => x.end >= x.start);
}

/**
 * mergeExtents returns the union of extents as disjoint extents in time order: overlapping or
 * adjacent ones (the next starts at most one step after the previous ends) become one, each grid
 * point's samples taken from exactly one source.
 */
export function mergeExtents(extents: readonly Extent[], step: number): Extent[] {
  const sorted = [...extents].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Extent[] = [];
  let cur: { start: number; end: number; parts: Matrix[] } | undefined;
  for (const e of sorted) {
    if (cur !== undefined && e.start <= cur.end + step) {
      if (e.end > cur.end) {
        cur.parts.push(sliceMatrix(e.result, cur.end + 1, e.end));
        cur.end = e.end;
      }
      continue;
    }
    if (cur !== undefined) out.push({ start: cur.start, end: cur.end, result: concatMatrices(cur.parts) });
    cur = { start: e.start, end: e.end, parts: [e.result] };
  }
  if (cur !== undefined) out.push({ start: cur.start, end: cur.end, result: concatMatrices(cur.parts) });
  return out;
}

/** answerFrom assembles r's answer from pieces that together cover it (extents or fresh results). */
export function answerFrom(r: StepRange, pieces: readonly Extent[]): Matrix {
  const sorted = pieces.filter((p) => p.end >= r.start && p.start <= r.end).sort((a, b) => a.start - b.start);
  const parts: Matrix[] = [];
  let covered = r.start - 1;
  for (const p of sorted) {
    if (p.end <= covered) continue;
    const from = Math.max(r.start, covered + 1, p.start);
    const to = Math.min(r.end, p.end);
    if (from === p.start && to === p.end) parts.push(p.result);
    else parts.push(sliceMatrix(p.result, from, to));
    covered = to;
  }
  return parts.length === 0 ? [] : concatMatrices(parts);
}
