import { parseDuration, parseTime } from '../api/index.js';
import type { StepRange } from './step-range.js';

/** RangeRequest is a query_range request the frontend can split and cache. */
export interface RangeRequest {
  readonly query: string;
  readonly range: StepRange;
  /** params are every request parameter but start, end and step, in request order. */
  readonly params: readonly (readonly [string, string])[];
}

/** Queries whose answer depends on the whole range's start or end cannot be split or cached. */
const rangeDependent = /\b(?:start|end)\s*\(\s*\)/;

/**
 * parseRangeRequest reads a query_range request's parameters (POST form body values first, then
 * the URL's, as Go's FormValue). It returns undefined for anything the frontend should not touch
 * and leave to the downstream to answer, errors included: missing or bad parameters, end before
 * start, more than 11,000 points, a step that is not whole milliseconds, `@ start()`/`@ end()`,
 * or a `stats` request.
 */
export function parseRangeRequest(pairs: readonly (readonly [string, string])[]): RangeRequest | undefined {
  const first = (k: string) => pairs.find((p) => p[0] === k)?.[1];
  const query = first('query');
  const s = first('start');
  const e = first('end');
  const st = first('step');
  if (query === undefined || query === '' || s === undefined || e === undefined || st === undefined) return undefined;
  if (pairs.some((p) => p[0] === 'stats')) return undefined;
  if (rangeDependent.test(query)) return undefined;
  let start: number;
  let end: number;
  let step: number;
  try {
    start = parseTime(s);
    end = parseTime(e);
    step = parseDuration(st);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(step) || step <= 0 || end < start) return undefined;
  if (Math.floor((end - start) / step) > 11000) return undefined;
  const params = pairs.filter((p) => p[0] !== 'start' && p[0] !== 'end' && p[0] !== 'step');
  return { query, range: { start, end, step }, params };
}

/** formatSeconds writes ms as the API's float seconds (exactly representable back to ms). */
export function formatSeconds(ms: number): string {
  const sec = Math.trunc(ms / 1000);
  const frac = Math.abs(ms - sec * 1000);
  const sign = ms < 0 && sec === 0 ? '-' : '';
  return frac === 0 ? `${sign}${sec}` : `${sign}${sec}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}
