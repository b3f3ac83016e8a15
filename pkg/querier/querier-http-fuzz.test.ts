import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpStatus, type ErrorType } from '../api/index.js';
import { Labels } from '../labels/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer } from '../store/index.js';
import { Querier } from './querier-service.js';
import { testQuerierOptions } from '../testutil/index.js';

// Issue 13 (HTTP part): a querier over an in-memory store (two replicas) answers every request,
// however hostile, with Prometheus-shaped JSON and keeps running. Random PromQL from the grammar,
// mutated and garbage queries, and random API parameters (bad times, steps, matchers, encodings,
// methods and body types) go to its real HTTP server; the exact inputs of the issue are checked
// first. The property uses the fixed seed of test/setup-fast-check.ts.

let store: StoreGrpcServer[] = [];
const storePorts: number[] = [];
let querier: Querier;
let host = '';
let port = 0;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => {
  unhandled.push(err);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  for (const replica of ['a', 'b']) {
    const series = [];
    for (const job of ['api', 'db']) {
      for (const instance of ['h1:9100', 'h2:9100']) {
        const samples = Array.from({ length: 240 }, (_, i) => [i * 15_000 + (replica === 'b' ? 300 : 0), i * (job === 'api' ? 1 : 3) + (instance === 'h2:9100' ? 1000 : 0)] as const);
        series.push({ labels: Labels.fromRecord({ __name__: 'http_requests_total', job, instance, code: '200' }), samples });
        series.push({ labels: Labels.fromRecord({ __name__: 'up', job, instance }), samples: samples.map(([t]) => [t, 1] as const) });
      }
    }
    for (const le of ['0.1', '0.5', '+Inf']) {
      series.push({ labels: Labels.fromRecord({ __name__: 'lat_bucket', job: 'api', le }), samples: Array.from({ length: 240 }, (_, i) => [i * 15_000, i * Number(le === '+Inf' ? 3 : le)] as const) });
    }
    const q = new MemChunkQueryable(series);
    const s = new StoreGrpcServer(new LocalStore({ queryable: q, externalLabels: Labels.fromRecord({ cluster: 'c1', replica }), componentType: 'sidecar', timeRange: () => q.timeRange() }));
    storePorts.push(await s.listen('127.0.0.1:0'));
    store.push(s);
  }
  querier = new Querier(testQuerierOptions(storePorts.map((p) => `127.0.0.1:${p}`), { timeoutMs: 5_000, maxSamples: 500_000, infoTimeoutMs: 2000 }));
  await querier.start();
  host = '127.0.0.1';
  port = querier.httpPort;
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await querier?.stop();
  await Promise.all(store.map((s) => s.stop(100)));
  store = [];
});

interface Reply {
  status: number;
  type: string | undefined;
  text: string;
}

/** send issues one request with exactly `path` on the request line (fetch would normalise it). */
function send(method: string, path: string, body?: { type: string; data: Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['Content-Type'] = body.type;
      headers['Content-Length'] = body.data.length;
    }
    const req = request({ host, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body?.data);
  });
}

const errorTypes = new Set(['bad_data', 'execution', 'canceled', 'timeout', 'internal', 'unavailable', 'not_found', 'not_acceptable']);

/** expectPrometheusJson checks an API answer: JSON, success with data (200), or a typed error with its status. */
function expectPrometheusJson(r: Reply, what: string): void {
  const ctx = `${what} → ${r.status} ${r.type ?? ''} ${r.text.slice(0, 300)}`;
  // A path that matches no route (e.g. a name with an encoded slash) gets Go's plain-text 404,
  // exactly as from Prometheus.
  if (r.status === 404 && r.type === 'text/plain; charset=utf-8' && r.text === '404 page not found\n') return;
  expect(r.type, ctx).toBe('application/json');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON: ${ctx}`);
  }
  if (body['status'] === 'success') {
    expect(r.status, ctx).toBe(200);
    expect('data' in body, ctx).toBe(true);
    for (const k of ['warnings', 'infos']) if (k in body) expect(Array.isArray(body[k]), ctx).toBe(true);
    return;
  }
  expect(body['status'], ctx).toBe('error');
  expect(typeof body['error'], ctx).toBe('string');
  const t = body['errorType'];
  expect(typeof t === 'string' && errorTypes.has(t), ctx).toBe(true);
  expect(r.status, ctx).toBe(httpStatus(t as ErrorType, 503));
  expect(r.text, ctx).not.toMatch(/<html|\n\s+at .+:\d+:\d+/i);
}

describe('the exact inputs of issue 13 against the querier', () => {
  test('GET /api/v1/label/%FF%FE/values: 400 bad_data "invalid label name" JSON (item 5)', async () => {
    const r = await send('GET', '/api/v1/label/%FF%FE/values');
    expect([r.status, r.type]).toEqual([400, 'application/json']);
    expect(JSON.parse(r.text)).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid label name: "\\xff\\xfe"' });
  });

  test('GET with 1,000 match[] (> 16 KB): 200 (item 6)', async () => {
    const qs = Array.from({ length: 1000 }, (_, i) => `match[]=${encodeURIComponent(`http_requests_total{instance="host-${i}:9100"}`)}`).join('&');
    expect(qs.length).toBeGreaterThan(16 * 1024);
    // storeMatch[] selects no store: the request line is what is under test here, and 1,000
    // selects through gRPC cost seconds on a loaded CI machine (pkg/api's router test sends the
    // same 1,000 match[] through to a source).
    const r = await send('GET', `/api/v1/series?${qs}&start=0&end=3600&storeMatch[]=${encodeURIComponent('{__address__="none"}')}`);
    expect(r.status).toBe(200);
    expectPrometheusJson(r, 'series with 1,000 match[]');
    expect(JSON.parse(r.text).data).toEqual([]);
    const long = `sum(http_requests_total{job=~"${Array.from({ length: 3000 }, (_, i) => `job${i}`).join('|')}|api"})`;
    const q = await send('GET', `/api/v1/query?query=${encodeURIComponent(long)}&time=3000`);
    expect(q.status).toBe(200);
    expect(JSON.parse(q.text).data.result).toHaveLength(1);
  });

  test('query_range {__name__=~".+"}, step=2, dedup=false is streamed, not built as one string (item 2, scaled)', async () => {
    const r = await new Promise<{ status: number; te: string | undefined; text: string }>((resolve, reject) => {
      const path = `/api/v1/query_range?query=${encodeURIComponent('{__name__=~".+"}')}&start=0&end=3600&step=2&dedup=false`;
      request({ host, port, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, te: res.headers['transfer-encoding'], text: Buffer.concat(chunks).toString() }));
      })
        .on('error', reject)
        .end();
    });
    expect(r.status).toBe(200);
    expect(r.te).toBe('chunked');
    const result = JSON.parse(r.text).data.result as { metric: Record<string, string>; values: unknown[] }[];
    expect(result).toHaveLength(22);
    expect(result.reduce((n, s) => n + s.values.length, 0)).toBeGreaterThan(39_000);
  });

  test('POST multipart/form-data: 200 (item 8)', async () => {
    const b = 'tesseraBoundary';
    const part = (n: string, v: string) => `--${b}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`;
    const data = Buffer.from(`${part('query', 'sum by (job) (http_requests_total)')}${part('time', '3000')}--${b}--\r\n`);
    const r = await send('POST', '/api/v1/query', { type: `multipart/form-data; boundary=${b}`, data });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).data.result).toHaveLength(2);
  });
});

// ---- generators ----
const SELECTORS = ['up', 'http_requests_total', 'lat_bucket', '{job="api"}', 'up{job=~"a.*|d.*"}', 'nope', '{__name__=~".+"}', 'http_requests_total{code!="500",instance=~"h.*"}'];
const RANGES = ['[1m]', '[5m]', '[90s]', '[2m:30s]', '[10m:1m] @ 300', '[1m] offset 1m', '[1h:1s]', '[6h:10ms]'];
const RANGE_FNS = ['rate', 'increase', 'delta', 'irate', 'resets', 'changes', 'sum_over_time', 'avg_over_time', 'quantile_over_time(0.5,', 'deriv', 'last_over_time', 'count_over_time', 'absent_over_time', 'stddev_over_time'];
const INSTANT_FNS = ['abs', 'ceil', 'exp', 'ln', 'sort', 'timestamp', 'absent', 'scalar', 'vector', '-', 'clamp_min(', 'round('];
const AGGS = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'topk(2,', 'bottomk(1,', 'quantile(0.9,', 'count_values("v",'];
const BINOPS = ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', 'and', 'or', 'unless', 'atan2', '> bool'];
const MATCHING = ['', ' on(job)', ' ignoring(le)', ' on(job) group_left', ' ignoring(code) group_right(le)'];

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SELECTORS),
    fc.oneof(fc.double(), fc.integer({ min: -5, max: 5 })).map((n) => (Number.isNaN(n) ? 'NaN' : Number.isFinite(n) ? String(n) : n > 0 ? 'Inf' : '-Inf')),
    fc.tuple(fc.constantFrom(...RANGE_FNS), fc.constantFrom(...SELECTORS), fc.constantFrom(...RANGES)).map(([f, s, r]) => (f.endsWith(',') ? `${f} ${s}${r})` : `${f}(${s}${r})`)),
    fc.tuple(fc.constantFrom(...INSTANT_FNS), tie('e')).map(([f, a]) => (f.endsWith('(') ? `${f}${a}, 1)` : f === '-' ? `-${a}` : `${f}(${a})`)),
    fc.tuple(fc.constantFrom(...AGGS), fc.constantFrom('', ' by (job)', ' without (le)'), tie('e')).map(([a, g, x]) => (a.endsWith(',') ? `${a.slice(0, -1)}${g}${a.slice(-1)} ${x})` : `${a}${g} (${x})`)),
    fc.tuple(tie('e'), fc.constantFrom(...BINOPS), fc.constantFrom(...MATCHING), tie('e')).map(([l, o, m, r]) => `(${l}) ${o}${m} (${r})`),
    fc.tuple(tie('e'), fc.constantFrom('[2m:30s]', '[1m:]')).map(([x, r]) => `max_over_time((${x})${r})`),
    tie('e').map((x) => `histogram_quantile(0.5, ${x})`),
    tie('e').map((x) => `label_replace(${x}, "dst", "$1", "job", "(.*)")`),
  ),
})).e;

/** mutate damages a valid expression: a cut, an inserted character, a swapped pair. */
const mutated = fc.tuple(exprArb, fc.nat(), fc.constantFrom(...'(){}[]"\'`,=~!+-*/^@:;\\\u0000\u00ff😀 '), fc.constantFrom('cut', 'insert', 'swap')).map(([e, i, c, how]) => {
  const k = e.length === 0 ? 0 : i % e.length;
  if (how === 'cut') return e.slice(0, k);
  if (how === 'insert') return e.slice(0, k) + c + e.slice(k);
  return k + 1 < e.length ? e.slice(0, k) + e[k + 1] + e[k] + e.slice(k + 2) : e;
});

/** A raw query-string value: mostly encoded text, sometimes raw bytes (%FF, lone %, invalid UTF-8). */
const rawBytes = fc.uint8Array({ maxLength: 24 }).map((b) => Array.from(b, (x) => `%${x.toString(16).padStart(2, '0')}`).join(''));
const enc = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => a.map(encodeURIComponent);
const queryValue = fc.oneof({ weight: 6, arbitrary: enc(exprArb) }, { weight: 3, arbitrary: enc(mutated) }, { weight: 1, arbitrary: rawBytes }, { weight: 1, arbitrary: fc.constantFrom('', '%', '%zz', '1%', '%C0%80', '%ED%A0%80') });
const timeValue = fc.oneof(
  fc.integer({ min: -100, max: 4000 }).map(String),
  fc.double({ min: -1e3, max: 5e3, noNaN: true }).map(String),
  fc.constantFrom('', '0', '3600', '1e3', '-1e20', '9e18', 'NaN', 'Inf', '-Inf', '1970-01-01T00:30:00Z', '1970-01-01T00:30:00.5+01:00', '2026-13-45T99:99:99Z', 'now', '5m', '1.5.5', '0x10', ' 10', '10 ', '1_000'),
).map(encodeURIComponent);
const durationValue = fc.oneof(
  fc.integer({ min: -5, max: 7200 }).map(String),
  fc.constantFrom('', '0', '0s', '1ms', '1s', '15s', '1m', '1h30m', '-1s', '1d', '1y', '1e3', '0.001', '1h1h', 'abc', '9999999999999999999', 'NaN', 'Inf', '5mm', '1µs', '1ns'),
).map(encodeURIComponent);
const matcherValue = fc.oneof(
  enc(fc.constantFrom(...SELECTORS)),
  enc(fc.constantFrom('{}', '{job=""}', '{job=~".*"}', 'up{', '{__name__=~"(a"}', '{a="\\xff"}', 'sum(up)', '{job="api"} offset 5m', '{"quoted.name"="x"}', '{job!~"a|b"}')),
  enc(mutated),
  rawBytes,
);
const boolValue = fc.constantFrom('true', 'false', '1', '0', 'yes', 'TRUE', 'x', '');
const param = (name: string, v: fc.Arbitrary<string>) => v.map((x) => `${encodeURIComponent(name)}=${x}`);
const extras = fc.array(
  fc.oneof(
    param('timeout', durationValue),
    param('lookback_delta', durationValue),
    param('limit', fc.constantFrom('0', '1', '2', '-1', 'x', '1e2', '99999999999999999999')),
    param('dedup', boolValue),
    param('partial_response', boolValue),
    param('max_source_resolution', fc.oneof(durationValue, fc.constant('auto'))),
    param('stats', fc.constantFrom('all', 'true', 'x')),
    param('replicaLabels[]', fc.constantFrom('replica', 'job', '', '%FF')),
    param('storeMatch[]', matcherValue),
    param('engine', fc.constantFrom('prometheus', 'thanos', 'x')),
  ),
  { maxLength: 4 },
);

const LABEL_NAMES = ['job', '__name__', 'instance', 'replica', 'nope', 'U__a_2e_b', 'U__bad_zz_', '%FF%FE', '%ZZ', 'a%2Fb', '%E2%82%AC', 'with%20space', '0abc', '%00'];

/** endpointRequest builds [method, path+query] for one API call with random parameters. */
const endpointRequest = fc.oneof(
  fc.tuple(queryValue, fc.option(timeValue), extras).map(([q, t, x]) => `/api/v1/query?${[`query=${q}`, ...(t === null ? [] : [`time=${t}`]), ...x].join('&')}`),
  fc
    .tuple(queryValue, timeValue, timeValue, fc.option(durationValue, { nil: undefined }), extras)
    .map(([q, s, e, st, x]) => `/api/v1/query_range?${[`query=${q}`, `start=${s}`, `end=${e}`, ...(st === undefined ? [] : [`step=${st}`]), ...x].join('&')}`),
  fc.tuple(fc.array(matcherValue, { maxLength: 3 }), fc.option(timeValue), fc.option(timeValue), extras).map(([m, s, e, x]) => `/api/v1/series?${[...m.map((v) => `match[]=${v}`), ...(s === null ? [] : [`start=${s}`]), ...(e === null ? [] : [`end=${e}`]), ...x].join('&')}`),
  fc.tuple(fc.array(matcherValue, { maxLength: 2 }), fc.option(timeValue), extras).map(([m, s, x]) => `/api/v1/labels?${[...m.map((v) => `match[]=${v}`), ...(s === null ? [] : [`start=${s}`]), ...x].join('&')}`),
  fc.tuple(fc.oneof(fc.constantFrom(...LABEL_NAMES), rawBytes.filter((s) => s !== '')), fc.array(matcherValue, { maxLength: 2 }), extras).map(([n, m, x]) => `/api/v1/label/${n}/values?${[...m.map((v) => `match[]=${v}`), ...x].join('&')}`),
  fc.tuple(queryValue).map(([q]) => `/api/v1/format_query?query=${q}`),
  fc.tuple(queryValue).map(([q]) => `/api/v1/parse_query?query=${q}`),
  fc.constantFrom('/api/v1/metadata?limit=x', '/api/v1/metadata?limit=1&metric=up', '/api/v1/status/buildinfo', '/api/v1/status/flags'),
);

/** How to send: GET with the query string, or POST with it as a form body (urlencoded or multipart). */
const methodArb = fc.constantFrom('GET', 'GET', 'POST-form', 'POST-multipart', 'POST-json');

function toRequest(pathAndQuery: string, how: string): [string, string, { type: string; data: Buffer } | undefined] {
  const i = pathAndQuery.indexOf('?');
  const path = pathAndQuery.slice(0, i);
  const qs = pathAndQuery.slice(i + 1);
  const getOnly = path.startsWith('/api/v1/label/') || path.startsWith('/api/v1/metadata') || path.startsWith('/api/v1/status');
  if (how === 'GET' || getOnly) return ['GET', pathAndQuery, undefined];
  if (how === 'POST-form') return ['POST', path, { type: 'application/x-www-form-urlencoded', data: Buffer.from(qs) }];
  if (how === 'POST-json') return ['POST', pathAndQuery, { type: 'application/json', data: Buffer.from('{"query":') }];
  const b = 'fuzzb0undary';
  let body = '';
  for (const kv of qs.split('&')) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    body += `--${b}\r\nContent-Disposition: form-data; name="${dec(kv.slice(0, eq)).replace(/["\r\n]/g, '_')}"\r\n\r\n${dec(kv.slice(eq + 1))}\r\n`;
  }
  return ['POST', path, { type: `multipart/form-data; boundary=${b}`, data: Buffer.from(`${body}--${b}--\r\n`) }];
}

describe('HTTP API fuzz against the querier', () => {
  test('400 random requests: every answer is Prometheus JSON, the querier keeps serving', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(endpointRequest, methodArb, async (pq, how) => {
        const [method, path, body] = toRequest(pq, how);
        const r = await send(method, path, body);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        expectPrometheusJson(r, `${method} ${path}${body === undefined ? '' : ` body ${body.type} ${body.data.toString('latin1').slice(0, 200)}`}`);
      }),
      { numRuns: 400 },
    );
    // The generators reach both successes and each kind of client error.
    expect(seen.get(200) ?? 0).toBeGreaterThan(40);
    expect(seen.get(400) ?? 0).toBeGreaterThan(40);
    const ok = await send('GET', '/api/v1/query?query=sum(up)&time=3000');
    expect(JSON.parse(ok.text).data.result[0].value[1]).toBe('4');
    expect(unhandled).toEqual([]);
  });
});
