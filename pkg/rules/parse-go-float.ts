/**
 * parseGoFloat reads a value written by Go's strconv.FormatFloat (as the Rules APIs carry alert
 * values): decimal or exponent form, `+Inf`/`Inf`, `-Inf`, `NaN`; anything else as Number() does.
 */
export function parseGoFloat(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}
