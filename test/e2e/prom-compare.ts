/**
 * Prometheus HTTP API clients and result comparison for tests and benchmarks that hold Tessera's
 * answers against a real Prometheus's.
 */

/** ApiResponse is a Prometheus HTTP API answer with its HTTP status. */
export interface ApiResponse {
  readonly httpStatus: number;
  readonly status: 'success' | 'error';
  readonly data?: QueryData;
  readonly errorType?: string;
  readonly error?: string;
  readonly warnings?: string[];
  readonly infos?: string[];
}

type Point = [number, string];
/** QueryData is the `data` of /api/v1/query and /api/v1/query_range (float samples only). */
export type QueryData =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: Point }[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: Point[] }[] }
  | { resultType: 'scalar' | 'string'; result: Point };

/** apiGet calls GET baseUrl + path with the params and parses the JSON answer. */
export async function apiGet(baseUrl: string, path: string, params: Record<string, string | number | boolean | undefined>, timeoutMs = 60_000): Promise<ApiResponse> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const res = await fetch(`${baseUrl}${path}?${qs.toString()}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: Omit<ApiResponse, 'httpStatus'>;
  try {
    body = JSON.parse(text) as Omit<ApiResponse, 'httpStatus'>;
  } catch {
    throw new Error(`GET ${path}: HTTP ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  return { ...body, httpStatus: res.status };
}

/** instantQuery calls /api/v1/query at timeMs. */
export function instantQuery(baseUrl: string, query: string, timeMs: number, extra: Record<string, string | number | boolean | undefined> = {}): Promise<ApiResponse> {
  return apiGet(baseUrl, '/api/v1/query', { query, time: timeMs / 1000, ...extra });
}

/** rangeQuery calls /api/v1/query_range over [startMs, endMs] with stepMs. */
export function rangeQuery(baseUrl: string, query: string, startMs: number, endMs: number, stepMs: number, extra: Record<string, string | number | boolean | undefined> = {}, timeoutMs?: number): Promise<ApiResponse> {
  return apiGet(baseUrl, '/api/v1/query_range', { query, start: startMs / 1000, end: endMs / 1000, step: stepMs / 1000, ...extra }, timeoutMs);
}

/** SeriesPoints is one result series reduced to comparable form: timestamps (s) and float values. */
interface SeriesPoints {
  readonly key: string;
  readonly points: readonly (readonly [number, number])[];
}

/** parseSampleValue reads a sample value as the API writes it (Go float text: `+Inf`, `-Inf`, `NaN`, `1e-07`). */
export function parseSampleValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

function seriesKey(metric: Record<string, string>, drop: ReadonlySet<string>): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([k]) => !drop.has(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function normalize(data: QueryData, drop: ReadonlySet<string>): { type: string; series: Map<string, SeriesPoints> } {
  const series = new Map<string, SeriesPoints>();
  const add = (metric: Record<string, string>, pts: readonly Point[]) => {
    const key = seriesKey(metric, drop);
    if (series.has(key)) throw new Error(`two result series with labels ${key} after dropping ${[...drop].join(',')}`);
    series.set(key, { key, points: pts.map(([t, v]) => [t, parseSampleValue(v)] as const) });
  };
  if (data.resultType === 'vector') for (const s of data.result) add(s.metric, [s.value]);
  else if (data.resultType === 'matrix') for (const s of data.result) add(s.metric, s.values);
  else add({}, [data.result]);
  return { type: data.resultType, series };
}

/**
 * closeEnough compares two floats with relative tolerance rel: |a-b| <= rel*max(|a|,|b|). Values
 * whose magnitudes are both below absFloor (default 1e-9) count as equal, so that 0 and a rounding
 * residue like 3e-17 from a different summation order agree. NaN equals NaN; infinities must match.
 */
export function closeEnough(a: number, b: number, rel: number, absFloor = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  if (Math.abs(a) < absFloor && Math.abs(b) < absFloor) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/** CompareOptions tune compareData. */
export interface CompareOptions {
  /** rel is the relative tolerance (default 1e-6). */
  readonly rel?: number;
  /** dropLabels are removed from both sides' series labels before matching (e.g. external labels). */
  readonly dropLabels?: readonly string[];
  /** maxDiffs bounds the differences listed (default 10). */
  readonly maxDiffs?: number;
}

/**
 * compareData compares two query results series by series (matched by labels, order ignored) and
 * point by point (same timestamps, values within tolerance). It returns the differences found,
 * empty when the results agree.
 */
export function compareData(ours: QueryData, theirs: QueryData, opts: CompareOptions = {}): string[] {
  const rel = opts.rel ?? 1e-6;
  const max = opts.maxDiffs ?? 10;
  const drop = new Set(opts.dropLabels ?? []);
  const a = normalize(ours, drop);
  const b = normalize(theirs, drop);
  const diffs: string[] = [];
  if (a.type !== b.type) return [`result type ${a.type}, want ${b.type}`];
  for (const [key, sb] of b.series) {
    if (diffs.length >= max) break;
    const sa = a.series.get(key);
    if (sa === undefined) {
      diffs.push(`missing series ${key}`);
      continue;
    }
    if (sa.points.length !== sb.points.length) {
      diffs.push(`series ${key}: ${sa.points.length} points, want ${sb.points.length}`);
      continue;
    }
    for (let i = 0; i < sb.points.length; i++) {
      const [ta, va] = sa.points[i]!;
      const [tb, vb] = sb.points[i]!;
      if (ta !== tb || !closeEnough(va, vb, rel)) {
        diffs.push(`series ${key} point ${i}: (${ta}, ${va}), want (${tb}, ${vb})`);
        break;
      }
    }
  }
  for (const key of a.series.keys()) {
    if (diffs.length >= max) break;
    if (!b.series.has(key)) diffs.push(`unexpected series ${key}`);
  }
  return diffs;
}

/** pointCount returns the number of samples in a result (1 for scalars). */
export function pointCount(data: QueryData): number {
  if (data.resultType === 'vector') return data.result.length;
  if (data.resultType === 'matrix') return data.result.reduce((n, s) => n + s.values.length, 0);
  return 1;
}
