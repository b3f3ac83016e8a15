import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, startProcess, waitForHttp } from '../testutil/index.js';
import { httpQueryFunc } from './http-query-func.js';

const prometheus = requireBinary('prometheus');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fakeQuerier(answer: (params: URLSearchParams) => [number, unknown]): Promise<{ url: string; requests: URLSearchParams[] }> {
  const requests: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += String(c)));
    req.on('end', () => {
      const p = new URLSearchParams(b);
      requests.push(p);
      const [status, body] = answer(p);
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  const a = server.address();
  return { url: `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, requests };
}

const T = Date.UTC(2026, 0, 1, 0, 0, 0, 120);

describe('httpQueryFunc', () => {
  test('POSTs query, RFC 3339 time, dedup and partial_response; decodes vectors and scalars; warnings reported', async () => {
    const q = await fakeQuerier((p) =>
      p.get('query') === 'up'
        ? [200, { status: 'success', warnings: ['partial'], data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'a' }, value: [T / 1000, '+Inf'] }, { metric: { job: 'b' }, value: [T / 1000, '0.5'] }] } }]
        : [200, { status: 'success', data: { resultType: 'scalar', result: [T / 1000, '2'] } }],
    );
    const warnings: string[] = [];
    const f = httpQueryFunc({ endpoints: [q.url], partialResponse: false, onWarnings: (_e, w) => warnings.push(...w) });
    const v = await f('up', T);
    expect(v.map((s) => `${s.labels.toString()} ${s.v} ${s.t}`)).toEqual([`{__name__="up", job="a"} Infinity ${T}`, `{job="b"} 0.5 ${T}`]);
    expect(warnings).toEqual(['partial']);
    expect(Object.fromEntries(q.requests[0]!)).toEqual({ query: 'up', time: '2026-01-01T00:00:00.12Z', dedup: 'true', partial_response: 'false' });
    expect((await f('1+1', T)).map((s) => [s.labels.isEmpty(), s.v])).toEqual([[true, 2]]);
  });

  test('falls over to the next endpoint; a rejected query fails at once; none reachable', async () => {
    const ok = await fakeQuerier((p) => (p.get('query') === 'bad(' ? [400, { status: 'error', errorType: 'bad_data', error: 'parse error' }] : [200, { status: 'success', data: { resultType: 'vector', result: [] } }]));
    const down = `127.0.0.1:${await freePort()}`;
    const errors: string[] = [];
    const f = httpQueryFunc({ endpoints: [down, ok.url], partialResponse: true, order: (e) => e, onError: (e) => errors.push(e) });
    expect(await f('up', T)).toEqual([]);
    expect(errors).toEqual([down]);
    await expect(f('bad(', T)).rejects.toThrow('bad_data: parse error');
    await expect(httpQueryFunc({ endpoints: [down], partialResponse: true })('up', T)).rejects.toThrow(/^no query API server reachable/);
    // The error names the endpoint and why (fetch's own message is only "fetch failed").
    await expect(httpQueryFunc({ endpoints: [down], partialResponse: true })('up', T)).rejects.toThrow(`no query API server reachable: query http://${down}: connect ECONNREFUSED ${down}`);
  });

  test.skipIf(prometheus === undefined)('against a real Prometheus (Thanos parameters off)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-prom-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    const p = startProcess(prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
    cleanups.push(() => p.stop());
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`);
    const f = httpQueryFunc({ endpoints: [`http://127.0.0.1:${port}`], partialResponse: false, thanosParams: false });
    const now = Date.now();
    expect((await f('label_replace(vector(1), "a", "b", "", "")', now)).map((s) => [s.labels.toString(), s.v])).toEqual([['{a="b"}', 1]]);
    expect((await f('1 + 1', now)).map((s) => s.v)).toEqual([2]);
    await expect(f('"str"', now)).rejects.toThrow('rule result is not a vector or scalar');
    await expect(f('sum(', now)).rejects.toThrow(/^bad_data: /);
  });
});
