const unitMs: Record<string, number> = {
  y: 365 * 24 * 3600 * 1000,
  w: 7 * 24 * 3600 * 1000,
  d: 24 * 3600 * 1000,
  h: 3600 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
};

const durationRe = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * parseDuration parses a Prometheus duration ("1h30m", "10s53ms", "0") into milliseconds, as
 * model.ParseDuration does. Throws a RangeError on malformed input.
 */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const m = durationRe.exec(s);
  if (s === '' || m === null) throw new RangeError(`not a valid duration string: ${JSON.stringify(s)}`);
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let ms = 0;
  for (let i = 0; i < units.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * unitMs[units[i]!]!;
  }
  return ms;
}
