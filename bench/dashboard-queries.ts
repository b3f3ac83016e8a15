/**
 * The "compare with Prometheus" benchmark set shared by promql.bench.ts and querier.bench.ts:
 * typical dashboard range queries over the generated data set (pkg/datagen) (200 hosts, 6 hours, 15 s),
 * plus the timing and reporting helpers.
 */
import type { Labels } from '../pkg/labels/index.js';
import type { QueryValue } from '../pkg/promql/index.js';
import { DATA_START_MS, type DataSetOptions } from '../test/e2e/fixtures.js';
import type { QueryData } from '../test/e2e/prom-compare.js';
import type { BenchResult } from './harness.js';

/** DASHBOARD_DATA is the data set of issues 3 and 5: at least 200 hosts over 6 hours. */
export const DASHBOARD_DATA: DataSetOptions = { hosts: 200, hours: 6, replica: 'a' };

/**
 * DASHBOARD_RANGE is a 3-hour panel at 1-minute resolution (181 steps). Steps sit 7 s off the
 * 15 s sample grid so that Prometheus 2.42's closed and our 3.x left-open windows select the
 * same samples and the results can be checked for equality.
 */
export const DASHBOARD_RANGE = { start: DATA_START_MS + 2 * 3_600_000 + 7000, end: DATA_START_MS + 5 * 3_600_000 + 7000, step: 60_000 } as const;

/** DashboardQuery is one benchmarked PromQL query. */
export interface DashboardQuery {
  readonly id: string;
  readonly expr: string;
}

/** DASHBOARD_QUERIES are typical Grafana panel queries (subquery inner ranges avoid the 15 s grid). */
export const DASHBOARD_QUERIES: readonly DashboardQuery[] = [
  { id: 'cpu-by-mode', expr: 'sum by (mode) (rate(node_cpu_seconds_total[5m]))' },
  { id: 'cpu-util', expr: '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))' },
  { id: 'req-by-instance', expr: 'sum by (instance) (rate(http_requests_total[5m]))' },
  { id: 'error-ratio', expr: 'sum by (handler) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (handler) (rate(http_requests_total[5m]))' },
  { id: 'p99-latency', expr: 'histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))' },
  { id: 'topk-network', expr: 'topk(5, sum by (instance) (rate(node_network_receive_bytes_total[5m])))' },
  { id: 'mem-avg-10m', expr: 'avg_over_time(node_memory_MemAvailable_bytes[10m])' },
  { id: 'mem-p95-30m', expr: 'quantile_over_time(0.95, node_memory_MemAvailable_bytes[30m])' },
  { id: 'subquery-max', expr: 'max_over_time(sum by (instance) (rate(http_requests_total[4m50s]))[30m:1m])' },
  { id: 'cpu-share-group-left', expr: 'sum by (instance, mode) (rate(node_cpu_seconds_total[5m])) / on(instance) group_left sum by (instance) (rate(node_cpu_seconds_total[5m]))' },
  { id: 'increase-1h', expr: 'sum by (code) (increase(http_requests_total[1h]))' },
  { id: 'up-count', expr: 'count by (job) (up == 1)' },
];

/**
 * measure runs fn once to warm up, then at least minRuns times and until budgetMs has passed
 * (at most maxRuns), and returns the median wall time in ms, the last value and how many runs
 * were timed. afterWarmup is called between the warm-up run and the timed ones (e.g. to take a
 * CPU-time baseline that leaves the warm-up out, as the wall time does).
 */
export async function measure<T>(fn: () => Promise<T>, opts: { minRuns?: number; maxRuns?: number; budgetMs?: number; afterWarmup?: () => void } = {}): Promise<{ ms: number; value: T; runs: number }> {
  let value = await fn();
  opts.afterWarmup?.();
  const times: number[] = [];
  const start = performance.now();
  const minRuns = opts.minRuns ?? 3;
  const maxRuns = opts.maxRuns ?? 10;
  const budget = opts.budgetMs ?? 3000;
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budget)) {
    const t0 = performance.now();
    value = await fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), value, runs: times.length };
}

/** median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function labelsRecord(l: Labels): Record<string, string> {
  const r: Record<string, string> = {};
  l.forEach((k, v) => (r[k] = v));
  return r;
}

/** engineToApi converts an engine value to the HTTP API's JSON shape, for compareData. */
export function engineToApi(v: QueryValue): QueryData {
  switch (v.type) {
    case 'matrix':
      return { resultType: 'matrix', result: v.value.map((s) => ({ metric: labelsRecord(s.metric), values: s.floats.points().map((p) => [p.t / 1000, String(p.f)] as [number, string]) })) };
    case 'vector':
      return { resultType: 'vector', result: v.value.map((s) => ({ metric: labelsRecord(s.metric), value: [s.t / 1000, String(s.f)] as [number, string] })) };
    case 'scalar':
      return { resultType: 'scalar', result: [v.value.t / 1000, String(v.value.v)] };
    case 'string':
      return { resultType: 'string', result: [v.value.t / 1000, v.value.v] };
  }
}

/** ComparisonRow is one query's measurement against Prometheus. */
export interface ComparisonRow {
  readonly id: string;
  readonly tesseraMs: number;
  readonly prometheusMs: number;
  /** prometheusEvalMs is Prometheus's own evalTotalTime (engine only, no HTTP/JSON), when reported. */
  readonly prometheusEvalMs?: number;
  /** agree says whether the two results matched (relative 1e-6), or lists the first difference. */
  readonly agree: string;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** rowLine renders one comparison as a fixed-width line. */
export function rowLine(prefix: string, r: ComparisonRow): string {
  const evalPart = r.prometheusEvalMs !== undefined ? ` (eval ${fmtMs(r.prometheusEvalMs).padStart(6)} ms)` : '';
  return `${prefix} ${r.id.padEnd(22)} tessera ${fmtMs(r.tesseraMs).padStart(8)} ms   prometheus ${fmtMs(r.prometheusMs).padStart(7)} ms${evalPart}   ratio ${(r.tesseraMs / r.prometheusMs).toFixed(2).padStart(7)}x   ${r.agree}`;
}

/**
 * summarize prints the closing summary of a comparison run and returns the bench results:
 * per-query times and ratio, and the median ratio (tessera time / Prometheus time).
 */
export function summarize(bench: string, rows: readonly ComparisonRow[], what: string): BenchResult[] {
  const ratios = rows.map((r) => r.tesseraMs / r.prometheusMs);
  const evalRatios = rows.filter((r) => r.prometheusEvalMs !== undefined && r.prometheusEvalMs > 0).map((r) => r.tesseraMs / r.prometheusEvalMs!);
  const disagree = rows.filter((r) => r.agree !== 'equal');
  console.log(`\n== ${bench} summary: ${what}`);
  console.log(`   queries: ${rows.length}; results equal to Prometheus: ${rows.length - disagree.length}/${rows.length}${disagree.length > 0 ? ` (differ: ${disagree.map((r) => r.id).join(', ')})` : ''}`);
  console.log(`   median ratio tessera/prometheus (HTTP wall time): ${median(ratios).toFixed(2)}x (min ${Math.min(...ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x)`);
  if (evalRatios.length > 0) console.log(`   median ratio tessera/prometheus engine eval time:  ${median(evalRatios).toFixed(2)}x`);
  const out: BenchResult[] = [];
  for (const r of rows) {
    out.push({ name: `${bench} ${r.id} tessera`, value: r.tesseraMs, unit: 'ms' });
    out.push({ name: `${bench} ${r.id} prometheus`, value: r.prometheusMs, unit: 'ms' });
    out.push({ name: `${bench} ${r.id} ratio`, value: r.tesseraMs / r.prometheusMs, unit: 'x' });
  }
  out.push({ name: `${bench} median ratio tessera/prometheus`, value: median(ratios), unit: 'x' });
  if (evalRatios.length > 0) out.push({ name: `${bench} median ratio tessera/prometheus-eval`, value: median(evalRatios), unit: 'x' });
  return out;
}
