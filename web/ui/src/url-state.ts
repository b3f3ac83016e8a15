/** QueryState is everything a query panel link carries (Prometheus's g0.* parameters plus Thanos's). */
export interface QueryState {
  expr: string;
  tab: 'graph' | 'table';
  range: string;
  /** end is the graph's end time in ms since the epoch, or undefined for "now". */
  end: number | undefined;
  /** resolution is the step in seconds, or undefined for automatic. */
  resolution: number | undefined;
  stacked: boolean;
  dedup: boolean;
  partialResponse: boolean;
  maxSourceResolution: string;
}

export const defaultState: QueryState = {
  expr: '',
  tab: 'graph',
  range: '1h',
  end: undefined,
  resolution: undefined,
  stacked: false,
  dedup: true,
  partialResponse: true,
  maxSourceResolution: 'auto',
};

const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** parseDuration reads a Prometheus duration ("1h30m", "90s") into seconds, or undefined. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 1);
    pos = re.lastIndex;
  }
  return pos === t.length && pos > 0 ? total : undefined;
}

/** parseTime reads an end time given as RFC 3339 or as seconds since the epoch. */
function parseTime(s: string): number | undefined {
  if (s === '' || s === 'now') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  // Prometheus writes "2026-01-02 15:04:05" in UTC; without a zone Date.parse would take local time.
  const t = Date.parse(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * stateFromUrl reads the first panel of a Prometheus or Thanos link: `g0.tab=0` is the graph in
 * Prometheus 2 and Thanos, `g0.tab=graph|table` in Prometheus 3; the old UI's `q`/`mode` too.
 */
export function stateFromUrl(params: URLSearchParams): QueryState {
  const s: QueryState = { ...defaultState };
  const g = (k: string) => params.get(`g0.${k}`);
  s.expr = g('expr') ?? params.get('q') ?? '';
  const tab = g('tab') ?? params.get('mode');
  if (tab === '1' || tab === 'table') s.tab = 'table';
  else if (tab === '0' || tab === 'graph') s.tab = 'graph';
  const range = g('range_input') ?? params.get('range');
  if (range !== null && parseDuration(range) !== undefined) s.range = range;
  const end = g('end_input') ?? g('moment_input');
  if (end !== null) s.end = parseTime(end);
  const step = g('step_input');
  if (step !== null) s.resolution = parseDuration(step);
  const stacked = g('stacked') ?? g('display_mode');
  if (stacked === '1' || stacked === 'stacked') s.stacked = true;
  const dedup = g('deduplicate');
  if (dedup !== null) s.dedup = dedup !== '0' && dedup !== 'false';
  const partial = g('partial_response');
  if (partial !== null) s.partialResponse = partial !== '0' && partial !== 'false';
  const msr = g('max_source_resolution');
  if (msr !== null && msr !== '') s.maxSourceResolution = msr;
  return s;
}

/** urlFromState writes the panel as a Prometheus-2/Thanos style query string. */
export function urlFromState(s: QueryState): string {
  const p = new URLSearchParams();
  p.set('g0.expr', s.expr);
  p.set('g0.tab', s.tab === 'graph' ? '0' : '1');
  p.set('g0.range_input', s.range);
  if (s.end !== undefined) p.set('g0.end_input', new Date(s.end).toISOString());
  if (s.resolution !== undefined) p.set('g0.step_input', String(s.resolution));
  p.set('g0.stacked', s.stacked ? '1' : '0');
  p.set('g0.deduplicate', s.dedup ? '1' : '0');
  p.set('g0.partial_response', s.partialResponse ? '1' : '0');
  p.set('g0.max_source_resolution', s.maxSourceResolution);
  return p.toString();
}
