const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseGoDuration parses Go's time.ParseDuration syntax (`24h0m0s`, `500ms`, `1.5s`) into ms. */
export function parseGoDuration(s: string): number {
  const t = s.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let neg = false;
  let i = 0;
  if (t[0] === '-' || t[0] === '+') {
    neg = t[0] === '-';
    i = 1;
  }
  re.lastIndex = i;
  let total = 0;
  let any = false;
  while (re.lastIndex < t.length) {
    const m = re.exec(t);
    if (m === null) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * unitMs[m[2]!]!;
    any = true;
  }
  if (!any) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  return neg ? -total : total;
}

/** formatGoDuration writes ms the way Go's Duration.String does (`721h0m0s`, `1.5s`, `250ms`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let a = Math.abs(ms);
  let out: string;
  if (a < 1000) out = `${a}ms`;
  else {
    const h = Math.floor(a / 3_600_000);
    a -= h * 3_600_000;
    const m = Math.floor(a / 60_000);
    a -= m * 60_000;
    const s = `${Number((a / 1000).toFixed(3))}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}
