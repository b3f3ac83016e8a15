import { goQuote } from '../labels/index.js';

/** MIN_TIME and MAX_TIME are the defaults of optional start/end: the whole (exact) ms range. */
export const MIN_TIME = -Number.MAX_SAFE_INTEGER;
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

const floatRe = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const rfc3339Re = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** goRound rounds half away from zero, like Go's math.Round. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * parseTime parses an API timestamp into ms, as Prometheus's parseTime: a float of Unix seconds
 * (fraction rounded to ms) or RFC 3339 (sub-ms digits truncated). Non-finite floats and values
 * outside the exact ms range are rejected (Prometheus wraps them silently). Throws an Error with
 * Prometheus's text `cannot parse "<s>" to a valid timestamp`.
 */
export function parseTime(s: string): number {
  if (floatRe.test(s)) {
    const f = Number(s);
    const sec = Math.trunc(f);
    const frac = goRound((f - sec) * 1000) / 1000;
    const ns = Math.trunc(frac * 1e9);
    const ms = sec * 1000 + Math.floor(ns / 1e6);
    if (Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME) return ms;
  } else {
    const m = rfc3339Re.exec(s);
    if (m !== null) {
      const [, y, mo, d, h, mi, se, fr, zone] = m;
      const year = Number(y);
      const month = Number(mo);
      const day = Number(d);
      const hour = Number(h);
      const min = Number(mi);
      const secs = Number(se);
      const check = new Date(0);
      check.setUTCFullYear(year, month - 1, day); // Date.UTC maps years 0–99 to 1900–1999
      check.setUTCHours(hour, min, secs, 0);
      let ms = check.getTime();
      const valid = hour < 24 && min < 60 && secs < 60 && check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
      if (valid && Number.isFinite(ms)) {
        if (fr !== undefined) ms += Number(fr.padEnd(3, '0').slice(0, 3));
        if (zone !== 'Z') {
          const sign = zone![0] === '-' ? -1 : 1;
          const zh = Number(zone!.slice(1, 3));
          const zm = Number(zone!.slice(4, 6));
          if (zh < 24 && zm < 60) return ms - sign * (zh * 60 + zm) * 60_000;
        } else return ms;
      }
    }
  }
  throw new Error(`cannot parse ${goQuote(s)} to a valid timestamp`);
}

const durationRe = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const unitMs = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
const maxDurationMs = 9_223_372_036_854; // int64 nanoseconds, in ms

/**
 * parseDuration parses an API duration into ms, as Prometheus's parseDuration: a float of seconds
 * (`15`, `2.5`, `1.5e4`; truncated to whole nanoseconds) or a duration string (`5m`, `1h30m`,
 * units y w d h m s ms in that order, each at most once). Throws with Prometheus's text
 * `cannot parse "<s>" to a valid duration` (`… It overflows int64` for huge floats).
 */
export function parseDuration(s: string): number {
  if (floatRe.test(s)) {
    const ns = Number(s) * 1e9;
    if (!(ns <= 9.223372036854776e18 && ns >= -9.223372036854776e18)) {
      throw new Error(`cannot parse ${goQuote(s)} to a valid duration. It overflows int64`);
    }
    return Math.trunc(ns) / 1e6;
  }
  const m = s === '' ? null : durationRe.exec(s);
  if (m !== null) {
    let ms = 0;
    for (let i = 0; i < unitMs.length; i++) {
      const g = m[i + 1];
      if (g !== undefined) ms += Number(g) * unitMs[i]!;
    }
    if (ms <= maxDurationMs) return ms;
  }
  throw new Error(`cannot parse ${goQuote(s)} to a valid duration`);
}

/**
 * parseLimit parses the `limit` parameter as Prometheus's parseLimitParam: "" → 0 (unlimited), a
 * non-negative integer, else an Error (`limit must be non-negative`, or strconv.Atoi's text).
 */
export function parseLimit(s: string): number {
  if (s === '') return 0;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  if (n < 0) throw new Error('limit must be non-negative');
  return n;
}

const trueValues: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const falseValues: ReadonlySet<string> = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** parseBool parses like Go's strconv.ParseBool; throws with its error text. */
export function parseBool(s: string): boolean {
  if (trueValues.has(s)) return true;
  if (falseValues.has(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}
