import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { Registry, Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FloatHistogram } from '../histogram/index.js';
import { Labels, type Matcher } from '../labels/index.js';
import { ApiError } from './api-error.js';
import { createHealthRouter } from './health.js';
import type { QueryEngine, QueryOptions, QueryResult, SeriesSource, SeriesSourceOptions } from './query-engine.js';
import { createApiRouter } from './router.js';

interface Call {
  kind: string;
  expr?: string;
  time?: number;
  start?: number;
  end?: number;
  step?: number;
  opts?: QueryOptions | SeriesSourceOptions;
  sets?: readonly (readonly Matcher[])[];
  name?: string;
}

const calls: Call[] = [];
let answer: (expr: string) => Promise<QueryResult> = async () => ({ resultType: 'vector', result: [] });
let ready = true;

const engine: QueryEngine = {
  instantQuery(expr, time, opts) {
    calls.push({ kind: 'instant', expr, time, opts });
    return answer(expr);
  },
  rangeQuery(expr, start, end, step, opts) {
    calls.push({ kind: 'range', expr, start, end, step, opts });
    return answer(expr);
  },
};

const source: SeriesSource = {
  async series(sets, start, end, opts) {
    calls.push({ kind: 'series', sets, start, end, opts });
    return { series: [Labels.fromStrings('__name__', 'up', 'job', 'a'), Labels.fromStrings('__name__', 'up', 'job', 'b')], warnings: ['w1'] };
  },
  async labelNames(sets, start, end, opts) {
    calls.push({ kind: 'labels', sets, start, end, opts });
    return { values: ['__name__', 'job', 'zone'] };
  },
  async labelValues(name, sets, start, end, opts) {
    calls.push({ kind: 'values', name, sets, start, end, opts });
    if (name === 'boom') throw new Error('store down');
    return { values: ['a', 'b<c'] };
  },
};

let server: Server;
let base = '';
const registry = new Registry();
new Counter({ name: 'tessera_test_total', help: 'test counter', registers: [registry] }).inc(3);

beforeAll(async () => {
  const app = express();
  app.use(createHealthRouter({ ready: () => ready, registry }));
  app.use(
    '/api/v1',
    createApiRouter({
      engine,
      source,
      ready: () => ready,
      now: () => 1_700_000_000_123,
      buildInfo: { version: '2.53.0', revision: 'abc', branch: 'main', buildUser: 'x', buildDate: 'y', goVersion: 'node' },
      flags: { 'query.timeout': '2m' },
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; text: string; json: () => any }> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) };
}

function post(path: string, body: string): Promise<{ status: number; type: string | null; text: string; json: () => any }> {
  return get(path, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}

describe('query encodings', () => {
  test('vector with float and histogram samples, warnings and infos', async () => {
    const h = new FloatHistogram();
    h.count = 3;
    h.sum = 4.5;
    h.schema = 0;
    h.zeroCount = 1;
    h.zeroThreshold = 0.001;
    h.positiveSpans = [{ offset: 0, length: 2 }];
    h.positiveBuckets = [2, 0];
    h.negativeSpans = [{ offset: 1, length: 1 }];
    h.negativeBuckets = [1e-7];
    answer = async () => ({
      resultType: 'vector',
      result: [
        { metric: Labels.fromStrings('__name__', 'up', 'job', 'a<b'), t: 1_435_781_451_500, f: 1e-7 },
        { metric: Labels.EMPTY, t: 1_435_781_451_000, f: 0, h },
      ],
      warnings: ['careful'],
      infos: ['fyi'],
    });
    const r = await get('/api/v1/query?query=up&time=1435781451.5');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.text).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[' +
        '{"metric":{"__name__":"up","job":"a\\u003cb"},"value":[1435781451.500,"1e-07"]},' +
        '{"metric":{},"histogram":[1435781451,{"count":"3","sum":"4.5","buckets":[[1,"-2","-1","1e-07"],[3,"-0.001","0.001","1"],[0,"0.5","1","2"]]}]}' +
        ']},"warnings":["careful"],"infos":["fyi"]}',
    );
    expect(calls.at(-1)).toMatchObject({ kind: 'instant', expr: 'up', time: 1_435_781_451_500 });
  });

  test('matrix, scalar and string', async () => {
    answer = async (expr) => {
      if (expr === 'm') {
        return {
          resultType: 'matrix',
          result: [{ metric: Labels.fromStrings('a', '1'), ts: [1000, 2500], fs: [NaN, -Infinity] }, { metric: Labels.fromStrings('a', '2'), ts: [], fs: [] }],
        };
      }
      if (expr === 's') return { resultType: 'scalar', result: { t: 1_435_781_451_050, v: 1e21 } };
      return { resultType: 'string', result: { t: 1000, v: 'x&y' } };
    };
    expect((await get('/api/v1/query_range?query=m&start=0&end=10&step=1')).text).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"NaN"],[2.500,"-Inf"]]},{"metric":{"a":"2"}}]}}',
    );
    expect((await get('/api/v1/query?query=s')).text).toBe('{"status":"success","data":{"resultType":"scalar","result":[1435781451.05,"1000000000000000000000"]}}');
    expect((await get('/api/v1/query?query=x')).text).toBe('{"status":"success","data":{"resultType":"string","result":[1,"x\\u0026y"]}}');
    expect(calls.at(-1)).toMatchObject({ time: 1_700_000_000_123 }); // default time = now()
  });

  test('stats, limit truncation, warning cap, gzip', async () => {
    answer = async () => ({
      resultType: 'vector',
      result: [1, 2, 3].map((i) => ({ metric: Labels.fromStrings('i', String(i)), t: 0, f: i })),
      warnings: Array.from({ length: 12 }, (_, i) => `w${i}`),
    });
    const r = (await get('/api/v1/query?query=x&limit=2&stats=all')).json();
    expect(r.data.result).toHaveLength(2);
    expect(r.data.stats.timings).toBeTypeOf('object');
    expect(r.warnings).toHaveLength(11);
    expect(r.warnings.at(-1)).toBe('3 more warning annotations omitted');
    const res = await fetch(`${base}/api/v1/query?query=x`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes gzip transparently: the body is the JSON.
    expect(JSON.parse(await res.text()).status).toBe('success');
    const raw = await import('node:http').then(
      (http) =>
        new Promise<Buffer>((resolve, reject) => {
          http.get(`${base}/api/v1/query?query=x`, { headers: { 'Accept-Encoding': 'gzip' } }, (m) => {
            const parts: Buffer[] = [];
            m.on('data', (c: Buffer) => parts.push(c));
            m.on('end', () => resolve(Buffer.concat(parts)));
          }).on('error', reject);
        }),
    );
    expect(JSON.parse(gunzipSync(raw).toString()).status).toBe('success');
  });
});

describe('parameters', () => {
  test('POST form: body wins for single values, match[] is the union, Thanos extras are parsed', async () => {
    answer = async () => ({ resultType: 'vector', result: [] });
    await post('/api/v1/query?query=fromurl&time=1', 'query=frombody&dedup=false&partial_response=1&replicaLabels[]=r1&replicaLabels[]=r2&max_source_resolution=5m&storeMatch[]={__address__="x"}&lookback_delta=1m&timeout=30s&engine=thanos');
    const c = calls.at(-1)!;
    expect(c).toMatchObject({ kind: 'instant', expr: 'frombody', time: 1000 });
    expect(c.opts).toMatchObject({ dedup: false, partialResponse: true, replicaLabels: ['r1', 'r2'], maxSourceResolution: 300_000, lookbackDelta: 60_000, timeout: 30_000, engine: 'thanos' });
    expect((c.opts as QueryOptions).storeMatchers?.[0]?.[0]?.name).toBe('__address__');
    await post('/api/v1/series?match[]=up', 'match[]=down&start=10&end=20');
    const s = calls.at(-1)!;
    expect(s.sets?.map((m) => m[0]!.value)).toEqual(['down', 'up']);
    expect(s).toMatchObject({ start: 10_000, end: 20_000 });
  });

  test('query_range passes start, end, step (ms) and auto max_source_resolution', async () => {
    await get('/api/v1/query_range?query=x&start=2023-11-14T22:13:20Z&end=1700000600&step=2.5&max_source_resolution=auto');
    expect(calls.at(-1)).toMatchObject({ kind: 'range', start: 1_700_000_000_000, end: 1_700_000_600_000, step: 2500 });
    expect(calls.at(-1)!.opts).toMatchObject({ maxSourceResolution: 500 });
  });

  test.each([
    ['/api/v1/query?query=x&time=5m', 400, 'bad_data', `invalid parameter "time": invalid time value for 'time': cannot parse "5m" to a valid timestamp`],
    ['/api/v1/query?query=x&timeout=abc', 400, 'bad_data', 'invalid parameter "timeout": cannot parse "abc" to a valid duration'],
    ['/api/v1/query?query=x&limit=-1', 400, 'bad_data', 'invalid parameter "limit": limit must be non-negative'],
    ['/api/v1/query?query=x&lookback_delta=x', 400, 'bad_data', 'error parsing lookback delta duration: cannot parse "x" to a valid duration'],
    ['/api/v1/query?query=x&dedup=maybe', 400, 'bad_data', `'dedup' parameter: strconv.ParseBool: parsing "maybe": invalid syntax`],
    ['/api/v1/query_range?query=x&end=1&step=1', 400, 'bad_data', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    ['/api/v1/query_range?query=x&start=2&end=1&step=1', 400, 'bad_data', 'invalid parameter "end": end timestamp must not be before start time'],
    ['/api/v1/query_range?query=x&start=1&end=2', 400, 'bad_data', 'invalid parameter "step": cannot parse "" to a valid duration'],
    ['/api/v1/query_range?query=x&start=1&end=2&step=0', 400, 'bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['/api/v1/query_range?query=x&start=0&end=11001&step=1', 400, 'bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['/api/v1/series', 400, 'bad_data', 'no match[] parameter provided'],
    ['/api/v1/series?match[]={a=""}', 400, 'bad_data', 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    ['/api/v1/labels?match[]={a=~".*"}', 400, 'bad_data', 'match[] must contain at least one non-empty matcher'],
    ['/api/v1/labels?start=x', 400, 'bad_data', `invalid parameter "start": invalid time value for 'start': cannot parse "x" to a valid timestamp`],
    ['/api/v1/metadata?limit=x', 400, 'bad_data', 'limit must be a number'],
    ['/api/v1/label/boom/values', 422, 'execution', 'store down'],
  ])('%s → %i %s', async (path, status, type, msg) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.json()).toEqual({ status: 'error', errorType: type, error: msg });
  });

  test('11,001 points pass (integer division of the span by the step)', async () => {
    expect((await get('/api/v1/query_range?query=x&start=0&end=11000&step=1')).status).toBe(200);
    expect((await get('/api/v1/query_range?query=x&start=0&end=11000.999&step=1')).status).toBe(200);
  });
});

describe('errors from the engine', () => {
  test.each([
    [Object.assign(new SyntaxError('1:5: parse error: unclosed left parenthesis'), { code: 'TESSERA_PROMQL_PARSE' }), 400, 'bad_data', 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis'],
    [Object.assign(new Error('multiple matches for labels'), { errorType: 'execution' }), 422, 'execution', 'multiple matches for labels'],
    [Object.assign(new Error('query timed out in expression evaluation'), { code: 'PROMQL_QUERY_TIMEOUT', errorType: 'timeout' }), 503, 'timeout', 'query timed out in expression evaluation'],
    [Object.assign(new Error('query was canceled'), { errorType: 'canceled' }), 499, 'canceled', 'query was canceled'],
    [Object.assign(new Error('read block'), { code: 'PROMQL_STORAGE', errorType: 'execution' }), 500, 'internal', 'read block'],
    [new ApiError('unavailable', 'not ready'), 500, 'unavailable', 'not ready'],
    [new Error('whatever'), 422, 'execution', 'whatever'],
  ])('%s → %i %s', async (err, status, type, msg) => {
    answer = async () => {
      throw err;
    };
    const r = await get('/api/v1/query?query=x');
    expect(r.status).toBe(status);
    expect(r.json()).toEqual({ status: 'error', errorType: type, error: msg });
  });

  test('timeout=0 is already expired', async () => {
    answer = (expr) =>
      new Promise((_resolve, reject) => {
        const signal = calls.at(-1)!.opts!.signal;
        if (signal.aborted) reject(signal.reason);
        else signal.addEventListener('abort', () => reject(signal.reason));
        void expr;
      });
    const r = await get('/api/v1/query?query=x&timeout=0');
    expect(r.status).toBe(503);
    expect(r.json().errorType).toBe('timeout');
  });
});

describe('metadata endpoints', () => {
  test('series, labels, label values with limit and default range', async () => {
    const s = (await get('/api/v1/series?match[]=up&limit=1')).json();
    expect(s).toEqual({ status: 'success', data: [{ __name__: 'up', job: 'a' }], warnings: ['w1', 'results truncated due to limit'] });
    expect(calls.at(-1)!.opts).toMatchObject({ limit: 2 });
    expect(calls.at(-1)).toMatchObject({ start: -Number.MAX_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER });
    expect((await get('/api/v1/labels')).text).toBe('{"status":"success","data":["__name__","job","zone"]}');
    expect((await post('/api/v1/labels', 'match[]=up&limit=2')).json().data).toEqual(['__name__', 'job']);
    expect((await get('/api/v1/label/job/values?match[]=up')).text).toBe('{"status":"success","data":["a","b\\u003cc"]}');
    await get('/api/v1/label/U__a_2e_b/values');
    expect(calls.at(-1)).toMatchObject({ kind: 'values', name: 'a.b' });
    expect((await get('/api/v1/metadata')).text).toBe('{"status":"success","data":{}}');
  });

  test('status endpoints', async () => {
    expect((await get('/api/v1/status/buildinfo')).json().data.version).toBe('2.53.0');
    expect((await get('/api/v1/status/flags')).json().data).toEqual({ 'query.timeout': '2m' });
  });

  test('parse_query', async () => {
    const r = await get(`/api/v1/parse_query?query=${encodeURIComponent('sum by (job) (rate(x{a="1"}[5m] offset 1m)) > bool 2')}`);
    expect(r.json().data).toEqual({
      type: 'binaryExpr',
      op: '>',
      bool: true,
      matching: null,
      rhs: { type: 'numberLiteral', val: '2' },
      lhs: {
        type: 'aggregation',
        op: 'sum',
        grouping: ['job'],
        without: false,
        param: null,
        expr: {
          type: 'call',
          func: { name: 'rate', argTypes: ['matrix'], variadic: 0, returnType: 'vector' },
          args: [
            {
              type: 'matrixSelector',
              name: 'x',
              range: 300_000,
              offset: 60_000,
              matchers: [
                { name: 'a', value: '1', type: '=' },
                { name: '__name__', value: 'x', type: '=' },
              ],
              timestamp: null,
              startOrEnd: null,
              anchored: false,
              smoothed: false,
            },
          ],
        },
      },
    });
    expect((await get('/api/v1/parse_query?query=1%2B')).status).toBe(400);
  });

  test('format_query', async () => {
    const r = await get(`/api/v1/format_query?query=${encodeURIComponent('sum by(job)(rate(x{b="1",a="2"}[5m]))')}`);
    expect(r.status).toBe(200);
    expect(r.json().data).toContain('sum by (job)');
    const bad = await get('/api/v1/format_query?query=sum(');
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatch(/^invalid parameter "query": 1:5: parse error: /);
  });
});

describe('HTTP behaviour', () => {
  test('405 for POST on GET-only endpoints, 404 for unknown paths, OPTIONS 204, CORS with Origin', async () => {
    const r405 = await post('/api/v1/label/job/values', '');
    expect([r405.status, r405.text]).toEqual([405, 'Method Not Allowed\n']);
    const put = await fetch(`${base}/api/v1/query`, { method: 'PUT' });
    expect([put.status, put.headers.get('allow'), put.headers.get('x-content-type-options')]).toEqual([405, 'GET, OPTIONS, POST', 'nosniff']);
    await put.text();
    const r404 = await get('/api/v1/nope');
    expect([r404.status, r404.text]).toEqual([404, '404 page not found\n']);
    const opt = await get('/api/v1/query', { method: 'OPTIONS' });
    expect([opt.status, opt.text]).toEqual([204, '']);
    const res = await fetch(`${base}/api/v1/labels`, { headers: { Origin: 'http://grafana' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    await res.text();
  });

  test('readiness gates the API; health endpoints and metrics', async () => {
    ready = false;
    try {
      const r = await get('/api/v1/query?query=x');
      expect([r.status, r.text, r.type]).toEqual([503, 'Service Unavailable', 'text/plain; charset=utf-8']);
      expect((await get('/-/ready')).status).toBe(503);
      expect((await get('/-/healthy')).text).toBe('Prometheus Server is Healthy.\n');
    } finally {
      ready = true;
    }
    expect((await get('/-/ready')).text).toBe('Prometheus Server is Ready.\n');
    expect((await get('/-/ready', { method: 'POST' })).status).toBe(405);
    const m = await get('/metrics');
    expect(m.text).toContain('tessera_test_total 3');
  });
});
