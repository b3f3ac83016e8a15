const UNIT_MS: readonly [string, number][] = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * parseModelDuration parses a Prometheus `model.Duration` (`1h30m`, `5m`, `1d`, `0`): units in
 * descending order, whole numbers only. Returns milliseconds, or undefined when the text is not a
 * valid duration string (`1.5m`, `5 m`, empty).
 */
export function parseModelDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = RE.exec(text);
  if (m === null) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * UNIT_MS[i]![1];
  }
  return ms;
}

/** formatModelDuration prints milliseconds as Prometheus prints a model.Duration (`1h30m`, `0s`). */
export function formatModelDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const [u, n] of UNIT_MS) {
    if (rest >= n) {
      const k = Math.floor(rest / n);
      out += `${k}${u}`;
      rest -= k * n;
    }
  }
  return out;
}
