/**
 * Issue 5 acceptance: two HA replicas' blocks (`tessera tools gen openmetrics --replica a|b`, promtool blocks)
 * in MinIO, each served by its own `tessera store`, queried through `tessera query
 * --query.replica-label replica`, against a real Prometheus serving replica a's blocks.
 *
 * Why equality holds: replica a scrapes at exact 15 s multiples and has no gap; replica b's scrapes
 * are 250–649 ms later with the same values and miss 10 minutes. Deduplication follows the first
 * replica (in replica-label order) wherever it has no gap, deciding from the samples around each
 * time (so every window gets the same answer as the whole range), so the deduplicated a+b data is
 * replica a's samples everywhere, including b's gap.
 *
 * Prometheus here is 2.42 (closed range windows [t-r, t]); Tessera follows 3.x (left-open
 * (t-r, t]). They agree when no window's left edge lands on a sample. Hence:
 *  - top-level evaluation times are 7 s past a 15 s multiple (instants and every range step), and
 *    all ranges and offsets are multiples of 15 s, so left edges sit 7 s off the sample grid;
 *  - inside subqueries the inner steps are absolute multiples of the subquery step (on the sample
 *    grid), so range selectors there use ranges that are not a multiple of 15 s (`[4m50s]`);
 *    instant selectors there are fine (the edge only matters in gaps of >= 5 m; a has none);
 *  - no rate()/increase() window reaches back past the first sample of the data (every range
 *    step is >= 40 m in, offsets are <= 30 m): how far rate extrapolates towards the start of a
 *    counter changed in Prometheus 2.51 (prometheus/prometheus#13725, zero-point limit applied
 *    after the half-interval rule), so 2.42 and 3.x disagree there;
 *  - excluded: holt_winters (renamed double_exponential_smoothing in 3.x, behind a feature flag),
 *    and 3.x-only functions (limitk, limit_ratio, sort_by_label, mad_over_time, info).
 * Prometheus's query results carry no external labels, ours carry cluster="c1" (replica is
 * removed by deduplication): the comparison drops `cluster` and `replica` on both sides.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireBinary, waitFor } from '../../pkg/testutil/index.js';
import { DATA_START_MS, copyBlocks, dataEnd, makeBlocks, replicaGap } from './fixtures.js';
import { apiGet, compareData, instantQuery, rangeQuery, type ApiResponse, type QueryData } from './prom-compare.js';
import { startBuckets, startPrometheus, startQuery, ServiceGroup, startStore, uploadBlocks, type BucketService, type Service } from './services.js';

const prometheusBin = requireBinary('prometheus');
const promtoolBin = requireBinary('promtool');
const minioBin = requireBinary('minio');
const ready = prometheusBin !== undefined && promtoolBin !== undefined && minioBin !== undefined;

const DATA = { hosts: 5, hours: 4 } as const;
const S = DATA_START_MS;
const MIN = 60_000;
const GAP = replicaGap(DATA); // replica b's missing 10 minutes
const END = dataEnd(DATA);
/** at returns S + minutes + 7 s: off the 15 s sample grid. */
const at = (minutes: number) => S + minutes * MIN + 7000;
const INSTANT_TIMES = [at(83), at(181)];
const RANGE = { start: at(40), end: at(230), step: MIN };
const DROP = ['cluster', 'replica'];

/** The PromQL expressions compared as instant queries (at each INSTANT_TIMES) and as a range query. */
const EXPRS: readonly string[] = [
  'up',
  'node_memory_MemAvailable_bytes',
  'rate(node_cpu_seconds_total[5m])',
  'irate(node_network_receive_bytes_total[1m])',
  'increase(http_requests_total[10m])',
  'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
  'sum without (cpu) (rate(node_cpu_seconds_total[5m]))',
  'avg by (mode) (irate(node_cpu_seconds_total[2m]))',
  'count by (job) (up)',
  'count_values("value", up)',
  'quantile(0.9, rate(node_cpu_seconds_total[5m]))',
  'stddev by (instance) (rate(node_cpu_seconds_total[5m]))',
  'min(node_memory_MemAvailable_bytes) / max(node_memory_MemAvailable_bytes)',
  'histogram_quantile(0.9, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, rate(http_request_duration_seconds_bucket{handler="/api/v1/query"}[10m]))',
  'topk(3, sum by (instance) (rate(http_requests_total[5m])))',
  'topk by (handler) (1, rate(http_requests_total[5m]))',
  'bottomk(2, node_memory_MemAvailable_bytes)',
  'rate(http_requests_total[5m] offset 30m)',
  'node_memory_MemAvailable_bytes offset 1h',
  'rate(http_requests_total[5m] offset 30m) - rate(http_requests_total[5m])',
  'sum(rate(node_cpu_seconds_total[5m] @ 1767232807))',
  'max_over_time(sum by (instance) (rate(http_requests_total[4m50s]))[1h:5m])',
  'avg_over_time(up[10m:30s])',
  'min_over_time(deriv(node_memory_MemAvailable_bytes[4m50s])[30m:1m])',
  'avg_over_time(node_memory_MemAvailable_bytes[10m])',
  'max_over_time(node_memory_MemAvailable_bytes[15m])',
  'min_over_time(node_memory_MemAvailable_bytes[15m])',
  'sum_over_time(up[10m])',
  'count_over_time(node_memory_MemAvailable_bytes[10m])',
  'stddev_over_time(node_memory_MemAvailable_bytes[30m])',
  'quantile_over_time(0.9, node_memory_MemAvailable_bytes[30m])',
  'last_over_time(node_memory_MemAvailable_bytes[5m])',
  'changes(node_memory_MemAvailable_bytes[10m])',
  'resets(node_network_receive_bytes_total[30m])',
  'delta(node_memory_MemAvailable_bytes[10m])',
  'deriv(node_memory_MemAvailable_bytes[15m])',
  'predict_linear(node_memory_MemAvailable_bytes[30m], 3600)',
  'rate(node_cpu_seconds_total[5m]) / on(instance, cpu) group_left sum by (instance, cpu) (rate(node_cpu_seconds_total[5m]))',
  'rate(node_network_receive_bytes_total[5m]) * on(instance) group_left(job) up',
  'http_requests_total{code="500"} / ignoring(code) http_requests_total{code="200"}',
  'sum by (handler) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (handler) (rate(http_requests_total[5m]))',
  'node_memory_MemAvailable_bytes > 8e9',
  'node_memory_MemAvailable_bytes > bool 8e9',
  'up and on(instance) node_memory_MemAvailable_bytes > 8e9',
  'node_memory_MemAvailable_bytes unless on(instance) node_memory_MemAvailable_bytes > 8e9',
  'up or vector(0)',
  'scalar(sum(up)) * 2',
  'time() - timestamp(node_memory_MemAvailable_bytes)',
  'label_replace(up, "host", "$1", "instance", "(.*):.*")',
  'label_join(up, "id", "/", "job", "instance")',
  'round(rate(http_requests_total[5m]), 0.01)',
  'clamp(sqrt(node_memory_MemAvailable_bytes), 1e4, 9e4)',
  'abs(sgn(deriv(node_memory_MemAvailable_bytes[15m])))',
  'absent(up{job="nope"})',
  'absent_over_time(up{job="nope"}[5m])',
];
/** Expressions whose correct answer is empty on this data (the others must return data). */
const EMPTY_OK = new Set<string>(['node_memory_MemAvailable_bytes > 8e9', 'up and on(instance) node_memory_MemAvailable_bytes > 8e9', 'rate(node_cpu_seconds_total[5m] offset 1h)']);

let dir: string;
const services = new ServiceGroup();
let buckets: BucketService | undefined;
let prom: Service | undefined;
let storeA: Service | undefined;
let storeB: Service | undefined;
let query: Service | undefined;

async function both(ask: (base: string) => Promise<ApiResponse>): Promise<{ ours: ApiResponse; theirs: ApiResponse }> {
  const [ours, theirs] = await Promise.all([ask(query!.httpUrl), ask(prom!.httpUrl)]);
  return { ours, theirs };
}

function dataOf(r: ApiResponse, who: string): QueryData {
  if (r.status !== 'success' || r.data === undefined) throw new Error(`${who}: HTTP ${r.httpStatus} ${r.errorType ?? ''}: ${r.error ?? ''}`);
  return r.data;
}

function nonEmpty(d: QueryData): boolean {
  return d.resultType === 'scalar' || d.resultType === 'string' || d.result.length > 0;
}

/**
 * prometheus3Text rewrites a Prometheus 2.42 error message to the 3.x (and Thanos) wording we
 * follow, where the two differ only in text: `Invalid time value` became `invalid time value`;
 * durations in brackets are lexed as numbers-or-durations (`bad duration syntax` became `bad
 * number or duration syntax`); query_range reports what NewRangeQuery rejects (parse errors, a
 * range-vector expression) as `invalid parameter "query": …` like query does (2.42 had no prefix
 * there); and an already expired timeout is reported where it is first noticed (2.42 says `query
 * execution`, our engine notices it in the `query queue`, both 503 timeout).
 */
function prometheus3Text(caseName: string, msg: string): string {
  if (caseName.includes('timeout')) return msg.replace('query timed out in query execution', 'query timed out in query queue');
  if (caseName.startsWith('query_range') && /^(\d+:\d+: parse error|invalid expression type)/.test(msg)) msg = `invalid parameter "query": ${msg}`;
  return msg.replace("Invalid time value for '", "invalid time value for '").replace(': bad duration syntax: ', ': bad number or duration syntax: ');
}

describe.skipIf(!ready)('tessera query over two tessera stores vs Prometheus (issue 5 acceptance)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-e2e-querier-'));
    await Promise.all([
      makeBlocks(promtoolBin!, { ...DATA, replica: 'a' }, join(dir, 'blocks-a')),
      makeBlocks(promtoolBin!, { ...DATA, replica: 'b' }, join(dir, 'blocks-b')),
    ]);
    buckets = await startBuckets(minioBin!);
    const cfgA = await buckets.bucketConfig('replica-a', join(dir, 'bucket-a.yml'));
    const cfgB = await buckets.bucketConfig('replica-b', join(dir, 'bucket-b.yml'));
    await Promise.all([
      uploadBlocks([join(dir, 'blocks-a')], cfgA, { cluster: 'c1', replica: 'a' }),
      uploadBlocks([join(dir, 'blocks-b')], cfgB, { cluster: 'c1', replica: 'b' }),
      copyBlocks(join(dir, 'blocks-a'), join(dir, 'prom-data')),
    ]);
    [prom, storeA, storeB] = await Promise.all([
      services.add(startPrometheus(prometheusBin!, { dataDir: join(dir, 'prom-data'), configFile: join(dir, 'prometheus.yml'), externalLabels: { cluster: 'c1' } })),
      services.add(startStore({ name: 'tessera store (replica a)', objstoreConfigFile: cfgA, dataDir: join(dir, 'store-a') })),
      services.add(startStore({ name: 'tessera store (replica b)', objstoreConfigFile: cfgB, dataDir: join(dir, 'store-b') })),
    ]);
    query = await services.add(startQuery({ endpoints: [storeA.grpcAddress!, storeB.grpcAddress!], replicaLabels: ['replica'], extraArgs: ['--store.unhealthy-timeout=5m'] }));
  });

  afterAll(async () => {
    await services.stopAll();
    await buckets?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cases: { name: string; expr: string; ask: (base: string) => Promise<ApiResponse> }[] = [];
  for (const expr of EXPRS) {
    for (const t of INSTANT_TIMES) cases.push({ name: `instant @${(t - S) / 1000}s: ${expr}`, expr, ask: (b) => instantQuery(b, expr, t) });
    cases.push({ name: `range: ${expr}`, expr, ask: (b) => rangeQuery(b, expr, RANGE.start, RANGE.end, RANGE.step) });
  }
  // A range-vector instant query returns raw samples: the (t-1m, t] window holds replica a's 4 samples.
  cases.push({ name: 'instant raw samples: node_memory_MemAvailable_bytes[1m]', expr: 'node_memory_MemAvailable_bytes[1m]', ask: (b) => instantQuery(b, 'node_memory_MemAvailable_bytes[1m]', at(100)) });

  // Issue 10: windows holding one or two samples per replica (the start of the data, right after
  // the 2h block boundary, right after b's gap) and a rate whose window holds a single sample (no
  // series), where the dedup used to return both replicas' samples side by side.
  const HOUR = 60 * MIN;
  const edges: [string, number][] = [
    ['node_cpu_seconds_total[30s]', S + 7000],
    ['node_cpu_seconds_total[30s]', S + 2 * HOUR + 1000],
    ['node_cpu_seconds_total[30s]', S + 2 * HOUR + 7000],
    ['node_cpu_seconds_total[1m]', GAP.to + 1000],
    ['count_over_time(node_cpu_seconds_total[30s])', S + 7000],
    ['count_over_time(node_cpu_seconds_total[30s])', S + 2 * HOUR + 7000],
    ['changes(node_memory_MemAvailable_bytes[1m])', S + 2 * HOUR + 1000],
    ['rate(node_cpu_seconds_total[5m])', S + 2 * HOUR + 7000],
    ['rate(node_cpu_seconds_total[1m])', GAP.to + 7000],
    ['rate(node_cpu_seconds_total[5m] offset 1h)', S + HOUR + 7000],
  ];
  for (const [expr, t] of edges) cases.push({ name: `edge @${(t - S) / 1000}s: ${expr}`, expr, ask: (b) => instantQuery(b, expr, t) });

  test(`the ${cases.length} instant and range queries are at least 50, over the data and across b's gap`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(RANGE.end).toBeLessThan(END);
    expect(GAP.from).toBeGreaterThan(RANGE.start);
    expect(GAP.to).toBeLessThan(RANGE.end);
  });

  test.each(cases)('$name', async ({ expr, ask }) => {
    const { ours, theirs } = await both(ask);
    const want = dataOf(theirs, 'prometheus');
    const got = dataOf(ours, 'tessera query');
    if (!EMPTY_OK.has(expr)) expect(nonEmpty(want), 'Prometheus returned no data: the case would prove nothing').toBe(true);
    expect(compareData(got, want, { rel: 1e-6, dropLabels: DROP })).toEqual([]);
  });

  test("inside replica b's gap the deduplicated result is replica a's, and replica b alone has nothing", async () => {
    const t = GAP.from + 5 * MIN + 7000;
    // Deduplicated: complete, and equal to Prometheus (which serves replica a).
    for (const expr of ['up', 'count_over_time(up[5m])', 'rate(node_cpu_seconds_total[5m])']) {
      const { ours, theirs } = await both((b) => instantQuery(b, expr, t));
      expect(compareData(dataOf(ours, 'tessera'), dataOf(theirs, 'prometheus'), { dropLabels: DROP }), expr).toEqual([]);
    }
    const { ours, theirs } = await both((b) => rangeQuery(b, 'count_over_time(up[5m])', GAP.from - 20 * MIN + 7000, GAP.to + 20 * MIN + 7000, 30_000));
    expect(compareData(dataOf(ours, 'tessera'), dataOf(theirs, 'prometheus'), { dropLabels: DROP })).toEqual([]);
    // Replica b alone: no sample in the 5 minutes before t.
    const onlyB = dataOf(await instantQuery(query!.httpUrl, 'count_over_time(up{replica="b"}[5m])', t), 'tessera');
    expect(onlyB).toEqual({ resultType: 'vector', result: [] });
    // Without deduplication both replicas are there outside the gap, and only a inside it.
    const replicasAt = async (time: number) => {
      const d = dataOf(await instantQuery(query!.httpUrl, 'count by (replica) (up)', time, { dedup: false }), 'tessera');
      return d.resultType === 'vector' ? d.result.map((s) => `${s.metric['replica']}=${s.value[1]}`).sort() : [];
    };
    expect(await replicasAt(t)).toEqual([`a=${DATA.hosts}`]);
    expect(await replicasAt(GAP.to + 5 * MIN + 7000)).toEqual([`a=${DATA.hosts}`, `b=${DATA.hosts}`]);
  });

  test("bad requests get Prometheus's status, error type and message", async () => {
    const q = (params: Record<string, string | number>) => (b: string) => apiGet(b, '/api/v1/query', params);
    const qr = (params: Record<string, string | number>) => (b: string) => apiGet(b, '/api/v1/query_range', params);
    const s = S / 1000;
    const bad: [string, (b: string) => Promise<ApiResponse>][] = [
      ['query: missing query', q({ time: s + 3600 })],
      ['query_range: missing query', qr({ start: s, end: s + 3600, step: 60 })],
      ['query: bad time', q({ query: 'up', time: 'abc' })],
      ['query_range: bad start', qr({ query: 'up', start: 'yesterday', end: s + 3600, step: 60 })],
      ['query_range: bad end', qr({ query: 'up', start: s, end: '', step: 60 })],
      ['query_range: end before start', qr({ query: 'up', start: s + 3600, end: s, step: 60 })],
      ['query_range: bad step', qr({ query: 'up', start: s, end: s + 3600, step: 'fast' })],
      ['query_range: zero step', qr({ query: 'up', start: s, end: s + 3600, step: 0 })],
      ['query_range: negative step', qr({ query: 'up', start: s, end: s + 3600, step: -15 })],
      ['query_range: too many points', qr({ query: 'up', start: s, end: s + 86_400, step: 1 })],
      ['query: unparsable PromQL', q({ query: 'sum(rate(up[5m])', time: s + 3600 })],
      ['query: bad duration', q({ query: 'rate(up[5x])', time: s + 3600 })],
      ['query: type error', q({ query: 'rate(up)', time: s + 3600 })],
      ['query_range: range vector', qr({ query: 'up[5m]', start: s, end: s + 3600, step: 60 })],
      ['query: many-to-one without group_left (422)', q({ query: 'http_requests_total * on(instance) up', time: s + 3607 })],
      ['query: expired timeout (503)', q({ query: 'up', time: s + 3607, timeout: 0 })],
    ];
    const diffs: string[] = [];
    for (const [name, ask] of bad) {
      const { ours, theirs } = await both(ask);
      expect(theirs.status, `${name}: Prometheus should reject it`).toBe('error');
      const o = `${ours.httpStatus} ${ours.errorType} ${JSON.stringify(ours.error)}`;
      const p = `${theirs.httpStatus} ${theirs.errorType} ${JSON.stringify(prometheus3Text(name, theirs.error ?? ''))}`;
      if (o !== p) diffs.push(`${name}:\n  tessera:    ${o}\n  prometheus: ${p}`);
    }
    expect(diffs.join('\n')).toBe('');

    // Thanos (unlike Prometheus) does not require step: without one it uses max(range/250, 1s).
    const noStep = await apiGet(query!.httpUrl, '/api/v1/query_range', { query: 'count(up)', start: s + 3600, end: s + 7200 });
    expect(noStep.httpStatus).toBe(200);
    expect(noStep.data?.resultType === 'matrix' ? noStep.data.result[0]?.values.length : undefined).toBe(Math.floor(3600 / 14) + 1);
  });

  test('issue 13 items 5, 6, 8: a bad label name, a 1,000-match[] GET and a multipart POST get what Prometheus answers', async () => {
    const raw = (base: string, method: string, path: string, body?: { type: string; data: string }) =>
      new Promise<{ status: number; type: string | undefined; text: string }>((resolve, reject) => {
        const u = new URL(base);
        const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': body.type };
        const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end(body?.data);
      });
    const bothRaw = (method: string, path: string, body?: { type: string; data: string }) => Promise.all([raw(query!.httpUrl, method, path, body), raw(prom!.httpUrl, method, path, body)]);
    const drop = (text: string) => JSON.stringify(JSON.parse(text), (k, v: unknown) => (k === 'cluster' || k === 'replica' ? undefined : v));

    // Item 5: byte-identical error.
    const [o5, p5] = await bothRaw('GET', '/api/v1/label/%FF%FE/values');
    expect([o5.status, o5.type, o5.text]).toEqual([p5.status, p5.type, p5.text]);
    expect(o5.status).toBe(400);

    // Item 6: 1,000 match[] (≈ 45 KB of request line) and a 40 KB query on a GET.
    const s = S / 1000;
    const matches = Array.from({ length: 1000 }, (_, i) => `match[]=${encodeURIComponent(`up{instance="host-${i}:9100"}`)}`).join('&');
    const [o6, p6] = await bothRaw('GET', `/api/v1/series?${matches}&start=${s}&end=${s + 3600}`);
    expect([o6.status, p6.status]).toEqual([200, 200]);
    expect(drop(o6.text)).toBe(drop(p6.text));
    const long = `count(up{instance=~"${Array.from({ length: 3000 }, (_, i) => `h${i}`).join('|')}|.+"})`;
    const [o6q, p6q] = await bothRaw('GET', `/api/v1/query?query=${encodeURIComponent(long)}&time=${s + 3607}`);
    expect([o6q.status, p6q.status]).toEqual([200, 200]);
    expect(drop(o6q.text)).toBe(drop(p6q.text));

    // Item 8: multipart/form-data POST.
    const b = 'e2eBoundary';
    const data = `--${b}\r\nContent-Disposition: form-data; name="query"\r\n\r\ncount(up)\r\n--${b}\r\nContent-Disposition: form-data; name="time"\r\n\r\n${s + 3607}\r\n--${b}--\r\n`;
    const [o8, p8] = await bothRaw('POST', '/api/v1/query', { type: `multipart/form-data; boundary=${b}`, data });
    expect([o8.status, p8.status]).toEqual([200, 200]);
    expect(drop(o8.text)).toBe(drop(p8.text));
  });

  test('killing one of two stores: as in Thanos, left out of queries from its next failed Info check (strict queries succeed over replica a alone); the querier keeps serving', async () => {
    // A store failing during a query (warning, or 500 internal naming it without partial
    // response) is covered by pkg/querier/querier-service.test.ts, where no check can intervene.
    const t = at(100);
    await storeB!.kill();
    await waitFor('store b unhealthy on /api/v1/stores', async () => {
      const res = (await (await fetch(`${query!.httpUrl}/api/v1/stores`)).json()) as { data: { name: string; healthy: boolean }[] };
      return res.data.some((s) => s.name === storeB!.grpcAddress && !s.healthy);
    }, 30_000, 200);
    const want = dataOf(await instantQuery(prom!.httpUrl, 'sum by (instance) (rate(node_cpu_seconds_total[5m]))', t), 'prometheus');

    for (const partialResponse of [true, false]) {
      const r = await instantQuery(query!.httpUrl, 'sum by (instance) (rate(node_cpu_seconds_total[5m]))', t, { partial_response: partialResponse });
      expect({ status: r.httpStatus, warnings: r.warnings }, JSON.stringify(r)).toEqual({ status: 200, warnings: undefined });
      // Replica a's store alone still has all the data.
      expect(compareData(dataOf(r, 'tessera'), want, { dropLabels: DROP })).toEqual([]);
    }

    // Still serving: readiness, and further queries succeed.
    expect((await fetch(`${query!.httpUrl}/-/ready`)).status).toBe(200);
    const again = await rangeQuery(query!.httpUrl, 'count(up)', RANGE.start, RANGE.end, RANGE.step);
    expect(again.httpStatus).toBe(200);
    const wantAgain = dataOf(await rangeQuery(prom!.httpUrl, 'count(up)', RANGE.start, RANGE.end, RANGE.step), 'prometheus');
    expect(compareData(dataOf(again, 'tessera'), wantAgain, { dropLabels: DROP })).toEqual([]);
    expect(query!.process.proc.exitCode).toBeNull();
  });
});
