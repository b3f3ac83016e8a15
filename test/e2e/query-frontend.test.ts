import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QueryFrontend, type QueryFrontendOptions } from '../../pkg/query-frontend/index.js';
import { waitFor } from '../../pkg/testutil/index.js';
import { DATA_END, DAY, QUERIES, T0, rangeQuery, startQuerierFixture, type QuerierFixture } from './query-frontend-fixture.js';

/**
 * The query-frontend in front of a real querier (in process, two replica stores): split, cached
 * and merged answers must equal the querier's own answer exactly, whatever the split points and
 * whatever the cache already holds.
 */
describe('query-frontend in front of tessera query', () => {
  let querier: QuerierFixture;
  const frontends: { fe: QueryFrontend; url: string }[] = [];
  let now = DATA_END + DAY;

  const start = async (o: Partial<QueryFrontendOptions>) => {
    const fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: querier.url,
      splitIntervalMs: DAY,
      alignRangeWithStep: false,
      maxRetries: 5,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 14,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 0,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      now: () => now,
      ...o,
    });
    await fe.start();
    const f = { fe, url: `http://127.0.0.1:${fe.httpPort}` };
    frontends.push(f);
    return f;
  };

  beforeAll(async () => {
    querier = await startQuerierFixture();
  });

  afterAll(async () => {
    for (const f of frontends) await f.fe.stop();
    await querier?.stop();
  });

  test('a 3-hour query split by the hour equals the unsplit answer, for every other test query', async () => {
    const fe = await start({ splitIntervalMs: 3_600_000 });
    for (const query of QUERIES.filter((_, i) => i % 2 === 0)) {
      const params = { query, start: String((DATA_END - 10_000_000) / 1000), end: String((DATA_END + 1_800_000) / 1000), step: '60' };
      const want = await rangeQuery(querier.url, params);
      const got = await rangeQuery(fe.url, params);
      expect(want.status, query).toBe(200);
      expect(got, query).toEqual(want);
    }
  });

  test('property: cached and split answers equal the querier for random ranges, steps, split points and cache states', async () => {
    const cfg = (items: number) => `type: IN-MEMORY\nconfig:\n  max_size_items: ${items}\n  max_size: 64MB\n`;
    const fes = [
      await start({ splitIntervalMs: 3_600_000, responseCacheConfig: cfg(1000) }),
      await start({ splitIntervalMs: 6 * 3_600_000, responseCacheConfig: cfg(3) }),
      await start({ splitIntervalMs: DAY, responseCacheConfig: cfg(1000), maxQueryParallelism: 2 }),
      await start({ splitIntervalMs: 7 * 60_000, responseCacheConfig: cfg(50) }),
      // Aligned (the command's default, as Thanos): the answer is the querier's for the aligned range.
      await start({ splitIntervalMs: 3_600_000, responseCacheConfig: cfg(1000), alignRangeWithStep: true }),
      await start({ splitIntervalMs: 7 * 60_000, responseCacheConfig: cfg(50), alignRangeWithStep: true }),
    ];
    const aligned = new Set([fes[4], fes[5]]);
    /** The parameters the querier must be asked for the frontend f's answer: start and end floored to the step when f aligns. */
    const downstream = (f: (typeof fes)[number], p: Record<string, string>): Record<string, string> => {
      if (!aligned.has(f)) return p;
      const step = Number(p['step']) * 1000;
      const floor = (sec: string) => String((Math.floor(Math.round(Number(sec) * 1000) / step) * step) / 1000);
      return { ...p, start: floor(p['start']!), end: floor(p['end']!) };
    };
    const extra = [{}, { dedup: 'false' }, { partial_response: 'false' }, { 'replicaLabels[]': 'cluster' }, { lookback_delta: '2m' }];
    // Warm-up queries fill the cache: on the same grid or shifted off it, with the same or other parameters.
    const window = fc.record({
      off: fc.integer({ min: -300, max: 1500 }),
      n: fc.integer({ min: 1, max: 300 }),
      shiftMs: fc.constantFrom(0, 0, 0, 1000, 7000),
      x: fc.option(fc.nat(extra.length - 1), { freq: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          q: fc.nat(QUERIES.length - 1),
          x: fc.nat(extra.length - 1),
          fe: fc.nat(fes.length - 1),
          step: fc.constantFrom(15_000, 60_000, 300_000, 7_000, 3_600_000),
          startSec: fc.integer({ min: (T0 - 7_200_000) / 1000, max: (DATA_END - 600_000) / 1000 }),
          n: fc.integer({ min: 1, max: 300 }),
          warm: fc.array(window, { maxLength: 3 }),
          nowAt: fc.constantFrom(DATA_END + DAY, T0 + 2 * DAY, T0 + DAY + 1234),
        }),
        async (c) => {
          now = c.nowAt;
          const f = fes[c.fe]!;
          const base = { query: QUERIES[c.q]!, ...extra[c.x], step: String(c.step / 1000) };
          const at = (off: number, n: number, shiftMs = 0, x: number | null = null) => ({
            ...base,
            ...(x !== null ? extra[x] : {}),
            start: String(c.startSec + (off * c.step + shiftMs) / 1000),
            end: String(c.startSec + ((off + n - 1) * c.step + shiftMs) / 1000),
          });
          for (const w of [...c.warm, { off: 0, n: c.n, shiftMs: 0, x: null }]) {
            const params = at(w.off, w.n, w.shiftMs, w.x);
            const want = await rangeQuery(querier.url, downstream(f, params));
            const got = await rangeQuery(f.url, params);
            expect(got, JSON.stringify(params)).toEqual(want);
          }
          // Asked again, now from the cache where possible: still equal.
          const params = at(0, c.n);
          expect(await rangeQuery(f.url, params)).toEqual(await rangeQuery(querier.url, downstream(f, params)));
        },
      ),
      { numRuns: 10 },
    );
  });

  test('answers that differ by a parameter or by the grid offset never share a cache entry', async () => {
    const fe = await start({ splitIntervalMs: 3_600_000, responseCacheConfig: 'type: IN-MEMORY\nconfig:\n  max_size_items: 1000\n' });
    const base = { query: 'sum by (job) (http_requests_total)', start: String((T0 + DAY) / 1000), end: String((T0 + DAY + 4 * 3_600_000) / 1000), step: '60' };
    const variants = [{}, { dedup: 'false' }, { 'replicaLabels[]': 'cluster' }, { partial_response: 'false' }, { lookback_delta: '30s' }, { start: String((T0 + DAY + 1000) / 1000) }, { step: '61' }];
    const answers: unknown[] = [];
    for (const v of [...variants, ...variants.reverse()]) {
      const params = { ...base, ...v };
      const want = await rangeQuery(querier.url, params);
      expect(await rangeQuery(fe.url, params), JSON.stringify(v)).toEqual(want);
      answers.push(JSON.stringify(want.body));
    }
    // The variants do give different answers (else this test could not fail).
    expect(new Set(answers).size).toBeGreaterThanOrEqual(4);
  });

  test('--query-range.max-query-length answers 400 bad_data like Prometheus', async () => {
    const fe = await start({ maxQueryLengthMs: DAY });
    const got = await rangeQuery(fe.url, { query: 'temperature', start: String(T0 / 1000), end: String((T0 + DAY + 1000) / 1000), step: '60' });
    expect(got).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'the query time range exceeds the limit (query length: 24h0m1s, limit: 24h0m0s)' } });
  });

  test('errors are the querier\'s own: bad PromQL, bad parameters, too many points', async () => {
    const fe = await start({ splitIntervalMs: 3_600_000 });
    for (const params of [
      { query: 'sum(', start: String(T0 / 1000), end: String((T0 + 3 * 3_600_000) / 1000), step: '60' },
      { query: 'up', start: 'x', end: '10', step: '60' },
      { query: 'up', start: '100', end: '10', step: '60' },
      { query: 'up', start: '0', end: '11001', step: '1' },
      { query: 'up', start: '0', end: '100', step: '0' },
    ]) {
      const want = await rangeQuery(querier.url, params);
      expect(want.status).toBe(400);
      expect(await rangeQuery(fe.url, params), JSON.stringify(params)).toEqual(want);
    }
  });

  test('--query-range.align-range-with-step answers the querier\'s answer for the aligned range', async () => {
    const fe = await start({ splitIntervalMs: 3_600_000, alignRangeWithStep: true });
    const got = await rangeQuery(fe.url, { query: 'temperature', start: String((T0 + 61_500) / 1000), end: String((T0 + 5 * 3_600_000 + 59_000) / 1000), step: '60' });
    const want = await rangeQuery(querier.url, { query: 'temperature', start: String((T0 + 60_000) / 1000), end: String((T0 + 5 * 3_600_000) / 1000), step: '60' });
    expect(got).toEqual(want);
  });

  test('everything else passes through: instant queries, labels, series (split by --labels.split-interval), status', async () => {
    const fe = await start({ labelsSplitIntervalMs: 3_600_000 });
    const s = String((T0 + 1_800_000) / 1000);
    const e = String((T0 + DAY + 3_600_000) / 1000);
    for (const path of [
      `/api/v1/query?query=${encodeURIComponent('sum by (job) (temperature)')}&time=${e}`,
      `/api/v1/labels?start=${s}&end=${e}`,
      `/api/v1/label/instance/values?start=${s}&end=${e}`,
      `/api/v1/label/__name__/values`,
      `/api/v1/series?match[]=temperature&start=${s}&end=${e}`,
      `/api/v1/series?match[]=temperature&start=${s}&end=${e}&limit=2`,
      `/api/v1/nonexistent`,
    ]) {
      const want = await fetch(querier.url + path);
      const got = await fetch(fe.url + path);
      expect(got.status, path).toBe(want.status);
      const [g, w] = [await got.text(), await want.text()];
      if (want.headers.get('content-type')?.includes('json')) expect(JSON.parse(g), path).toEqual(JSON.parse(w));
      else expect(g, path).toBe(w);
    }
    // Status is the frontend's own (as Thanos's query-frontend), not the querier's.
    const bi = (await (await fetch(`${fe.url}/api/v1/status/buildinfo`)).json()) as { status: string; data: Record<string, unknown> };
    expect(bi.status).toBe('success');
    expect(Object.keys(bi.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
  });
});

describe('query-frontend: labels response cache', () => {
  test('property: labels, label values and series, split and cached, equal the querier for random ranges and matchers', async () => {
    const querier = await startQuerierFixture();
    const fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: querier.url,
      splitIntervalMs: DAY,
      alignRangeWithStep: false,
      maxRetries: 2,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 8,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 3 * 3_600_000,
      labelsResponseCacheConfig: 'type: IN-MEMORY\nconfig:\n  max_size_items: 10000\n',
      labelsPartialResponse: true,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      now: () => DATA_END + DAY,
    });
    await fe.start();
    const url = `http://127.0.0.1:${fe.httpPort}`;
    try {
      const kinds = ['/api/v1/labels', '/api/v1/label/instance/values', '/api/v1/label/__name__/values', '/api/v1/series'];
      const matchers = ['', 'temperature', '{job="db"}', 'http_requests_total{instance=~"i[12]"}', '{replica="a"}'];
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            k: fc.nat(kinds.length - 1),
            m: fc.nat(matchers.length - 1),
            startMin: fc.integer({ min: -120, max: 3 * 24 * 60 }),
            lenMin: fc.integer({ min: 0, max: 30 * 60 }),
            dedup: fc.constantFrom('', 'false'),
          }),
          async (c) => {
            const kind = kinds[c.k]!;
            const m = kind === '/api/v1/series' && matchers[c.m] === '' ? 'up' : matchers[c.m]!;
            const start = T0 + c.startMin * 60_000 + 123;
            const qs = new URLSearchParams({ start: String(start / 1000), end: String((start + c.lenMin * 60_000) / 1000), ...(c.dedup !== '' ? { dedup: c.dedup } : {}) });
            if (m !== '') qs.append('match[]', m);
            // Twice: the second answer comes (at least partly) from the cache.
            for (let i = 0; i < 2; i++) {
              const [got, want] = await Promise.all([fetch(`${url}${kind}?${qs}`), fetch(`${querier.url}${kind}?${qs}`)]);
              expect(got.status, `${kind}?${qs}`).toBe(want.status);
              expect(await got.json(), `${kind}?${qs}`).toEqual(await want.json());
            }
          },
        ),
        { numRuns: 25 },
      );
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(Number(/tessera_query_frontend_labels_cache_hits_total (\d+)/.exec(text)?.[1])).toBeGreaterThan(10);
    } finally {
      await fe.stop();
      await querier.stop();
    }
  });
});

describe('query-frontend: partial responses are never cached', () => {
  test('with replica b down the answer carries warnings and is not cached; with b back, the full answer', async () => {
    const querier = await startQuerierFixture();
    const fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: querier.url,
      splitIntervalMs: 3_600_000,
      alignRangeWithStep: false,
      maxRetries: 1,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 4,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 0,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      responseCacheConfig: 'type: IN-MEMORY\nconfig:\n  max_size_items: 100\n',
      now: () => DATA_END + DAY,
    });
    await fe.start();
    const url = `http://127.0.0.1:${fe.httpPort}`;
    try {
      // Over replica a's gap: without b the answer has a hole, and the querier says so in warnings.
      const params = { query: 'count(http_requests_total)', start: String((T0 + DAY) / 1000), end: String((T0 + DAY + 3 * 3_600_000) / 1000), step: '60' };
      const full = await rangeQuery(querier.url, params);
      expect(full.body.warnings).toBeUndefined();
      await querier.stopStore(1);
      const partial = await rangeQuery(url, params);
      expect(partial.status).toBe(200);
      expect(partial.body.warnings?.length ?? 0).toBeGreaterThan(0);
      expect(partial.body.data).not.toEqual(full.body.data);
      await querier.startStore(1);
      await waitFor('the querier to use replica b again', async () => (await rangeQuery(querier.url, params)).body.warnings === undefined, 30_000, 200);
      expect(await rangeQuery(url, params)).toEqual(full);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/tessera_query_frontend_cache_skipped_total\{reason="warnings"\} [1-9]/);
    } finally {
      await fe.stop();
      await querier.stop();
    }
  });
});
