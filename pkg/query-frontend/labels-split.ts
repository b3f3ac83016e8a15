import { parseTime } from '../api/index.js';
import { Labels, compareStrings } from '../labels/index.js';

/** TimeRange is an inclusive range of milliseconds. */
export interface TimeRange {
  readonly start: number;
  readonly end: number;
}

/**
 * splitLabelsRequest cuts a labels, label values or series request's [start, end] (both required)
 * into contiguous inclusive ranges at multiples of intervalMs, so that every millisecond lands in
 * exactly one (intervalMs <= 0: the whole range as one). Requests without both bounds, with a `limit` (a union of limited answers is not
 * the limited union) or with unparsable times return undefined and go to the downstream whole.
 */
export function splitLabelsRequest(pairs: readonly (readonly [string, string])[], intervalMs: number): TimeRange[] | undefined {
  const s = pairs.find((p) => p[0] === 'start')?.[1];
  const e = pairs.find((p) => p[0] === 'end')?.[1];
  if (s === undefined || e === undefined || pairs.some((p) => p[0] === 'limit')) return undefined;
  let start: number;
  let end: number;
  try {
    start = parseTime(s);
    end = parseTime(e);
  } catch {
    return undefined;
  }
  if (end < start) return undefined;
  if (intervalMs <= 0) return [{ start, end }];
  const out: TimeRange[] = [];
  for (let t = start; t <= end; ) {
    const next = (Math.floor(t / intervalMs) + 1) * intervalMs;
    const to = Math.min(end, next - 1);
    out.push({ start: t, end: to });
    t = to + 1;
  }
  return out;
}

/**
 * mergeLabelsResponses unions successful label (names or values) or series answers: names and
 * values sorted byte-wise, series deduplicated and sorted by labels, warnings kept once each.
 * Returns the JSON text, or undefined when an answer is not a success.
 */
export function mergeLabelsResponses(kind: 'values' | 'series', bodies: readonly Buffer[]): string | undefined {
  const warnings = new Set<string>();
  const infos = new Set<string>();
  const values = new Set<string>();
  const series = new Map<string, Record<string, string>>();
  for (const b of bodies) {
    let doc: { status?: string; data?: unknown; warnings?: string[]; infos?: string[] };
    try {
      doc = JSON.parse(b.toString('utf8')) as typeof doc;
    } catch {
      return undefined;
    }
    if (doc.status !== 'success' || !Array.isArray(doc.data)) return undefined;
    for (const w of doc.warnings ?? []) warnings.add(w);
    for (const w of doc.infos ?? []) infos.add(w);
    if (kind === 'values') for (const v of doc.data as string[]) values.add(v);
    else for (const s of doc.data as Record<string, string>[]) series.set(JSON.stringify(Object.entries(s).sort()), s);
  }
  let data: unknown;
  if (kind === 'values') data = [...values].sort(compareStrings);
  else {
    const keyed = [...series.values()].map((s) => ({ s, l: Labels.fromRecord(s) }));
    keyed.sort((a, b) => Labels.compare(a.l, b.l));
    data = keyed.map((k) => k.s);
  }
  const out: Record<string, unknown> = { status: 'success', data };
  if (warnings.size > 0) out['warnings'] = [...warnings];
  if (infos.size > 0) out['infos'] = [...infos];
  return JSON.stringify(out);
}
