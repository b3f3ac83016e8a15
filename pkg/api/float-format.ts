/**
 * formatFloat formats a sample value as Prometheus writes it in vectors, matrices and histograms
 * (jsonutil.MarshalFloat): shortest round-trip digits, plain decimal for 1e-6 ≤ |v| < 1e21 and
 * exponent form otherwise with at least two exponent digits (`1e-07`, `1e+21`), `NaN`, `+Inf`,
 * `-Inf`, and `-0` for negative zero. JavaScript's String() picks the same digits and thresholds.
 */
export function formatFloat(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JS writes e-7 / e+21; Go pads the exponent to two digits.
  return s.length - e === 3 ? `${s.slice(0, e + 2)}0${s.slice(e + 2)}` : s;
}

/**
 * formatPlainFloat formats like Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip
 * digits, never an exponent (`0.0000001`, `1000000000000000000000`), used for scalar results and
 * their timestamps. NaN and infinities as formatFloat.
 */
export function formatPlainFloat(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s[0] === '-';
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot < 0 ? mant.length : dot) + exp; // digits before the decimal point
  let out: string;
  if (intLen <= 0) out = `0.${'0'.repeat(-intLen)}${digits}`;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return neg ? `-${out}` : out;
}

/**
 * formatTimestamp writes a millisecond timestamp as Prometheus's JSON sample timestamps
 * (jsonutil.MarshalTimestamp): integer seconds, then `.` and exactly three digits only when the
 * millisecond part is non-zero (`1435781451.500`, `-1.500`). It is a JSON number.
 */
export function formatTimestamp(ms: number): string {
  if (ms < 0) return `-${formatTimestamp(-ms)}`;
  const frac = ms % 1000;
  return String((ms - frac) / 1000) + (fracSuffix[frac] ?? '');
}

/** fracSuffix[i] is "" for 0, else "." and i with three digits. */
const fracSuffix: readonly string[] = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : `.${String(i).padStart(3, '0')}`));

/** formatScalarTimestamp writes the timestamp of a scalar or string result: ms / 1000, plain. */
export function formatScalarTimestamp(ms: number): string {
  return formatPlainFloat(ms / 1000);
}
