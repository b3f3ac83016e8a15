/**
 * formatFloat formats v like Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest decimal that
 * round-trips, never in exponent form; infinities as +Inf/-Inf.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  const neg = v < 0;
  const [mant, expS] = (neg ? s.slice(1) : s).split('e') as [string, string];
  const exp = Number(expS);
  const [ip, fp = ''] = mant.split('.') as [string, string?];
  const digits = ip + fp;
  const pointPos = ip.length + exp;
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return neg ? '-' + out : out;
}
