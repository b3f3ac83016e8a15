import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer } from '../store/index.js';
import { Querier, type QuerierOptions } from './querier-service.js';
import { freePort, testQuerierOptions, waitFor } from '../testutil/index.js';

interface Started {
  server: StoreGrpcServer;
  port: number;
}

function startStore(replica: string, offsetMs: number, gap?: [number, number]): Promise<Started> {
  return startStoreAt(0, replica, offsetMs, gap);
}

async function startStoreAt(port: number, replica: string, offsetMs: number, gap?: [number, number]): Promise<Started> {
  const ext = Labels.fromRecord({ cluster: 'c1', replica });
  const series = ['a', 'b'].map((job) => ({
    labels: Labels.fromRecord({ __name__: 'http_requests_total', job }),
    samples: Array.from({ length: 240 }, (_, i) => i * 15_000 + offsetMs)
      .filter((t) => gap === undefined || t < gap[0] || t >= gap[1])
      .map((t) => [t, Math.floor(t / 1000) * (job === 'a' ? 1 : 2)] as const),
  }));
  const q = new MemChunkQueryable(series);
  const server = new StoreGrpcServer(new LocalStore({ queryable: q, externalLabels: ext, componentType: 'sidecar', timeRange: () => q.timeRange() }));
  return { server, port: await server.listen(`127.0.0.1:${port}`) };
}

/** newQuerier makes a querier on free ports deduplicating on `replica`, with test-sized limits. */
function newQuerier(endpoints: string[], extra: Partial<QuerierOptions> = {}): Querier {
  return new Querier(testQuerierOptions(endpoints, extra));
}

describe('Querier over two replica stores', () => {
  let a: Started;
  let b: Started;
  let querier: Querier;
  let url: string;

  beforeAll(async () => {
    a = await startStore('a', 0, [1_200_000, 1_800_000]);
    b = await startStore('b', 250);
    // No Info poll during these tests (start() checks once): a store stopped by a test stays a
    // target until its next check, so its failure shows in queries.
    querier = newQuerier([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], { infoTimeoutMs: 2000, endpointPollIntervalMs: 3_600_000 });
    await querier.start();
    url = `http://127.0.0.1:${querier.httpPort}`;
  });

  afterAll(async () => {
    await querier?.stop();
    await a?.server.stop(100);
    await b?.server.stop(100);
  });

  const get = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  test('deduplicates replicas by default and fills the gap of one replica', async () => {
    const { status, body } = await get('/api/v1/query', { query: 'count_over_time(http_requests_total{job="a"}[1h])', time: '3600' });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data.result).toHaveLength(1);
    expect(body.data.result[0].metric).toEqual({ cluster: 'c1', job: 'a' });
    // 240 scrapes in the hour window (0, 3600s]: all of them, the gap of replica a filled from b.
    expect(Number(body.data.result[0].value[1])).toBeGreaterThanOrEqual(239);
  });

  test('stats=all fills timings and samples from the engine (per step for range queries); stats=true leaves out the per-step counts', async () => {
    const timingKeys = ['evalTotalTime', 'resultSortTime', 'queryPreparationTime', 'innerEvalTime', 'execQueueTime', 'execTotalTime'];
    const range = (await get('/api/v1/query_range', { query: 'http_requests_total', start: '600', end: '900', step: '60', stats: 'all' })).body.data.stats;
    expect(Object.keys(range.timings)).toEqual(timingKeys);
    expect(range.timings.evalTotalTime).toBeGreaterThan(0);
    expect(range.timings.execTotalTime).toBeGreaterThanOrEqual(range.timings.evalTotalTime);
    expect(Object.keys(range.samples)).toEqual(['totalQueryableSamplesPerStep', 'totalQueryableSamples', 'peakSamples']);
    // two deduplicated series (job a and b), one sample each at 6 steps
    expect(range.samples.totalQueryableSamples).toBe(12);
    expect(range.samples.peakSamples).toBe(12);
    expect(range.samples.totalQueryableSamplesPerStep).toEqual([600, 660, 720, 780, 840, 900].map((t) => [t, 2]));
    const instant = (await get('/api/v1/query', { query: 'http_requests_total', time: '600', stats: 'true' })).body.data.stats;
    expect(instant.samples).toEqual({ totalQueryableSamples: 2, peakSamples: 2 });
    expect(instant.timings.evalTotalTime).toBeGreaterThan(0);
  });

  test('dedup=false returns both replicas', async () => {
    const { body } = await get('/api/v1/query', { query: 'http_requests_total{job="b"}', time: '3000', dedup: 'false' });
    expect(body.data.result.map((r: any) => r.metric.replica).sort()).toEqual(['a', 'b']);
  });

  test('rate over a replica switch matches the true rate', async () => {
    const { body } = await get('/api/v1/query_range', { query: 'rate(http_requests_total[5m])', start: '900', end: '2400', step: '60' });
    expect(body.status).toBe('success');
    for (const s of body.data.result) {
      const want = s.metric.job === 'a' ? 1 : 2;
      for (const [, v] of s.values) expect(Number(v)).toBeCloseTo(want, 1);
    }
  });

  test('series hide the replica label; labels and label values list it, as Thanos v0.42 (which never deduplicates them)', async () => {
    expect((await get('/api/v1/labels', {})).body.data).toEqual(['__name__', 'cluster', 'job', 'replica']);
    expect((await get('/api/v1/label/job/values', {})).body.data).toEqual(['a', 'b']);
    expect((await get('/api/v1/label/replica/values', {})).body.data).toEqual(['a', 'b']);
    const series = (await get('/api/v1/series', { 'match[]': 'http_requests_total' })).body.data;
    expect(series).toEqual([
      { __name__: 'http_requests_total', cluster: 'c1', job: 'a' },
      { __name__: 'http_requests_total', cluster: 'c1', job: 'b' },
    ]);
  });

  test('bad PromQL is a 400 bad_data with the position', async () => {
    const { status, body } = await get('/api/v1/query', { query: 'sum(rate(x[5m])' });
    expect(status).toBe(400);
    expect(body.errorType).toBe('bad_data');
    expect(body.error).toMatch(/1:\d+: parse error/);
  });

  test('a store that dies after its last check gives a warning with partial response, and an error without', async () => {
    await b.server.stop(100);
    const warn = await get('/api/v1/query', { query: 'http_requests_total{job="a"}', time: '3000' });
    expect(warn.status).toBe(200);
    expect(warn.body.warnings?.length ?? 0).toBeGreaterThan(0);
    const fail = await get('/api/v1/query', { query: 'http_requests_total{job="a"}', time: '3000', partial_response: 'false' });
    // A storage error, as Prometheus reports them (ErrStorage → 500 internal), naming the store.
    expect([fail.status, fail.body.status, fail.body.errorType]).toEqual([500, 'error', 'internal']);
    expect(fail.body.error).toContain(`127.0.0.1:${b.port}`);
    // The querier keeps serving.
    expect((await get('/api/v1/query', { query: '1+1' })).body.data.result[1]).toBe('2');
  });
});

describe('unhealthy endpoints (as in Thanos, queried only while their last Info check succeeded)', () => {
  test('one that never answered is not queried; one that goes down is dropped at its next failed check and back after a good one', async () => {
    const a = await startStore('a', 0);
    let b = await startStore('b', 250);
    const bPort = b.port;
    const nothing = await freePort();
    const querier = newQuerier([`127.0.0.1:${nothing}`, `127.0.0.1:${a.port}`, `127.0.0.1:${bPort}`], { infoTimeoutMs: 1000, endpointPollIntervalMs: 100 });
    const q = async (params: Record<string, string>) => {
      const res = await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/query?${new URLSearchParams({ time: '100', dedup: 'false', ...params })}`);
      return { status: res.status, body: (await res.json()) as any };
    };
    const replicas = (r: { body: any }) => (r.body.data?.result ?? []).map((x: any) => x.metric.replica).sort();
    try {
      await querier.start();
      const strict = await q({ query: 'http_requests_total{job="a"}', partial_response: 'false' });
      expect(strict.status).toBe(200);
      expect(strict.body.warnings).toBeUndefined();
      expect(replicas(strict)).toEqual(['a', 'b']);

      await b.server.stop(100);
      const dropped = await waitFor('b left out of queries', async () => {
        const r = await q({ query: 'http_requests_total{job="a"}', partial_response: 'false' });
        return r.status === 200 && r.body.warnings === undefined && r;
      }, 20_000);
      expect(replicas(dropped)).toEqual(['a']);

      b = await startStoreAt(bPort, 'b', 250);
      const back = await waitFor('b queried again', async () => {
        const r = await q({ query: 'http_requests_total{job="a"}', partial_response: 'false' });
        return r.status === 200 && replicas(r).length === 2 && r;
      }, 20_000);
      expect(replicas(back)).toEqual(['a', 'b']);
      expect(back.body.warnings).toBeUndefined();
    } finally {
      await querier.stop();
      await a.server.stop(100);
      await b.server.stop(100);
    }
  });
});

describe.each([0, 1])('an endpoint that goes down and comes back, with %i query worker threads', (workerThreads) => {
  /** queryJobA asks querier for http_requests_total{job="a"} at 100 s, not deduplicated, not partial. */
  const queryJobA = async (querier: Querier) => {
    const res = await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/query?${new URLSearchParams({ time: '100', dedup: 'false', query: 'http_requests_total{job="a"}', partial_response: 'false' })}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const replicas = (r: { body: any }) => (r.body.data?.result ?? []).map((x: any) => x.metric.replica).sort();

  test('queried while its last check succeeded (an error naming it), left out after a failed check, queried at once after a good one', async () => {
    const a = await startStore('a', 0);
    let b = await startStore('b', 250);
    const bPort = b.port;
    const querier = newQuerier([`127.0.0.1:${a.port}`, `127.0.0.1:${bPort}`], { infoTimeoutMs: 1000, endpointPollIntervalMs: 3_600_000, workerThreads });
    const q = () => queryJobA(querier);
    try {
      await querier.start();
      expect(querier.queryWorkerThreads).toBe(workerThreads); // workers that failed to start would fall back to the main thread
      expect(replicas(await q())).toEqual(['a', 'b']);
      await b.server.stop(100);
      // Still healthy for the querier until its next check: queried, and its failure reported.
      const failed = await q();
      expect([failed.status, failed.body.errorType]).toEqual([500, 'internal']);
      expect(failed.body.error).toContain(`127.0.0.1:${bPort}`);
      await querier.checkEndpoints();
      const without = await q();
      expect([without.status, replicas(without), without.body.warnings]).toEqual([200, ['a'], undefined]);
      b = await startStoreAt(bPort, 'b', 250);
      await querier.checkEndpoints();
      // The failed query left the connection waiting to reconnect; the good check ends that wait.
      const back = await q();
      expect([back.status, replicas(back), back.body.warnings]).toEqual([200, ['a', 'b'], undefined]);
    } finally {
      await querier.stop();
      await a.server.stop(100);
      await b.server.stop(100);
    }
  });

  test('restarted between two checks: queried at once after the check that finds it back', async () => {
    const a = await startStore('a', 0);
    let b = await startStore('b', 250);
    const bPort = b.port;
    const querier = newQuerier([`127.0.0.1:${a.port}`, `127.0.0.1:${bPort}`], { infoTimeoutMs: 1000, endpointPollIntervalMs: 3_600_000, workerThreads });
    const q = () => queryJobA(querier);
    try {
      await querier.start();
      expect(querier.queryWorkerThreads).toBe(workerThreads); // workers that failed to start would fall back to the main thread
      expect(replicas(await q())).toEqual(['a', 'b']);
      await b.server.stop(100);
      expect((await q()).status).toBe(500);
      b = await startStoreAt(bPort, 'b', 250);
      // The check finds it healthy (it never saw it down): queries read it again at once.
      await querier.checkEndpoints();
      expect(querier.endpointStatus().every((e) => e.healthy)).toBe(true);
      const back = await q();
      expect([back.status, replicas(back), back.body.warnings]).toEqual([200, ['a', 'b'], undefined]);
    } finally {
      await querier.stop();
      await a.server.stop(100);
      await b.server.stop(100);
    }
  });
});

describe('storeMatch[]', () => {
  test('selects stores by address', async () => {
    const a = await startStore('a', 0);
    const b = await startStore('b', 250);
    const querier = newQuerier([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    try {
      await querier.start();
      const q = async (params: Record<string, string>) => {
        const res = await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/query?${new URLSearchParams(params)}`);
        return (await res.json()) as any;
      };
      const only = await q({ query: 'http_requests_total{job="a"}', time: '100', dedup: 'false', 'storeMatch[]': `{__address__="127.0.0.1:${b.port}"}` });
      expect(only.data.result.map((r: any) => r.metric.replica)).toEqual(['b']);
      const both = await q({ query: 'http_requests_total{job="a"}', time: '100', dedup: 'false' });
      expect(both.data.result.map((r: any) => r.metric.replica).sort()).toEqual(['a', 'b']);
    } finally {
      await querier.stop();
      await a.server.stop(100);
      await b.server.stop(100);
    }
  });
});

describe('/api/v1/stores', () => {
  test('lists the endpoints with health and labels', async () => {
    const a = await startStore('a', 0);
    const querier = newQuerier([`127.0.0.1:${a.port}`]);
    try {
      await querier.start();
      const res = await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/stores`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as any;
      expect(body.data).toEqual([
        expect.objectContaining({ name: `127.0.0.1:${a.port}`, healthy: true, componentType: 'sidecar', labelSets: [{ cluster: 'c1', replica: 'a' }] }),
      ]);
    } finally {
      await querier.stop();
      await a.server.stop(100);
    }
  });

  test('writes int64 extremes exactly (a store advertising everything), so Go clients can read them into an int64', async () => {
    const server = new StoreGrpcServer(new LocalStore({ queryable: new MemChunkQueryable([]), externalLabels: Labels.fromRecord({ cluster: 'c1' }), componentType: 'store' }));
    const port = await server.listen('127.0.0.1:0');
    const querier = newQuerier([`127.0.0.1:${port}`]);
    try {
      await querier.start();
      const text = await (await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/stores`)).text();
      expect(text).toContain('"minTime":-9223372036854775808,"maxTime":9223372036854775807');
      expect(text).not.toContain('9223372036854776000');
      expect(JSON.parse(text)).toMatchObject({ status: 'success', data: [{ name: `127.0.0.1:${port}`, healthy: true, componentType: 'store', lastError: null }] });
    } finally {
      await querier.stop();
      await server.stop(100);
    }
  });
});

describe('unknown paths and --web.route-prefix', () => {
  test('unknown paths are Go\'s plain 404 (not Express\'s HTML); with a route prefix, / redirects to it', async () => {
    for (const prefix of ['', '/thanos']) {
      const querier = newQuerier([], prefix === '' ? {} : { routePrefix: prefix });
      try {
        await querier.start();
        const base = `http://127.0.0.1:${querier.httpPort}`;
        for (const path of [`${prefix}/nothing-here`, `${prefix}/api/v1/nothing-here`, ...(prefix === '' ? [] : ['/api/v1/query?query=1'])]) {
          const res = await fetch(`${base}${path}`, { redirect: 'manual' });
          expect(res.status, `${prefix} ${path}`).toBe(404);
          expect(res.headers.get('content-type'), path).toBe('text/plain; charset=utf-8');
          expect(await res.text(), path).toBe('404 page not found\n');
        }
        expect((await fetch(`${base}${prefix}/api/v1/query?query=1`)).status).toBe(200);
        const root = await fetch(`${base}/`, { redirect: 'manual' });
        if (prefix === '') expect(root.status).toBe(200);
        else {
          expect(root.status).toBe(302);
          expect(root.headers.get('location')).toBe(prefix);
        }
      } finally {
        await querier.stop();
      }
    }
  });
});
