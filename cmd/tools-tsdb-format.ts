// Go-compatible text formatting used by `tessera tools tsdb` to print exactly what promtool prints.

/** goFormatG formats a float64 like Go's fmt "%g" (shortest representation). */
export function goFormatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const [mant, expStr] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  let s: string;
  // Go: with the shortest precision, %e is used when exp < -4 || exp >= 6 (eprec is forced to 6).
  if (exp < -4 || exp >= 6) {
    s = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    s += `e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    s = digits + '0'.repeat(exp + 1 - digits.length);
  } else {
    s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? '-' + s : s;
}

/** goBase2Bytes formats a byte count like alecthomas/units Base2Bytes.String() ("437KiB896B"). */
export function goBase2Bytes(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const out: string[] = [];
  for (let i = 0; i < units.length; i++) {
    const r = n % 1024;
    if (r !== 0 || (i === 0 && n === 0)) out.unshift(`${r}${units[i]}${i === 0 ? 'B' : 'iB'}`);
    n = Math.floor(n / 1024);
    if (n === 0) break;
  }
  return out.join('');
}

/** goUtcTime formats ms since the epoch like Go's time.Unix(ms/1000, 0).UTC().String(). */
export function goUtcTime(ms: number): string {
  const d = new Date(Math.trunc(ms / 1000) * 1000);
  const p = (x: number, n = 2): string => String(x).padStart(n, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

/**
 * tabwrite aligns rows like Go's text/tabwriter (minwidth, padding 2, space padding): every cell but
 * the last of a row is padded to max(minWidth, widest cell in its column + padding).
 */
export function tabwrite(rows: readonly (readonly string[])[], minWidth = 13, padding = 2): string {
  const widths: number[] = [];
  for (const r of rows) for (let i = 0; i < r.length - 1; i++) widths[i] = Math.max(widths[i] ?? 0, r[i]!.length);
  let s = '';
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      s += i < r.length - 1 ? r[i]!.padEnd(Math.max(minWidth, widths[i]! + padding)) : r[i]!;
    }
    s += '\n';
  }
  return s;
}
