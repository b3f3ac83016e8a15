import { goFormatFloat } from './go-format.js';

const BIG = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
const BIN = ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

const g4 = (v: number): string => goFormatFloat(v, 'g', 4);

/** humanize prints v with an SI prefix and 4 significant digits, as Prometheus's template function. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of BIG) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of SMALL) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

/** humanize1024 prints v with a binary prefix (ki, Mi, …) when |v| > 1. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of BIN) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

/** humanizeDuration prints seconds as `1d 2h 3m 4s`, `3.5s` or `100ms`. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    // Go's int64(v) (amd64: out of range gives MinInt64) and int64 arithmetic, exactly.
    const d = v >= 2 ** 63 ? -(2n ** 63n) : BigInt(Math.trunc(v));
    const seconds = d % 60n;
    const minutes = (d / 60n) % 60n;
    const hours = (d / 3600n) % 24n;
    const days = d / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of SMALL) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** humanizePercentage prints a ratio as a percentage with 4 significant digits. */
export function humanizePercentage(v: number): string {
  return g4(v * 100) + '%';
}

/**
 * goTimeString prints milliseconds since the epoch as Go's time.Time.String() in UTC
 * (`2006-01-02 15:04:05.999999999 +0000 UTC`, trailing zeros of the fraction dropped).
 */
export function goTimeString(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  let frac = String(((ms % 1000) + 1000) % 1000).padStart(3, '0').replace(/0+$/, '');
  if (frac !== '') frac = '.' + frac;
  const y = d.getUTCFullYear();
  return `${String(y).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${frac} +0000 UTC`;
}

/** unixSecondsToMs converts float seconds to whole milliseconds as Prometheus does (int64(v*1e9)/1e6). */
export function unixSecondsToMs(v: number): number {
  return Number(BigInt(Math.trunc(v * 1e9)) / 1_000_000n);
}

/** humanizeTimestamp prints Unix seconds as a Go UTC time string with millisecond precision. */
export function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 9223372036.854776) throw new Error(`${goFormatFloat(v, 'g', -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  return goTimeString(unixSecondsToMs(v));
}

/** goDurationString prints nanoseconds as Go's time.Duration.String() (`1h30m0s`, `1.5s`, `100ms`). */
export function goDurationString(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.trunc(ns));
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = trimFrac((u / div).toFixed(div === 1 ? 0 : Math.log10(div))) + unit;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = trimFrac((u / 1e9).toFixed(9)) + 's';
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return (neg ? '-' : '') + out;
}

function trimFrac(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
