import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toApiError } from '../api/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { GrpcStoreClient, LocalStore, StoreGrpcServer, type SeriesSink, type StoreServer } from '../store/index.js';
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from '../storepb/index.js';
import { Head } from '../tsdb/index.js';
import { testQuerierOptions, waitFor } from '../testutil/index.js';
import { Engine } from '../promql/index.js';
import { QueryApiAdapter } from './query-api-adapter.js';
import { Querier } from './querier-service.js';
import { WorkerQueryEngine, type WorkerQueryEngineOptions } from './worker-query-engine.js';

const ext = Labels.fromRecord({ cluster: 'c1', replica: 'a' });

/** A head with float counters, a gauge and a native histogram series, 1 h every 15 s. */
async function loadHead(): Promise<Head> {
  const head = new Head();
  const app = head.appender();
  let refs = [0, 0, 0, 0];
  for (let t = 0; t <= 3_600_000; t += 15_000) {
    refs = [
      app.append(refs[0]!, Labels.fromRecord({ __name__: 'http_requests_total', job: 'a' }), t, t / 1000),
      app.append(refs[1]!, Labels.fromRecord({ __name__: 'http_requests_total', job: 'b' }), t, (2 * t) / 1000),
      app.append(refs[2]!, Labels.fromRecord({ __name__: 'temperature', job: 'a' }), t, Math.sin(t / 100_000)),
      app.appendHistogram(refs[3]!, Labels.fromRecord({ __name__: 'latency', job: 'a' }), t, histogram(t / 15_000)),
    ];
  }
  await app.commit();
  return head;
}

function histogram(n: number): FloatHistogram {
  const h = new FloatHistogram();
  h.schema = 0;
  h.count = 3 * n;
  h.sum = 1.5 * n;
  h.zeroCount = n;
  h.positiveSpans = [{ offset: 0, length: 2 }];
  h.positiveBuckets = [n, n];
  return h;
}

/**
 * GatedStore serves the head, except that a Series call for `slow` waits until the test opens the
 * gate or the call is cancelled; `started` and `cancelled` count those calls.
 */
class GatedStore implements StoreServer {
  readonly #inner: LocalStore;
  started = 0;
  cancelled = 0;
  #open: () => void = () => {};
  #gate = new Promise<void>((res) => (this.#open = res));

  constructor(inner: LocalStore) {
    this.#inner = inner;
  }

  openGate(): void {
    this.#open();
    this.#gate = new Promise<void>((res) => (this.#open = res));
  }

  info() {
    return this.#inner.info();
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    if (req.matchers.some((m) => m.name === '__name__' && m.value === 'slow')) {
      this.started++;
      const aborted = new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
      await Promise.race([this.#gate, aborted]);
      if (signal.aborted) {
        this.cancelled++;
        throw new Error('cancelled');
      }
      return;
    }
    return this.#inner.series(req, sink, signal);
  }

  labelNames(req: LabelNamesRequest, signal: AbortSignal) {
    return this.#inner.labelNames(req, signal);
  }

  labelValues(req: LabelValuesRequest, signal: AbortSignal) {
    return this.#inner.labelValues(req, signal);
  }
}

let head: Head;
let store: GatedStore;
let server: StoreGrpcServer;
let addr: string;

/** headTargets: the query workers' one target, client to the test store over the head. */
const headTargets = (client: GrpcStoreClient) => () => [{ client, labelSets: [ext], minTime: head.minTime(), maxTime: head.maxTime() }];

/** release lets a worker blocked by blockForTest(flag) go on. */
function release(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

beforeAll(async () => {
  head = await loadHead();
  store = new GatedStore(new LocalStore({ queryable: head, externalLabels: ext, componentType: 'sidecar', timeRange: () => ({ minTime: head.minTime(), maxTime: head.maxTime() }) }));
  server = new StoreGrpcServer(store);
  addr = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});

afterAll(async () => {
  await server?.stop(100);
});

describe('Querier with query worker threads answers as on the main thread', () => {
  let main: Querier;
  let workers: Querier;

  beforeAll(async () => {
    main = new Querier(testQuerierOptions([addr], { endpointPollIntervalMs: 3_600_000 }));
    workers = new Querier(testQuerierOptions([addr], { endpointPollIntervalMs: 3_600_000, workerThreads: 2 }));
    await Promise.all([main.start(), workers.start()]);
  });

  afterAll(async () => {
    await Promise.all([main?.stop(), workers?.stop()]);
  });

  const get = async (q: Querier, path: string, params: Record<string, string>) => {
    const res = await fetch(`http://127.0.0.1:${q.httpPort}/api/v1${path}?${new URLSearchParams(params)}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  const cases: [string, string, Record<string, string>][] = [
    ['range', '/query_range', { query: 'rate(http_requests_total[5m])', start: '600', end: '3600', step: '60' }],
    ['range by', '/query_range', { query: 'sum by (job) (http_requests_total) / 2', start: '0', end: '3600', step: '15' }],
    ['instant', '/query', { query: 'http_requests_total', time: '1800' }],
    ['instant histogram', '/query', { query: 'latency', time: '1800' }],
    ['range histogram', '/query_range', { query: 'rate(latency[5m])', start: '600', end: '1200', step: '60' }],
    ['histogram quantile', '/query_range', { query: 'histogram_quantile(0.9, rate(latency[5m]))', start: '600', end: '1200', step: '60' }],
    ['scalar', '/query', { query: 'scalar(sum(http_requests_total)) * 2', time: '600' }],
    ['string', '/query', { query: '"hello"', time: '600' }],
    ['info annotation', '/query', { query: 'rate(temperature[5m])', time: '1800' }],
    ['warning annotation', '/query', { query: 'quantile(2, http_requests_total)', time: '1800' }],
    ['limit', '/query', { query: 'http_requests_total', time: '1800', limit: '1' }],
    ['storeMatch none', '/query', { query: 'http_requests_total', time: '1800', 'storeMatch[]': '{cluster="other"}' }],
    ['storeMatch', '/query', { query: 'http_requests_total', time: '1800', 'storeMatch[]': '{cluster="c1"}' }],
  ];

  test.each(cases)('%s', async (_name, path, params) => {
    const a = await get(main, path, params);
    const b = await get(workers, path, params);
    expect(a.status).toBe(200);
    expect(b).toEqual(a);
  });

  test('stats=all comes back with the engine timings and per-step samples', async () => {
    const params = { query: 'http_requests_total', start: '600', end: '900', step: '60', stats: 'all' };
    const a = (await get(main, '/query_range', params)).body.data.stats;
    const b = (await get(workers, '/query_range', params)).body.data.stats;
    expect(Object.keys(b.timings)).toEqual(Object.keys(a.timings));
    expect(b.timings.evalTotalTime).toBeGreaterThan(0);
    expect(b.samples).toEqual(a.samples);
  });

  test('errors keep their errorType, status and message (parse position, execution)', async () => {
    for (const params of [
      { query: 'sum(http_requests_total', time: '600' },
      { query: 'http_requests_total + on() http_requests_total', time: '600' },
      { query: 'http_requests_total[5m]', start: '600', end: '900', step: '60' },
    ]) {
      const path = 'start' in params ? '/query_range' : '/query';
      const a = await get(main, path, params);
      const b = await get(workers, path, params);
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(b).toEqual(a);
    }
    const bad = await get(workers, '/query', { query: 'sum(http_requests_total', time: '600' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorType).toBe('bad_data');
    expect(bad.body.error).toMatch(/^invalid parameter "query": 1:\d+: parse error: /);
  });

  test('/metrics counts the running worker threads', async () => {
    const text = async (q: Querier) => (await fetch(`http://127.0.0.1:${q.httpPort}/metrics`)).text();
    expect(await text(workers)).toMatch(/^tessera_querier_query_worker_threads 2$/m);
    expect(await text(workers)).toMatch(/^tessera_querier_query_worker_failures_total 0$/m);
    expect(await text(main)).toMatch(/^tessera_querier_query_worker_threads 0$/m);
    expect([workers.queryWorkerThreads, main.queryWorkerThreads]).toEqual([2, 0]);
  });

  test('series and label requests are answered (on the main thread)', async () => {
    for (const [path, params] of [
      ['/series', { 'match[]': 'http_requests_total' }],
      ['/labels', {}],
      ['/label/job/values', {}],
    ] as const) {
      expect(await get(workers, path, params)).toEqual(await get(main, path, params));
    }
  });
});

describe('Querier with query worker threads enforces the query limits', () => {
  test('--query.max-samples fails a query in a worker with 422 execution', async () => {
    const opts = { endpointPollIntervalMs: 3_600_000, maxSamples: 10 };
    const main = new Querier(testQuerierOptions([addr], opts));
    const workers = new Querier(testQuerierOptions([addr], { ...opts, workerThreads: 1 }));
    await Promise.all([main.start(), workers.start()]);
    try {
      const url = (q: Querier) => `http://127.0.0.1:${q.httpPort}/api/v1/query_range?query=http_requests_total&start=0&end=3600&step=15`;
      const a = await fetch(url(main));
      const b = await fetch(url(workers));
      expect(b.status).toBe(422);
      const body = (await b.json()) as Record<string, unknown>;
      expect(body).toEqual(await a.json());
      expect(body['error']).toMatch(/too many samples/);
    } finally {
      await Promise.all([main.stop(), workers.stop()]);
    }
  });

  test('--query.timeout fails a query in a worker with 503 timeout', async () => {
    const q = new Querier(testQuerierOptions([addr], { endpointPollIntervalMs: 3_600_000, timeoutMs: 1, workerThreads: 1 }));
    await q.start();
    try {
      const res = await fetch(`http://127.0.0.1:${q.httpPort}/api/v1/query?query=slow&time=600`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as Record<string, unknown>)['errorType']).toBe('timeout');
    } finally {
      await q.stop();
    }
  });
});

describe('WorkerQueryEngine', () => {
  let client: GrpcStoreClient;
  let engine: WorkerQueryEngine;
  const answeredBy: number[] = [];
  const logged: string[] = [];

  beforeAll(async () => {
    client = new GrpcStoreClient(addr);
    engine = new WorkerQueryEngine({
      threads: 2,
      data: {
        engine: { timeoutMs: 60_000, maxSamples: 1_000_000, maxMemoryBytes: 0, lookbackDeltaMs: 300_000, noStepSubqueryIntervalMs: 60_000 },
        replicaLabels: ['replica'],
        partialResponse: false,
        autoDownsampling: false,
        testHooks: true,
      },
      targets: headTargets(client),
      onAnswer: (id) => answeredBy.push(id),
      log: (_level, msg) => logged.push(msg),
    });
    await engine.ready();
  });

  afterAll(async () => {
    await engine?.close();
    client?.close();
  });

  const opts = (signal = new AbortController().signal) => ({ signal });
  const busyThreads = () => engine.load().filter((l) => l.inFlight > 0).map((l) => l.threadId);

  test('concurrent queries run on different threads', async () => {
    const before = store.started;
    const first = engine.instantQuery('slow', 600_000, opts());
    const second = engine.instantQuery('sum(slow)', 600_000, opts());
    await waitFor('both queries reach the store', async () => store.started === before + 2);
    expect(busyThreads()).toHaveLength(2);
    answeredBy.length = 0;
    store.openGate();
    expect((await first).resultType).toBe('vector');
    expect((await second).resultType).toBe('vector');
    expect(new Set(answeredBy).size).toBe(2);
    expect(new Set(answeredBy)).toEqual(new Set(engine.threadIds()));
  });

  test('an aborted query is cancelled in its worker, down to the store call, and the worker answers the next query', async () => {
    const cancelled = store.cancelled;
    const started = store.started;
    const ac = new AbortController();
    const q = engine.instantQuery('slow', 600_000, opts(ac.signal));
    await waitFor('the query reaches the store', async () => store.started === started + 1);
    const [thread] = busyThreads();
    ac.abort();
    const err = await q.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toApiError(err).errorType).toBe('canceled');
    await waitFor('the store call is cancelled', async () => store.cancelled === cancelled + 1);
    expect(busyThreads()).toEqual([]);
    answeredBy.length = 0;
    // Both workers idle: the least-busy pick alternates, so two queries reach both, that one included.
    const rs = await Promise.all([engine.instantQuery('http_requests_total', 600_000, opts()), engine.instantQuery('http_requests_total', 600_000, opts())]);
    for (const r of rs) expect(r.resultType === 'vector' && r.result.length).toBe(2);
    expect(answeredBy).toContain(thread);
  });

  test('a range query comes back as the engine computed it, samples in typed arrays', async () => {
    const r = await engine.rangeQuery('http_requests_total', 0, 600_000, 60_000, opts());
    expect(r.resultType).toBe('matrix');
    if (r.resultType !== 'matrix') return;
    expect(r.result.map((s) => s.metric.toString())).toEqual(['{__name__="http_requests_total", cluster="c1", job="a"}', '{__name__="http_requests_total", cluster="c1", job="b"}']);
    expect(r.result[0]!.ts).toBeInstanceOf(Float64Array);
    expect(Array.from(r.result[0]!.ts)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600].map((s) => s * 1000));
    expect(Array.from(r.result[1]!.fs)).toEqual([0, 120, 240, 360, 480, 600, 720, 840, 960, 1080, 1200]);
  });

  test('queries one after the other go to the same (warm) worker', async () => {
    answeredBy.length = 0;
    for (let i = 0; i < 3; i++) await engine.instantQuery('http_requests_total', 600_000, opts());
    expect(answeredBy).toHaveLength(3);
    expect(new Set(answeredBy).size).toBe(1);
  });

  test('a worker that dies fails only its in-flight query, is logged and replaced', async () => {
    const started = store.started;
    const doomed = engine.instantQuery('slow', 600_000, opts());
    await waitFor('the first query reaches the store', async () => store.started === started + 1);
    const [victim] = busyThreads();
    const survivor = engine.instantQuery('sum(slow)', 600_000, opts());
    await waitFor('the second query reaches the store', async () => store.started === started + 2);
    expect(busyThreads()).toHaveLength(2);
    engine.crashForTest(victim!);
    const err = await doomed.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toApiError(err).errorType).toBe('internal');
    expect((err as Error).message).toMatch(/worker thread \d+: the worker ended \(query worker crashed on purpose \(test hook\)\)/);
    expect(logged).toContain('query worker thread ended; replacing it');
    await waitFor('the worker is replaced', async () => !engine.threadIds().includes(victim!));
    await engine.ready();
    store.openGate();
    expect((await survivor).resultType).toBe('vector');
    answeredBy.length = 0;
    const rs = await Promise.all([engine.instantQuery('1 + 1', 0, opts()), engine.instantQuery('2', 0, opts())]);
    expect(rs.map((r) => r.resultType)).toEqual(['scalar', 'scalar']);
    expect(new Set(answeredBy)).toEqual(new Set(engine.threadIds()));
  });
});

describe('WorkerQueryEngine with a heap limit', () => {
  test('a worker out of memory fails its in-flight query, the process lives on and the worker is replaced', async () => {
    const client = new GrpcStoreClient(addr);
    const logged: string[] = [];
    const engine = new WorkerQueryEngine({
      threads: 1,
      data: {
        engine: { timeoutMs: 60_000, maxSamples: 1_000_000, maxMemoryBytes: 0, lookbackDeltaMs: 300_000, noStepSubqueryIntervalMs: 60_000 },
        replicaLabels: ['replica'],
        partialResponse: false,
        autoDownsampling: false,
        testHooks: true,
      },
      resourceLimits: { maxOldGenerationSizeMb: 128 },
      targets: headTargets(client),
      log: (_level, msg) => logged.push(msg),
    });
    try {
      await engine.ready();
      const [victim] = engine.threadIds();
      const started = store.started;
      const doomed = engine.instantQuery('slow', 600_000, { signal: new AbortController().signal });
      await waitFor('the query reaches the store', async () => store.started === started + 1);
      engine.crashForTest(victim!, 'oom');
      const err = await doomed.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(toApiError(err).errorType).toBe('internal');
      expect((err as Error).message).toMatch(/the worker ended \(.*memory limit/);
      await waitFor('the worker is replaced', async () => !engine.threadIds().includes(victim!));
      await engine.ready();
      const r = await engine.instantQuery('http_requests_total', 600_000, { signal: new AbortController().signal });
      expect(r.resultType === 'vector' && r.result.length).toBe(2);
      expect(logged).toContain('query worker thread ended; replacing it');
    } finally {
      await engine.close();
      client.close();
    }
  });
});

const engineData: WorkerQueryEngineOptions['data'] = {
  engine: { timeoutMs: 60_000, maxSamples: 1_000_000, maxMemoryBytes: 0, lookbackDeltaMs: 300_000, noStepSubqueryIntervalMs: 60_000 },
  replicaLabels: ['replica'],
  partialResponse: false,
  autoDownsampling: false,
  testHooks: true,
};

describe('WorkerQueryEngine with a busy worker', () => {
  test('a cancelled query is answered at once as canceled, while its worker is still busy; the worker takes queries after', async () => {
    const client = new GrpcStoreClient(addr);
    const engine = new WorkerQueryEngine({ threads: 1, data: engineData, targets: headTargets(client) });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    try {
      await engine.ready();
      const [thread] = engine.threadIds();
      engine.blockForTest(thread!, flag);
      const ac = new AbortController();
      const q = engine.instantQuery('http_requests_total', 600_000, { signal: ac.signal });
      expect(engine.load()[0]!.inFlight).toBe(1);
      ac.abort(new Error('client went away'));
      // The worker is blocked: the answer can only come from the main thread.
      const err = await q.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(toApiError(err).errorType).toBe('canceled');
      expect((err as Error).message).toBe('query was canceled in query evaluation');
      // Still the worker's load until it has seen the cancellation.
      expect(engine.load()[0]!.inFlight).toBe(1);
      release(flag);
      await waitFor('the worker drops the cancelled query', async () => engine.load()[0]!.inFlight === 0);
      const r = await engine.instantQuery('http_requests_total', 600_000, { signal: new AbortController().signal });
      expect(r.resultType === 'vector' && r.result.length).toBe(2);
      // A request aborted before it is posted is not sent to a worker.
      const pre = new AbortController();
      pre.abort();
      await expect(engine.instantQuery('http_requests_total', 600_000, { signal: pre.signal })).rejects.toThrow('query was canceled in query preparation');
      expect(engine.load()[0]!.inFlight).toBe(0);
    } finally {
      release(flag);
      await engine.close();
      client.close();
    }
  });
});

describe('WorkerQueryEngine connections', () => {
  test('a worker closes a connection no query used for idleClientMs without waiting for another query', async () => {
    const client = new GrpcStoreClient(addr);
    const engine = new WorkerQueryEngine({ threads: 1, data: { ...engineData, idleClientMs: 300 }, targets: headTargets(client) });
    try {
      await engine.ready();
      const [thread] = engine.threadIds();
      const r = await engine.instantQuery('http_requests_total', 600_000, { signal: new AbortController().signal });
      expect(r.resultType === 'vector' && r.result.length).toBe(2);
      expect(await engine.clientsForTest(thread!)).toEqual([client.name]);
      await waitFor('the idle connection is closed', async () => (await engine.clientsForTest(thread!)).length === 0);
    } finally {
      await engine.close();
      client.close();
    }
  });
});

describe('--query.max-concurrent with query worker threads', () => {
  test('a cancelled query answered at once keeps its place until its worker is done with it', async () => {
    const client = new GrpcStoreClient(addr);
    const engine = new WorkerQueryEngine({ threads: 1, data: engineData, targets: headTargets(client) });
    const adapter = new QueryApiAdapter({ engine: new Engine(), remote: engine, client, replicaLabels: ['replica'], partialResponse: false, autoDownsampling: false, maxConcurrent: 1 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    try {
      await engine.ready();
      engine.blockForTest(engine.threadIds()[0]!, flag);
      const ac = new AbortController();
      const first = adapter.instantQuery('http_requests_total', 600_000, { signal: ac.signal });
      await waitFor('the first query is posted', async () => engine.load()[0]!.inFlight === 1);
      ac.abort();
      await expect(first).rejects.toThrow('query was canceled');
      const second = adapter.instantQuery('http_requests_total', 600_000, { signal: new AbortController().signal, stats: 'true' });
      for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
      // The worker still holds the cancelled query: the second waits for its place, not in the worker.
      expect(engine.load()[0]!.inFlight).toBe(1);
      release(flag);
      const r = await second;
      expect(r.resultType === 'vector' && r.result.length).toBe(2);
      expect((r.stats as { timings: { execQueueTime: number } }).timings.execQueueTime).toBeGreaterThan(0);
    } finally {
      release(flag);
      await engine.close();
      client.close();
    }
  });
});

describe('WorkerQueryEngine replacing workers', () => {
  test('a worker that keeps ending soon after its start is replaced after a doubling delay; meanwhile none is available', async () => {
    const client = new GrpcStoreClient(addr);
    const delays: number[] = [];
    let restart: (() => void) | undefined;
    const engine = new WorkerQueryEngine({
      threads: 1,
      data: engineData,
      targets: headTargets(client),
      restartBackoffMs: { min: 1000, max: 4000 },
      schedule: (fn, ms) => {
        delays.push(ms);
        restart = fn;
        return { cancel: () => (restart = undefined) };
      },
    });
    try {
      await engine.ready();
      for (let i = 1; i <= 4; i++) {
        const [victim] = engine.threadIds();
        engine.crashForTest(victim!);
        await waitFor(`restart ${i} is scheduled`, async () => delays.length === i);
        expect(engine.available()).toBe(false);
        await expect(engine.instantQuery('1', 0, { signal: new AbortController().signal })).rejects.toThrow('no query worker thread is running');
        restart!();
        expect(engine.available()).toBe(true);
        await engine.ready();
      }
      expect(delays).toEqual([1000, 2000, 4000, 4000]);
      const r = await engine.instantQuery('http_requests_total', 600_000, { signal: new AbortController().signal });
      expect(r.resultType === 'vector' && r.result.length).toBe(2);
      // A replacement still pending when the pool closes is cancelled.
      engine.crashForTest(engine.threadIds()[0]!);
      await waitFor('restart 5 is scheduled', async () => delays.length === 5);
      await engine.close();
      expect(restart).toBeUndefined();
    } finally {
      await engine.close();
      client.close();
    }
  });

  test('a worker that never gets ready fails ready() after the start timeout, not a hang', async () => {
    const engine = new WorkerQueryEngine({
      threads: 1,
      data: engineData,
      targets: () => [],
      module: new URL('./testdata/never-ready-worker.ts', import.meta.url),
      startTimeoutMs: 500,
      restartBackoffMs: { min: 3_600_000, max: 3_600_000 },
    });
    try {
      await expect(engine.ready()).rejects.toThrow(/start query worker thread \d+: not ready after 0.5 s/);
      await waitFor('the stuck worker is ended', async () => !engine.available());
    } finally {
      await engine.close();
    }
  });

  test('a worker module that cannot be loaded fails ready() with the loader error, not a hang', async () => {
    const engine = new WorkerQueryEngine({
      threads: 1,
      data: engineData,
      targets: () => [],
      module: new URL('./no-such-query-worker.ts', import.meta.url),
      restartBackoffMs: { min: 3_600_000, max: 3_600_000 },
    });
    try {
      await expect(engine.ready()).rejects.toThrow(/no-such-query-worker/);
    } finally {
      await engine.close();
    }
  });
});

describe('Querier whose query worker threads cannot start', () => {
  test('logs it and serves queries on the main thread', async () => {
    const logged: string[] = [];
    const q = new Querier(
      testQuerierOptions([addr], {
        endpointPollIntervalMs: 3_600_000,
        workerThreads: 2,
        // The main thread dials plain text; the workers cannot read their CA file.
        grpcClientTls: { credentials: grpc.credentials.createInsecure(), serverName: '' },
        grpcClientTlsOptions: { secure: true, caFile: '/nonexistent/tessera-ca.pem' },
        log: (msg, fields) => logged.push(`${msg} ${JSON.stringify(fields ?? {})}`),
      }),
    );
    await q.start();
    try {
      expect(logged.find((l) => l.startsWith('query worker threads could not start; evaluating queries on the main thread'))).toMatch(/tessera-ca\.pem/);
      expect(q.queryWorkerThreads).toBe(0);
      const res = await fetch(`http://127.0.0.1:${q.httpPort}/api/v1/query?query=http_requests_total&time=600`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { result: unknown[] } };
      expect(body.data.result).toHaveLength(2);
      expect(await (await fetch(`http://127.0.0.1:${q.httpPort}/metrics`)).text()).toMatch(/^tessera_querier_query_worker_threads 0$/m);
    } finally {
      await q.stop();
    }
  });
});

describe('Querier that cannot listen', () => {
  test('start() fails naming the address and ends the query worker threads it started', async () => {
    const taken = new StoreGrpcServer(store);
    const port = await taken.listen('127.0.0.1:0');
    const q = new Querier(testQuerierOptions([addr], { endpointPollIntervalMs: 3_600_000, workerThreads: 2, grpcAddress: `127.0.0.1:${port}` }));
    try {
      await expect(q.start()).rejects.toThrow(String(port));
      expect(await (await q.registry.getSingleMetric('tessera_querier_query_worker_threads')!.get()).values[0]!.value).toBe(0);
    } finally {
      await q.stop();
      await taken.stop(100);
    }
  });
});
