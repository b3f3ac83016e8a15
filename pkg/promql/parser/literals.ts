/**
 * Number and duration literal helpers that follow Go's strconv and Prometheus's model.Duration,
 * so literal values, error texts and printed forms match Prometheus.
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];
const MAX_MS = 9223372036854.775807; // (2^63-1) ns in ms

/**
 * parseGoDuration parses a Prometheus duration (`1h30m`, `5m`, `0`) into milliseconds, or returns
 * the error text of model.ParseDuration.
 */
export function parseGoDuration(s: string): number | string {
  if (s === '0') return 0;
  if (s === '') return 'empty duration string';
  const invalid = `not a valid duration string: ${JSON.stringify(s)}`;
  let rest = s;
  let total = 0;
  let lastUnit = -1;
  while (rest !== '') {
    let i = 0;
    while (i < rest.length && rest[i]! >= '0' && rest[i]! <= '9') i++;
    if (i === 0) return invalid;
    const v = Number(rest.slice(0, i));
    rest = rest.slice(i);
    i = 0;
    while (i < rest.length && !(rest[i]! >= '0' && rest[i]! <= '9')) i++;
    if (i === 0) return invalid;
    const u = rest.slice(0, i);
    rest = rest.slice(i);
    const idx = UNITS.findIndex(([name]) => name === u);
    if (idx < 0) return `unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(s)}`;
    if (idx <= lastUnit) return invalid;
    lastUnit = idx;
    const mult = UNITS[idx]![1];
    if (v > MAX_MS / mult) return 'duration out of range';
    total += v * mult;
    if (total > MAX_MS) return 'duration out of range';
  }
  return total;
}

/** formatDuration prints milliseconds like Prometheus's model.Duration.String() (`1h30m`, `0s`). */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let out = '';
  UNITS.forEach(([unit, mult], i) => {
    const exact = i < 2; // years and weeks only when they divide evenly
    if (exact && rest % mult !== 0) return;
    const v = Math.trunc(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  });
  return out;
}

/**
 * parseGoNumber parses a number literal as Prometheus does (strconv.ParseInt with base prefix,
 * then ParseFloat), returning the value or the strconv error text.
 */
export function parseGoNumber(s: string): number | string {
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const asInt = parseGoInt(s);
  if (asInt !== undefined) return asInt;
  return parseGoFloat(s);
}

function underscoreOK(s: string): boolean {
  // Underscores only between digits, or between a base prefix and a digit.
  let saw = '^';
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = 'xX'.includes(s[1]!);
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

function parseGoInt(s: string): number | undefined {
  let body = s;
  let base = 10;
  if (/^0[xX]/.test(body)) {
    base = 16;
    body = body.slice(2);
  } else if (/^0[oO]/.test(body)) {
    base = 8;
    body = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    base = 2;
    body = body.slice(2);
  } else if (body.length > 1 && body[0] === '0') {
    base = 8;
    body = body.slice(1);
  }
  if (body.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    body = body.replace(/_/g, '');
  }
  if (body === '') return base === 8 && s === '0' ? 0 : undefined;
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) return undefined;
  const v = parseInt(body, base);
  if (v > 9223372036854775807) return undefined; // out of int64 range: ParseFloat decides
  return v;
}

function parseGoFloat(s: string): number | string {
  const prefix = `strconv.ParseFloat: parsing ${JSON.stringify(s)}: `;
  let body = s;
  if (body.includes('_')) {
    if (!underscoreOK(body)) return `${prefix}invalid syntax`;
    body = body.replace(/_/g, '');
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return `${prefix}invalid syntax`;
  const v = Number(body);
  if (!Number.isFinite(v)) return `${prefix}value out of range`;
  return v;
}

/** formatFloatF formats like Go's strconv.FormatFloat(v, 'f', -1, 64) with Prometheus's ±Inf/NaN. */
export function formatFloatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  if (!/e/.test(s)) return s;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4]);
  if (exp >= 0) return sign + digits + '0'.repeat(Math.max(0, exp - (digits.length - 1)));
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** formatFloatV formats like Go's %v on a float64 (shortest %g, exponent past 1e21 or below 1e-4). */
export function formatFloatV(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const e = v.toExponential(); // shortest round-trip digits
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e)!;
  const exp = Number(m[4]);
  if (exp < -4 || exp >= 21) {
    const mant = m[2]! + (m[3] !== undefined ? `.${m[3]}` : '');
    const ae = Math.abs(exp);
    return `${m[1]}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  return formatFloatF(v);
}
