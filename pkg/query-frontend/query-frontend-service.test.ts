import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { freePort } from '../testutil/index.js';
import { QueryFrontend, type QueryFrontendOptions } from './query-frontend-service.js';

/**
 * A fake downstream: query_range answers one series whose value at each step is the step's time
 * (so any mis-merge shows), counts requests, records headers, and can be told to fail or warn.
 */
interface Fake {
  url: string;
  calls: { path: string; params: URLSearchParams; headers: IncomingMessage['headers'] }[];
  failNext: number;
  warn: boolean;
  noStore: boolean;
  server: Server;
}

async function startFake(): Promise<Fake> {
  const fake: Fake = { url: '', calls: [], failNext: 0, warn: false, noStore: false, server: undefined as unknown as Server };
  fake.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(Buffer.concat(chunks).toString());
      for (const [k, v] of url.searchParams) params.append(k, v);
      fake.calls.push({ path: url.pathname, params, headers: req.headers });
      if (fake.failNext > 0) {
        fake.failNext--;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"status":"error","errorType":"unavailable","error":"try later"}');
        return;
      }
      if (url.pathname === '/api/v1/labels') {
        // One label name per hour the range touches (so a wrong merge or a stale part shows).
        const names: string[] = [];
        for (let h = Math.floor(Number(params.get('start')) / 3600); h <= Math.floor(Number(params.get('end')) / 3600); h++) names.push(`h${String(h).padStart(3, '0')}`);
        const body: Record<string, unknown> = { status: 'success', data: names };
        if (fake.warn) body['warnings'] = ['partial response: store x down'];
        res.writeHead(200, { 'content-type': 'application/json', ...(fake.noStore ? { 'cache-control': 'no-store' } : {}) });
        res.end(JSON.stringify(body));
        return;
      }
      if (url.pathname !== '/api/v1/query_range') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-fake': '1' });
        res.end(JSON.stringify({ status: 'success', data: { path: url.pathname, q: url.search } }));
        return;
      }
      const start = Number(params.get('start')) * 1000;
      const end = Number(params.get('end')) * 1000;
      const step = Number(params.get('step')) * 1000;
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += step) values.push([t / 1000, String(t)]);
      const body: Record<string, unknown> = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { q: params.get('query') ?? '' }, values }] } };
      if (fake.warn) body['warnings'] = ['partial response: store x down'];
      res.writeHead(200, { 'content-type': 'application/json', ...(fake.noStore ? { 'cache-control': 'no-store' } : {}) });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  const a = fake.server.address();
  fake.url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  return fake;
}

const H = 3_600_000;
/** ranges lists the [start, end] of the query_range calls made, in time order (they run in parallel). */
const ranges = (f: Fake) => f.calls.map((c) => [c.params.get('start'), c.params.get('end')]).sort((a, b) => Number(a[0]) - Number(b[0]));
const expected = (start: number, end: number, step: number, q = 'x') => {
  const values: [number, string][] = [];
  for (let t = start; t <= end; t += step) values.push([t / 1000, String(t)]);
  return { status: 'success', data: { resultType: 'matrix', result: [{ metric: { q }, values }] } };
};

describe('QueryFrontend against a fake downstream', () => {
  let fake: Fake;
  const fes: QueryFrontend[] = [];
  let now = 100 * H;

  const start = async (o: Partial<QueryFrontendOptions> = {}) => {
    const fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: fake.url,
      splitIntervalMs: H,
      alignRangeWithStep: false,
      maxRetries: 3,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 4,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 0,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      responseCacheConfig: 'type: IN-MEMORY\nconfig:\n  max_size_items: 100\n',
      now: () => now,
      ...o,
    });
    await fe.start();
    fes.push(fe);
    return { fe, url: `http://127.0.0.1:${fe.httpPort}` };
  };
  const q = async (url: string, start: number, end: number, step: number, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/api/v1/query_range?query=x&start=${start / 1000}&end=${end / 1000}&step=${step / 1000}`, { headers });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  beforeAll(async () => {
    fake = await startFake();
  });
  beforeEach(() => {
    fake.calls = [];
    fake.failNext = 0;
    fake.warn = false;
    fake.noStore = false;
    now = 100 * H;
  });
  afterAll(async () => {
    for (const fe of fes) await fe.stop();
    await new Promise((r) => fake.server.close(r));
  });

  test('splits at the interval, a second identical query is answered from the cache alone', async () => {
    const { url } = await start();
    const want = { status: 200, body: expected(30 * 60_000, 5 * H, 60_000) };
    expect(await q(url, 30 * 60_000, 5 * H, 60_000)).toEqual(want);
    expect(ranges(fake)).toEqual([
      ['1800', '3540'],
      ['3600', '7140'],
      ['7200', '10740'],
      ['10800', '14340'],
      ['14400', '17940'],
      ['18000', '18000'],
    ]);
    fake.calls = [];
    expect(await q(url, 30 * 60_000, 5 * H, 60_000)).toEqual(want);
    expect(fake.calls).toHaveLength(0);
    // A wider query fetches only what is missing.
    expect(await q(url, 0, 6 * H, 60_000)).toEqual({ status: 200, body: expected(0, 6 * H, 60_000) });
    expect(ranges(fake)).toEqual([
      ['0', '1740'],
      ['18060', '21540'],
      ['21600', '21600'],
    ]);
  });

  test('a down Redis is logged as a warning with its error, once per 30s per cache, and queries are answered uncached', async () => {
    const port = await freePort(); // nothing listens there
    const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const { url } = await start({
      responseCacheConfig: `type: REDIS\nconfig:\n  addr: 127.0.0.1:${port}\n  dial_timeout: 200ms\n  read_timeout: 200ms\n  write_timeout: 200ms\n`,
      warn: (msg, fields) => warnings.push({ msg, fields }),
    });
    expect((await q(url, 0, 30 * 60_000, 60_000)).status).toBe(200);
    expect((await q(url, 0, 30 * 60_000, 60_000)).status).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/results cache operation failed/);
    expect(warnings[0]!.fields).toMatchObject({ cache: 'response' });
    expect(String(warnings[0]!.fields?.['err'])).not.toBe('');
    now += 30_000;
    expect((await q(url, 0, 30 * 60_000, 60_000)).status).toBe(200);
    expect(warnings).toHaveLength(2);
  });

  test('nothing newer than max-freshness is cached', async () => {
    const { url } = await start();
    now = 2 * H + 30 * 60_000;
    await q(url, 0, now, 60_000);
    fake.calls = [];
    await q(url, 0, now, 60_000);
    // The last minute (now - 1m, now] is asked again; everything older came from the cache.
    expect(ranges(fake)).toEqual([[String((now - 60_000 + 60_000) / 1000), String(now / 1000)]]);
  });

  test('Cache-Control: no-store (request or response) and warnings keep answers out of the cache', async () => {
    const { url } = await start();
    await q(url, 0, H, 60_000, { 'cache-control': 'no-store' });
    await q(url, 0, H, 60_000, { 'cache-control': 'no-store' });
    expect(fake.calls).toHaveLength(4);
    fake.noStore = true;
    await q(url, 2 * H, 3 * H - 60_000, 60_000);
    fake.noStore = false;
    fake.warn = true;
    const warned = await q(url, 4 * H, 5 * H - 60_000, 60_000);
    expect((warned.body as { warnings: string[] }).warnings).toEqual(['partial response: store x down']);
    fake.warn = false;
    fake.calls = [];
    await q(url, 2 * H, 3 * H - 60_000, 60_000);
    await q(url, 4 * H, 5 * H - 60_000, 60_000);
    expect(fake.calls).toHaveLength(2);
  });

  test('retries 5xx up to --query-range.max-retries-per-request, then relays the error', async () => {
    const { url } = await start({ maxRetries: 3, responseCacheConfig: '' });
    fake.failNext = 2;
    expect((await q(url, 0, 30 * 60_000, 60_000)).status).toBe(200);
    expect(fake.calls).toHaveLength(3);
    fake.calls = [];
    fake.failNext = 3;
    expect(await q(url, 0, 30 * 60_000, 60_000)).toEqual({ status: 503, body: { status: 'error', errorType: 'unavailable', error: 'try later' } });
    expect(fake.calls).toHaveLength(3);
  });

  test('instant queries are tried up to --query.max-retries-per-request, other requests as --query-range.max-retries-per-request says', async () => {
    const { url } = await start({ maxRetries: 2, instantMaxRetries: 4, responseCacheConfig: '' });
    fake.failNext = 3;
    expect((await fetch(`${url}/api/v1/query?query=x`)).status).toBe(200);
    expect(fake.calls).toHaveLength(4);
    fake.calls = [];
    fake.failNext = 2;
    expect((await fetch(`${url}/api/v1/status/tsdb`)).status).toBe(503);
    expect(fake.calls).toHaveLength(2);
  });

  test('answers /api/v1/status/buildinfo and /api/v1/status/flags itself, as the Thanos query-frontend does', async () => {
    const { url } = await start();
    const info = (await (await fetch(`${url}/api/v1/status/buildinfo`)).json()) as { status: string; data: Record<string, string> };
    expect(info.status).toBe('success');
    expect(Object.keys(info.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    const flags = (await (await fetch(`${url}/api/v1/status/flags`)).json()) as { status: string; data: unknown };
    expect(flags.status).toBe('success');
    expect(typeof flags.data).toBe('object');
    expect(fake.calls).toHaveLength(0);
  });

  test('--query-frontend.forward-header forwards only the listed headers, and they are part of the cache key', async () => {
    const { url } = await start({ forwardHeaders: ['Authorization', 'X-Scope-OrgID'] });
    await q(url, 0, 30 * 60_000, 60_000, { authorization: 'Bearer a', 'x-other': 'no' });
    expect(fake.calls[0]!.headers['authorization']).toBe('Bearer a');
    expect(fake.calls[0]!.headers['x-other']).toBeUndefined();
    await q(url, 0, 30 * 60_000, 60_000, { authorization: 'Bearer b' });
    expect(fake.calls).toHaveLength(2);
    const res = await fetch(`${url}/api/v1/status/tsdb?x=1`, { headers: { authorization: 'Bearer c' } });
    expect(res.headers.get('x-fake')).toBe('1');
    expect(await res.json()).toEqual({ status: 'success', data: { path: '/api/v1/status/tsdb', q: '?x=1' } });
    expect(fake.calls[2]!.headers['authorization']).toBe('Bearer c');
  });

  test('different steps, grid offsets and parameters never share cache entries', async () => {
    const { url } = await start();
    await q(url, 0, H, 60_000);
    fake.calls = [];
    expect(await q(url, 1000, H + 1000, 60_000)).toEqual({ status: 200, body: expected(1000, H + 1000, 60_000) });
    expect(await q(url, 0, H, 30_000)).toEqual({ status: 200, body: expected(0, H, 30_000) });
    const res = await fetch(`${url}/api/v1/query_range?query=x&start=0&end=3600&step=60&dedup=false`);
    expect(res.status).toBe(200);
    expect(fake.calls.length).toBe(6);
  });

  test('with --query-range.align-range-with-step, unaligned requests are answered on the aligned grid and share its cache entries', async () => {
    const { url } = await start({ alignRangeWithStep: true });
    const want = { status: 200, body: expected(0, 2 * H, 60_000) };
    expect(await q(url, 1000, 2 * H + 59_000, 60_000)).toEqual(want);
    expect(ranges(fake)).toEqual([
      ['0', '3540'],
      ['3600', '7140'],
      ['7200', '7200'],
    ]);
    fake.calls = [];
    // Other sub-step offsets of the same range align to the same grid: answered from the cache alone.
    expect(await q(url, 7000, 2 * H + 30_000, 60_000)).toEqual(want);
    expect(await q(url, 0, 2 * H, 60_000)).toEqual(want);
    expect(fake.calls).toHaveLength(0);
  });

  test('--query-range.partial-response fills a missing partial_response of range queries; a given one is kept', async () => {
    const { url } = await start({ rangePartialResponse: false });
    expect((await q(url, 0, H, 60_000)).status).toBe(200);
    expect(fake.calls.map((c) => c.params.getAll('partial_response'))).toEqual([['false'], ['false']]);
    fake.calls = [];
    const res = await fetch(`${url}/api/v1/query_range?query=x&start=0&end=3600&step=60&partial_response=true`);
    expect(res.status).toBe(200);
    expect(fake.calls.map((c) => c.params.getAll('partial_response'))).toEqual([['true'], ['true']]);
    // Without the option the querier decides: nothing is added.
    const other = await start({ splitIntervalMs: 0 });
    fake.calls = [];
    expect((await q(other.url, 0, H, 60_000)).status).toBe(200);
    expect(fake.calls.map((c) => c.params.getAll('partial_response'))).toEqual([[]]);
  });

  test('counts requests and cache hits in /metrics', async () => {
    const { url } = await start();
    await q(url, 0, H, 60_000);
    await q(url, 0, H, 60_000);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/tessera_query_frontend_cache_hits_total\{cache="IN-MEMORY"\} 2/);
    expect(text).toMatch(/tessera_query_frontend_queries_total\{op="query_range"\} 2/);
  });

  describe('labels response cache (--labels.*)', () => {
    const labelsCfg = 'type: IN-MEMORY\nconfig:\n  max_size_items: 100\n';
    const labels = async (url: string, qs: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${url}/api/v1/labels?${qs}`, { headers });
      return { status: res.status, body: (await res.json()) as { data: string[]; warnings?: string[] } };
    };
    const names = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `h${String(from + i).padStart(3, '0')}`);

    test('split parts are cached by their exact range; a wider request fetches only the new parts', async () => {
      const { url } = await start({ labelsSplitIntervalMs: H, labelsResponseCacheConfig: labelsCfg, responseCacheConfig: '' });
      expect((await labels(url, 'start=3600&end=14399')).body).toEqual({ status: 'success', data: names(1, 3) });
      expect(fake.calls).toHaveLength(3);
      fake.calls = [];
      expect((await labels(url, 'start=3600&end=14399')).body.data).toEqual(names(1, 3));
      expect(fake.calls).toHaveLength(0);
      expect((await labels(url, 'start=0&end=21599')).body.data).toEqual(names(0, 5));
      // The old last part ended at 14399, not at the hour: [10800, 14399.999] is another part.
      expect(ranges(fake)).toEqual([
        ['0', '3599.999'],
        ['10800', '14399.999'],
        ['14400', '17999.999'],
        ['18000', '21599'],
      ]);
      // Other parameters are other entries.
      fake.calls = [];
      await labels(url, 'start=3600&end=14399&match[]=up');
      expect(fake.calls).toHaveLength(3);
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(/tessera_query_frontend_labels_cache_hits_total 5/);
    });

    test('fresh parts, answers with warnings and no-store are not cached', async () => {
      const { url } = await start({ labelsSplitIntervalMs: H, labelsResponseCacheConfig: labelsCfg, labelsMaxFreshnessMs: 10 * 60_000, responseCacheConfig: '' });
      now = 3 * H + 5 * 60_000;
      await labels(url, `start=0&end=${now / 1000}`);
      fake.calls = [];
      await labels(url, `start=0&end=${now / 1000}`);
      // Parts ending within the freshness window (after now - 10m) are asked again; the rest is cached.
      expect(ranges(fake)).toEqual([
        ['7200', '10799.999'],
        ['10800', String(now / 1000)],
      ]);
      fake.calls = [];
      fake.warn = true;
      expect((await labels(url, 'start=36000&end=39599')).body.warnings).toEqual(['partial response: store x down']);
      fake.warn = false;
      fake.noStore = true;
      await labels(url, 'start=43200&end=46799');
      fake.noStore = false;
      await labels(url, 'start=50400&end=53999', { 'cache-control': 'no-store' });
      await labels(url, 'start=36000&end=39599');
      await labels(url, 'start=43200&end=46799');
      await labels(url, 'start=50400&end=53999');
      expect(fake.calls).toHaveLength(6);
    });

    test('labels and series parts go downstream as POST forms: 2,000 match[] selectors (a 60 KB form) still answer', async () => {
      const { url } = await start({ labelsSplitIntervalMs: H, labelsResponseCacheConfig: labelsCfg, responseCacheConfig: '' });
      const form = new URLSearchParams({ start: '0', end: '7199' });
      for (let i = 0; i < 2000; i++) form.append('match[]', `metric_name_${i}{job="j"}`);
      const res = await fetch(`${url}/api/v1/labels`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: string[] }).data).toEqual(names(0, 1));
      expect(fake.calls).toHaveLength(2);
      expect(fake.calls[0]!.params.getAll('match[]')).toHaveLength(2000);
    });

    test('--labels.default-time-range fills a missing start or end; --labels.partial-response fills a missing partial_response', async () => {
      const { url } = await start({ labelsSplitIntervalMs: 0, labelsDefaultTimeRangeMs: 2 * H, labelsPartialResponse: false, responseCacheConfig: '' });
      await labels(url, 'match[]=up');
      expect(fake.calls[0]!.params.get('start')).toBe(String((now - 2 * H) / 1000));
      expect(fake.calls[0]!.params.get('end')).toBe(String(now / 1000));
      expect(fake.calls[0]!.params.get('partial_response')).toBe('false');
      await labels(url, 'start=10&partial_response=true');
      expect(fake.calls[1]!.params.get('start')).toBe('10');
      expect(fake.calls[1]!.params.getAll('partial_response')).toEqual(['true']);
    });
  });
});
