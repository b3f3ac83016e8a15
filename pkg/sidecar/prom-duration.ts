const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/**
 * parsePromDuration parses a Prometheus duration ("2h", "1h30m", "15d", "500ms", "0s"; units y w
 * d h m s ms, largest first) into milliseconds. Returns undefined for anything else.
 */
export function parsePromDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let ms = 0;
  let pos = 0;
  if (s.length === 0) return undefined;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) return undefined;
    ms += Number(m[1]) * unitMs[m[2]!]!;
    pos = re.lastIndex;
  }
  return ms;
}

/** formatPromDuration prints milliseconds as a Prometheus duration ("2h", "1h30m", "0s"). */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const u of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / unitMs[u]!);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * unitMs[u]!;
    }
  }
  return out;
}
