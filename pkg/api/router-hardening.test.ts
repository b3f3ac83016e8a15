import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { Labels, type Matcher } from '../labels/index.js';
import { createJsonErrorHandler } from './error-handler.js';
import { createHttpServer, maxHeaderBytes } from './http-server.js';
import type { QueryEngine, QueryResult, QueryValue, SeriesSource } from './query-engine.js';
import { resultJson } from './result-json.js';
import { createApiRouter } from './router.js';

// Issue 13 items 5, 6 and 8: error paths answer Prometheus JSON, big GETs are served, multipart
// forms are read. Expected answers were taken from a real Prometheus (2.42) on the same requests.

const bigMatrix: QueryValue = {
  resultType: 'matrix',
  result: Array.from({ length: 200 }, (_, s) => ({
    metric: Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', `host-${s}:9100`, 'mode', s % 2 === 0 ? 'idle' : 'user<&>'),
    ts: Float64Array.from({ length: 1000 }, (_, i) => 1_767_225_600_000 + i * 2000),
    fs: Float64Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? NaN : Math.sin(i + s) * 1e3)),
  })),
};

/** A matrix whose samples cannot be read past index 50,000: serialization fails after the first pieces. */
const breaksMidStream: QueryValue = {
  resultType: 'matrix',
  result: [
    {
      metric: Labels.fromStrings('__name__', 'x'),
      ts: new Proxy({ length: 100_000 } as ArrayLike<number>, {
        get: (t, k) => {
          if (k === 'length') return t.length;
          if (Number(k) >= 50_000) throw new Error('sample store went away');
          return Number(k) * 1000;
        },
      }),
      fs: new Float64Array(100_000),
    },
  ],
};

const calls: { expr?: string; time?: number; sets?: readonly (readonly Matcher[])[]; name?: string }[] = [];
const engine: QueryEngine = {
  async instantQuery(expr, time) {
    calls.push({ expr, time });
    if (expr === 'big') return { ...bigMatrix, warnings: ['w <1>'], infos: ['i1'] };
    return { resultType: 'scalar', result: { t: time, v: 1 } } satisfies QueryResult;
  },
  async rangeQuery(expr) {
    calls.push({ expr });
    if (expr === 'big') return bigMatrix;
    if (expr === 'breaks-mid-stream') return breaksMidStream;
    return { resultType: 'matrix', result: [] };
  },
};
const source: SeriesSource = {
  async series(sets) {
    calls.push({ sets });
    return { series: [] };
  },
  async labelNames(sets) {
    calls.push({ sets });
    return { values: [] };
  },
  async labelValues(name, sets) {
    calls.push({ name, sets });
    return { values: [] };
  },
};

const logged: string[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  const app = express();
  app.use('/api/v1', createApiRouter({ engine, source, now: () => 1_000_000, onError: (err, req) => logged.push(`${req.path}: ${(err as Error).message}`) }));
  app.post('/upload', express.urlencoded({ limit: 10 }), (_req, res) => {
    res.end('ok');
  });
  app.get('/boom', () => {
    throw new Error('handler exploded');
  });
  app.use(createJsonErrorHandler({ onError: (err, req) => logged.push(`${req.path}: ${(err as Error).message}`) }));
  server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function call(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(base + path, init);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** rawGet sends a GET with exactly `path` on the request line (fetch would re-encode it). */
function rawGet(path: string): Promise<{ status: number; type: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('routing and parse errors are Prometheus JSON errors (item 5)', () => {
  test('GET /api/v1/label/%FF%FE/values: 400 bad_data "invalid label name", as Prometheus', async () => {
    const r = await rawGet('/api/v1/label/%FF%FE/values');
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/json');
    expect(r.text).toBe('{"status":"error","errorType":"bad_data","error":"invalid label name: \\"\\\\xff\\\\xfe\\""}');
  });

  test('valid escapes still name the label; a malformed escape is bad_data, not an HTML page', async () => {
    expect((await rawGet('/api/v1/label/%6Aob/values')).status).toBe(200);
    expect(calls.at(-1)?.name).toBe('job');
    expect((await rawGet('/api/v1/label/%E2%82%AC/values')).status).toBe(200);
    expect(calls.at(-1)?.name).toBe('€');
    const bad = await rawGet('/api/v1/label/%ZZ/values');
    expect([bad.status, bad.type]).toEqual([400, 'application/json']);
    expect(JSON.parse(bad.text)).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid URL escape "%ZZ"' });
    const trailing = await rawGet('/api/v1/label/a%/values');
    expect(JSON.parse(trailing.text).errorType).toBe('bad_data');
  });

  test('an encoded slash in the name matches no route, as in Go: 404 page not found', async () => {
    const r = await rawGet('/api/v1/label/a%2Fb/values');
    expect([r.status, r.type, r.text]).toEqual([404, 'text/plain; charset=utf-8', '404 page not found\n']);
  });

  test('U__-escaped names are unescaped before validation', async () => {
    expect((await rawGet('/api/v1/label/U__a_2e_b/values')).status).toBe(200);
    expect(calls.at(-1)?.name).toBe('a.b');
  });

  test('the app-level handler turns thrown errors and body-parser errors into JSON without a stack', async () => {
    logged.length = 0;
    const boom = await call('/boom');
    expect(logged).toEqual(['/boom: handler exploded']);
    expect([boom.status, boom.type]).toEqual([500, 'application/json']);
    expect(JSON.parse(boom.text)).toEqual({ status: 'error', errorType: 'internal', error: 'handler exploded' });
    const big = await call('/upload', { method: 'POST', body: 'x='.padEnd(100, 'y'), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect([big.status, big.type]).toEqual([413, 'application/json']);
    expect(JSON.parse(big.text)).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(big.text).not.toMatch(/<html|\bat .*\.js:\d+/i);
    expect(logged).toEqual(['/boom: handler exploded']); // a 413 is an answer, not a failure
  });

  test('a form body over the limit is a JSON bad_data error', async () => {
    const app = express();
    app.use('/api/v1', createApiRouter({ engine, source, maxBodyBytes: 100 }));
    const s = createHttpServer(app);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1/query`, {
        method: 'POST',
        body: `query=${'1+'.repeat(100)}1`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'error parsing form values: request body larger than 100 bytes' });
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
});

describe('large GETs are served like Go servers serve them (item 6)', () => {
  test('1,000 match[] on a GET (≈ 30 KB request line): 200', async () => {
    const qs = Array.from({ length: 1000 }, (_, i) => `match[]=${encodeURIComponent(`up{job="job-${i}",instance="host-${i}:9100"}`)}`).join('&');
    expect(qs.length).toBeGreaterThan(16 * 1024);
    const r = await call(`/api/v1/series?${qs}`);
    expect(r.status).toBe(200);
    expect(calls.at(-1)?.sets?.length).toBe(1000);
  });

  test('a 500 KB query on a GET: 200', async () => {
    const expr = Array.from({ length: 50_000 }, () => '1').join('+');
    expect(expr.length).toBeGreaterThan(64 * 1024);
    const r = await call(`/api/v1/query?query=${encodeURIComponent(expr)}&time=5`);
    expect(r.status).toBe(200);
    expect(calls.at(-1)?.expr).toBe(expr);
  });

  test('beyond Go’s 1 MiB: 431 with Go’s plain-text body', async () => {
    const r = await rawGet(`/api/v1/query?query=${'1'.repeat(maxHeaderBytes + 10)}`);
    expect([r.status, r.type, r.text]).toEqual([431, 'text/plain; charset=utf-8', '431 Request Header Fields Too Large']);
  });
});

function multipart(boundary: string, parts: readonly (readonly [string, string])[], nl = '\r\n'): string {
  let s = '';
  for (const [name, value] of parts) s += `--${boundary}${nl}Content-Disposition: form-data; name="${name}"${nl}${nl}${value}${nl}`;
  return `${s}--${boundary}--${nl}`;
}

describe('multipart/form-data POSTs (item 8)', () => {
  test('POST /api/v1/query as multipart/form-data: 200 with the form fields', async () => {
    const fd = new FormData();
    fd.append('query', '1+1');
    fd.append('time', '100');
    const r = await call('/api/v1/query', { method: 'POST', body: fd });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"status":"success","data":{"resultType":"scalar","result":[100,"1"]}}');
    expect(calls.at(-1)).toEqual({ expr: '1+1', time: 100_000 });
  });

  test('URL values come before multipart fields (Go appends the multipart form)', async () => {
    const body = multipart('xyz', [['query', 'frombody']]);
    const r = await call('/api/v1/query?query=fromurl&time=5', { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary="xyz"' } });
    expect(r.status).toBe(200);
    expect(calls.at(-1)?.expr).toBe('fromurl');
  });

  test('match[] from a multipart body on /labels; /series wants one outside it, as Prometheus', async () => {
    const body = multipart('b0', [['match[]', 'up'], ['match[]', 'down']], '\n');
    const headers = { 'Content-Type': 'multipart/form-data; boundary=b0' };
    const l = await call('/api/v1/labels', { method: 'POST', body, headers });
    expect(l.status).toBe(200);
    expect(calls.at(-1)?.sets?.map((m) => m.find((x) => x.name === '__name__')?.value)).toEqual(['up', 'down']);
    const s = await call('/api/v1/series', { method: 'POST', body, headers });
    expect(s.status).toBe(400);
    expect(JSON.parse(s.text)).toEqual({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
  });

  test('a malformed multipart body is ignored, as Go ignores ParseMultipartForm errors', async () => {
    const r = await call('/api/v1/query?query=2', { method: 'POST', body: 'garbage', headers: { 'Content-Type': 'multipart/form-data; boundary=xx' } });
    expect(r.status).toBe(200);
    expect(calls.at(-1)?.expr).toBe('2');
    const noBoundary = await call('/api/v1/query', { method: 'POST', body: 'garbage', headers: { 'Content-Type': 'multipart/form-data' } });
    expect(noBoundary.status).toBe(200);
    expect(calls.at(-1)?.expr).toBe('');
  });
});

describe('results are streamed (item 2)', () => {
  // resultJson is checked byte for byte against the formatter that built one string (result-json.test.ts).
  test('a 200,000-point range result arrives chunked and byte-identical to the one-string answer', async () => {
    const res = await fetch(`${base}/api/v1/query_range?query=big&start=0&end=100&step=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const text = await res.text();
    expect(text).toBe(`{"status":"success","data":{"resultType":"matrix","result":${resultJson(bigMatrix)}}}`);
    expect(text.length).toBeGreaterThan(5_000_000);
  });

  test('warnings, infos and stats follow the streamed result; gzip streams too', async () => {
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const u = new URL(`${base}/api/v1/query?query=big&time=5&stats=all`);
      request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve(Buffer.concat(chunks)));
      })
        .on('error', reject)
        .end();
    });
    const text = gunzipSync(raw).toString();
    expect(text.startsWith(`{"status":"success","data":{"resultType":"matrix","result":${resultJson(bigMatrix)},"stats":{`)).toBe(true);
    expect(text.endsWith('},"warnings":["w \\u003c1\\u003e"],"infos":["i1"]}')).toBe(true);
    expect(JSON.parse(text).data.result).toHaveLength(200);
  });

  test('a serialization failure after the first byte closes the connection and is reported, never a well-formed answer', async () => {
    logged.length = 0;
    const err = await fetch(`${base}/api/v1/query_range?query=breaks-mid-stream&start=0&end=100&step=1`).then(
      async (r) => {
        expect(r.status).toBe(200); // the status went out with the first piece
        await r.text();
        return undefined;
      },
      (e: unknown) => e,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error); // the body ends abruptly: fetch reports a terminated stream
    expect(logged).toEqual(['/query_range: sample store went away']);
  });
});
