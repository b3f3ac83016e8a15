import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { parseExpr } from '../promql/index.js';
import { freePort, requireBinary, startProcess, waitForHttp, type ManagedProcess } from '../testutil/index.js';
import type { QueryEngine, SeriesSource } from './query-engine.js';
import { resultJson } from './result-json.js';
import { createApiRouter } from './router.js';

// Compares our answers to bad requests with a real Prometheus (2.42 here; its texts differ from
// 3.x only in capitalisation of "Invalid time value", which is compared case-insensitively).

const bin = requireBinary('prometheus');

/** An engine that only parses (empty results): enough to compare parameter handling. */
const engine: QueryEngine = {
  async instantQuery(expr) {
    parseExpr(expr);
    return { resultType: 'vector', result: [] };
  },
  async rangeQuery(expr) {
    parseExpr(expr);
    return { resultType: 'matrix', result: [] };
  },
};
const source: SeriesSource = {
  async series() {
    return { series: [] as Labels[] };
  },
  async labelNames() {
    return { values: [] };
  },
  async labelValues() {
    return { values: [] };
  },
};

interface Case {
  readonly path: string;
  readonly method?: 'GET' | 'POST' | 'OPTIONS';
  readonly body?: string;
  readonly json?: string;
  /** sameText compares the error text too (case-insensitively). */
  readonly sameText: boolean;
}

const cases: Case[] = [
  { path: 'query', sameText: true },
  { path: 'query?query=sum(', sameText: true },
  { path: 'query?query=up&time=5m', sameText: true },
  { path: 'query?query=up&time=2023-13-01T00:00:00Z', sameText: true },
  { path: 'query?query=up&timeout=abc', sameText: true },
  { path: 'query?query=up&time=1700000000.5', sameText: true },
  // Where Prometheus notices the expired deadline (queue or execution) depends on its timing.
  { path: 'query?query=up&timeout=0', sameText: false },
  // Where Prometheus notices the expired deadline (queue or execution) depends on its internals.
  { path: 'query_range?query=up&start=0&end=10&step=1&timeout=0', sameText: false },
  // The body value wins over the URL value; a JSON body is not read.
  { path: 'query?query=up', method: 'POST', body: 'query=sum(', sameText: true },
  { path: 'query?query=sum(', method: 'POST', body: 'query=up', sameText: true },
  { path: 'query', method: 'POST', body: 'time=x', sameText: true },
  { path: 'query', method: 'POST', json: '{"query":"up"}', sameText: true },
  { path: 'query', method: 'OPTIONS', sameText: true },
  { path: 'query', method: 'POST', body: 'query=rate(up[5m]', sameText: true },
  { path: 'query_range?query=up&end=1&step=1', sameText: true },
  { path: 'query_range?query=up&start=1&end=x&step=1', sameText: true },
  { path: 'query_range?query=up&start=2&end=1&step=1', sameText: true },
  { path: 'query_range?query=up&start=1&end=2', sameText: true },
  { path: 'query_range?query=up&start=1&end=2&step=0', sameText: true },
  { path: 'query_range?query=up&start=1&end=2&step=-5', sameText: true },
  { path: 'query_range?query=up&start=1&end=2&step=0.5m', sameText: true },
  { path: 'query_range?query=up&start=0&end=11001&step=1', sameText: true },
  { path: 'query_range?query=up&start=0&end=11000.999&step=1', sameText: true },
  { path: 'query_range?query=up&start=0&end=660000&step=1m', sameText: true },
  { path: 'query_range', method: 'POST', body: 'query=up&start=0&end=11001&step=1', sameText: true },
  // 2.42 reports range-query parse errors without the `invalid parameter "query": ` prefix; 3.x
  // (and we) add it.
  { path: 'query_range?query=sum(&start=0&end=10&step=1', sameText: false },
  { path: 'series', sameText: true },
  { path: 'series?match[]=%7Ba=%22%22%7D', sameText: true },
  { path: 'series?match[]=up&start=x', sameText: true },
  { path: 'series?match[]=sum(', sameText: false },
  { path: 'labels?match[]=%7Ba=~%22.*%22%7D', sameText: true },
  { path: 'labels?start=x', sameText: true },
  { path: 'label/job/values?match[]=sum(', sameText: false },
  { path: 'label/job/values', method: 'POST', sameText: true },
  { path: 'metadata?limit=x', sameText: true },
  { path: 'status/buildinfo', method: 'POST', sameText: true },
  { path: 'no_such_endpoint', sameText: true },
];

interface Answer {
  status: number;
  errorType?: string;
  error?: string;
  text: string;
  contentType: string | null;
}

async function call(base: string, c: Case): Promise<Answer> {
  const res = await fetch(`${base}/api/v1/${c.path}`, {
    method: c.method ?? 'GET',
    ...(c.body === undefined ? {} : { body: c.body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
    ...(c.json === undefined ? {} : { body: c.json, headers: { 'Content-Type': 'application/json' } }),
  });
  const text = await res.text();
  const a: Answer = { status: res.status, text, contentType: res.headers.get('content-type') };
  if (res.headers.get('content-type') === 'application/json') {
    const j = JSON.parse(text) as { errorType?: string; error?: string };
    if (j.errorType !== undefined) a.errorType = j.errorType;
    if (j.error !== undefined) a.error = j.error.toLowerCase();
  }
  return a;
}

describe.skipIf(bin === undefined)('error answers match a real Prometheus', () => {
  let prom: ManagedProcess;
  let promBase = '';
  let server: Server;
  let ours = '';
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-api-compat-'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    const port = await freePort();
    prom = startProcess(bin!, [`--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--config.file=${join(dir, 'prometheus.yml')}`]);
    promBase = `http://127.0.0.1:${port}`;
    const app = express();
    app.use('/api/v1', createApiRouter({ engine, source }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    ours = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await waitForHttp(`${promBase}/-/ready`);
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => server?.close(r));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  // Value encodings: Prometheus evaluates the literal; we encode the same number (JS evaluates it).
  test.each([
    ['1e-7', 1e-7],
    ['9.99e-7', 9.99e-7],
    ['0.000001', 0.000001],
    ['1e20', 1e20],
    ['1e21', 1e21],
    ['1.5e300', 1.5e300],
    ['5e-324', 5e-324],
    ['123456789012345678', 123456789012345678],
    ['0.1+0.2', 0.1 + 0.2],
    ['2^70', 2 ** 70],
    ['-(0)', -0],
    ['NaN', NaN],
    ['Inf', Infinity],
    ['-Inf', -Infinity],
  ])('encodes %s like Prometheus in vectors and scalars', async (lit, v) => {
    for (const [ts, ms] of [
      ['1435781451.05', 1435781451050],
      ['1767225600.17', 1767225600170],
      ['1435781451', 1435781451000],
    ] as const) {
      const vec = await (await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(`vector(${lit})`)}&time=${ts}`)).text();
      expect(vec).toBe(`{"status":"success","data":{"resultType":"vector","result":${resultJson({ resultType: 'vector', result: [{ metric: Labels.EMPTY, t: ms, f: v }] })}}}`);
      const sc = await (await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(`scalar(vector(${lit}))`)}&time=${ts}`)).text();
      expect(sc).toBe(`{"status":"success","data":{"resultType":"scalar","result":${resultJson({ resultType: 'scalar', result: { t: ms, v } })}}}`);
    }
  });

  test('escapes label values and strings like Prometheus', async () => {
    const v = '<&>"\\é\u2028\u0001';
    const q = `label_replace(vector(1), "a", "${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}", "", "")`;
    const got = await (await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(q)}&time=1`)).text();
    expect(got).toBe(`{"status":"success","data":{"resultType":"vector","result":${resultJson({ resultType: 'vector', result: [{ metric: Labels.fromStrings('a', v), t: 1000, f: 1 }] })}}}`);
    const str = await (await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent('"x<y&z"')}&time=1.5`)).text();
    expect(str).toBe(`{"status":"success","data":{"resultType":"string","result":${resultJson({ resultType: 'string', result: { t: 1500, v: 'x<y&z' } })}}}`);
  });

  // format_query: short expressions print on one line, long ones are split (parser.Prettify).
  test.each([
    'sum by(job)(rate(x{b="1",a="2"}[5m]))',
    'a+on(x)group_left(y)b',
    '1.5 * x',
    'x offset 5m',
    'rate(x[5m] @ 100)',
    '-x unless y',
    'topk(3, x) > bool 2',
    'sum(rate(http_requests_total{job="api-server",handler="/api/v1/query"}[5m])) by (instance) / ignoring(code) sum(rate(errors_total[5m])) by (instance)',
    'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="apiserver", verb!="WATCH"}[5m])))',
    'topk(5, max_over_time(rate(node_network_receive_bytes_total{device!~"lo|veth.*", instance=~"host-.*"}[5m])[1h:1m]))',
    '-(sum(rate(a_very_long_metric_name_for_testing_purposes_total[5m])) + sum(rate(another_very_long_metric_name_total[5m])))',
    '(sum(rate(a_very_long_metric_name_for_testing_purposes_total[5m])) > bool on(job) group_left(instance) sum(rate(another_very_long_metric_name_total[5m])))',
  ])(
    'format_query %s',
    async (q) => {
      const body = `query=${encodeURIComponent(q)}`;
      const opts = { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
      const [want, got] = await Promise.all([fetch(`${promBase}/api/v1/format_query`, opts).then((r) => r.text()), fetch(`${ours}/api/v1/format_query`, opts).then((r) => r.text())]);
      expect(got).toBe(want);
    },
  );

  test.each(cases)('$method $path', async (c) => {
    const [want, got] = await Promise.all([call(promBase, c), call(ours, c)]);
    expect(got.status, `ours: ${got.text}\nprometheus: ${want.text}`).toBe(want.status);
    expect(got.errorType).toBe(want.errorType);
    if (c.sameText) {
      if (want.error !== undefined) expect(got.error).toBe(want.error);
      else if (want.errorType === undefined && want.status !== 200) expect(got.text).toBe(want.text);
      expect(got.contentType).toBe(want.contentType);
    }
  });
});
