import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { downsampleBlock, RES_1H, RES_5M } from '../downsample/index.js';
import { Labels } from '../labels/index.js';
import { InMemoryBucket, uploadDir } from '../objstore/index.js';
import { BucketStore, LocalStore, StoreError, StoreGrpcServer, type SeriesSink, type StoreServer } from '../store/index.js';
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from '../storepb/index.js';
import { BlockWriter, Head, type BlockMeta } from '../tsdb/index.js';
import { testQuerierOptions } from '../testutil/index.js';
import { Querier, type QuerierOptions } from './querier-service.js';

// Every request option the HTTP API hands to the engine, and the querier flags that shape them,
// answered by a querier with query worker threads exactly as by one without.

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const H = 3_600_000;

/** Two counters over 1 h every 15 s, and `gappy`, whose samples stop at 30 min. */
async function loadHead(): Promise<Head> {
  const head = new Head();
  const app = head.appender();
  let refs = [0, 0, 0];
  for (let t = 0; t <= H; t += 15_000) {
    refs = [
      app.append(refs[0]!, Labels.fromRecord({ __name__: 'http_requests_total', job: 'a' }), t, t / 1000),
      app.append(refs[1]!, Labels.fromRecord({ __name__: 'http_requests_total', job: 'b' }), t, (2 * t) / 1000),
      t <= H / 2 ? app.append(refs[2]!, Labels.fromRecord({ __name__: 'gappy', job: 'a' }), t, 1) : refs[2]!,
    ];
  }
  await app.commit();
  return head;
}

/**
 * FlakyStore serves its inner store, except that a Series call for `flaky` fails (unavailable) and
 * one for `hang` sends nothing until it is cancelled.
 */
class FlakyStore implements StoreServer {
  constructor(readonly inner: LocalStore) {}
  info() {
    return this.inner.info();
  }
  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    if (req.matchers.some((m) => m.name === '__name__' && m.value === 'flaky')) throw new StoreError(14, 'flaky store is down');
    if (req.matchers.some((m) => m.name === '__name__' && m.value === 'hang')) {
      await new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
      throw new StoreError(1, 'hang cancelled');
    }
    return this.inner.series(req, sink, signal);
  }
  labelNames(req: LabelNamesRequest, signal: AbortSignal) {
    return this.inner.labelNames(req, signal);
  }
  labelValues(req: LabelValuesRequest, signal: AbortSignal) {
    return this.inner.labelValues(req, signal);
  }
}

/** A bucket store with only 5m and 1h downsampled blocks of `ds_gauge` over 2 days (as after raw retention). */
async function downsampledStore(tmp: string): Promise<BucketStore> {
  const ext = { cluster: 'c2' };
  const w = await BlockWriter.create(join(tmp, 'raw'), { minTime: T0, maxTime: T0 + 48 * H, thanos: { labels: ext, downsample: { resolution: 0 }, source: 'test', index_stats: {} } });
  for (const host of ['h0', 'h1']) {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let t = T0; t < T0 + 48 * H; t += 60_000) {
      ts.push(t);
      vs.push(((t - T0) / 60_000) % 17 + (host === 'h1' ? 100 : 0));
    }
    await w.addSeries(Labels.fromStrings('__name__', 'ds_gauge', 'host', host), ts, vs);
  }
  let src: { dir: string; ulid: string; meta: BlockMeta } = await w.flush();
  const bkt = new InMemoryBucket();
  const metas: BlockMeta[] = [];
  for (const res of [RES_5M, RES_1H]) {
    const out = (await downsampleBlock({ blockDir: src.dir, outDir: join(tmp, `ds-${res}`), resolution: res }))!;
    await uploadDir(bkt, out.dir, out.ulid);
    metas.push(out.meta);
    src = out;
  }
  const store = new BucketStore({ bucket: bkt });
  await store.sync(new Map(metas.map((m) => [m.ulid, m])));
  return store;
}

let tmp: string;
const servers: StoreGrpcServer[] = [];
const addrs: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tessera-wq-opts-'));
  const head = await loadHead();
  const local = (ext: Record<string, string>) =>
    new LocalStore({ queryable: head, externalLabels: Labels.fromRecord(ext), componentType: 'sidecar', timeRange: () => ({ minTime: head.minTime(), maxTime: head.maxTime() }) });
  const stores: StoreServer[] = [local({ cluster: 'c1', replica: 'a' }), local({ cluster: 'c1', replica: 'b' }), new FlakyStore(local({ cluster: 'c3' })), await downsampledStore(tmp)];
  for (const s of stores) {
    const server = new StoreGrpcServer(s);
    servers.push(server);
    addrs.push(`127.0.0.1:${await server.listen('127.0.0.1:0')}`);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(100)));
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

type Case = [string, string, Record<string, string>];

const ds = { query: 'ds_gauge', start: String((T0 + 6 * H) / 1000), end: String((T0 + 30 * H) / 1000), step: '3600' };

/** Cases for any flags: each request option of the API. */
const requestCases: Case[] = [
  ['dedup=false', '/query', { query: 'http_requests_total', time: '1800', dedup: 'false' }],
  ['dedup=true', '/query_range', { query: 'http_requests_total', start: '0', end: '3600', step: '300', dedup: 'true' }],
  ['replicaLabels[]', '/query', { query: 'http_requests_total', time: '1800', 'replicaLabels[]': 'cluster' }],
  ['replicaLabels[] twice', '/query', { query: 'count(http_requests_total)', time: '1800', 'replicaLabels[]': 'cluster,replica' }],
  ['partial_response=true, a store down', '/query', { query: 'sum(flaky) or vector(1)', time: '1800', partial_response: 'true' }],
  ['partial_response=false, a store down', '/query', { query: 'sum(flaky) or vector(1)', time: '1800', partial_response: 'false' }],
  ['partial response by default, a store down', '/query_range', { query: 'count(flaky) or vector(1)', start: '0', end: '600', step: '60' }],
  ['max_source_resolution=auto', '/query_range', { ...ds, max_source_resolution: 'auto' }],
  ['max_source_resolution=1h', '/query_range', { ...ds, max_source_resolution: '1h' }],
  ['max_source_resolution=0 (raw only)', '/query_range', { ...ds, max_source_resolution: '0s' }],
  ['max_source_resolution=auto, instant', '/query', { query: 'ds_gauge', time: String((T0 + 12 * H) / 1000), max_source_resolution: 'auto' }],
  ['max_source_resolution=5m, instant', '/query', { query: 'ds_gauge', time: String((T0 + 12 * H) / 1000), max_source_resolution: '5m' }],
  ['lookback_delta', '/query', { query: 'gappy', time: '1830', lookback_delta: '20s' }],
  ['no lookback_delta', '/query', { query: 'gappy', time: '1830' }],
  ['shard_info 0', '/query', { query: 'http_requests_total', time: '1800', shard_info: '{"shard_index":0,"total_shards":2,"by":true,"labels":["job"]}' }],
  ['shard_info 1', '/query', { query: 'http_requests_total', time: '1800', shard_info: '{"shard_index":1,"total_shards":2,"by":true,"labels":["job"]}' }],
  ['engine=thanos', '/query', { query: 'sum(http_requests_total)', time: '1800', engine: 'thanos' }],
  ['storeMatch[]', '/query_range', { ...ds, max_source_resolution: 'auto', 'storeMatch[]': '{cluster="c2"}' }],
  ['subquery without step', '/query', { query: 'max_over_time(http_requests_total[10m:])', time: '1800' }],
  ['limit', '/query_range', { query: 'http_requests_total', start: '0', end: '600', step: '60', limit: '1' }],
  ['stats', '/query', { query: 'http_requests_total', time: '1800', stats: 'true' }],
];

const get = async (q: Querier, path: string, params: Record<string, string>) => {
  const res = await fetch(`http://127.0.0.1:${q.httpPort}/api/v1${path}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as Record<string, any>;
  // Timings differ from run to run; their names and the sample counts must not.
  const stats = body['data']?.stats;
  if (stats !== undefined) body['data'].stats = { timings: Object.keys(stats.timings).sort(), samples: stats.samples };
  return { status: res.status, body };
};

describe.each<[string, Partial<QuerierOptions>, Case[]]>([
  ['default flags', {}, []],
  [
    '--query.auto-downsampling, --query.instant.default.max_source_resolution=1h, --query.lookback-delta=20s, --query.default-evaluation-interval=5m, --no-query.partial-response, --store.response-timeout, --query.replica-label=cluster',
    {
      autoDownsampling: true,
      instantDefaultMaxSourceResolutionMs: H,
      lookbackDeltaMs: 20_000,
      defaultEvaluationIntervalMs: 300_000,
      partialResponse: false,
      storeResponseTimeoutMs: 1000,
      replicaLabels: ['replica', 'cluster'],
    },
    [
      // A store that sends nothing fails after --store.response-timeout, with storeMatch[] too.
      ['--store.response-timeout', '/query', { query: 'sum(hang) or vector(2)', time: '1800', partial_response: 'true' }],
      ['--store.response-timeout, storeMatch[]', '/query', { query: 'sum(hang) or vector(2)', time: '1800', partial_response: 'true', 'storeMatch[]': '{cluster="c3"}' }],
    ],
  ],
])('a querier with worker threads answers as without them: %s', (_name, flags, extra) => {
  let main: Querier;
  let workers: Querier;

  beforeAll(async () => {
    main = new Querier(testQuerierOptions(addrs, { endpointPollIntervalMs: 3_600_000, ...flags }));
    workers = new Querier(testQuerierOptions(addrs, { endpointPollIntervalMs: 3_600_000, workerThreads: 1, ...flags }));
    await Promise.all([main.start(), workers.start()]);
  });

  afterAll(async () => {
    await Promise.all([main?.stop(), workers?.stop()]);
  });

  test('the querier with workers really runs one (it would fall back to the main thread if it could not start it)', () => {
    expect([main.queryWorkerThreads, workers.queryWorkerThreads]).toEqual([0, 1]);
  });

  const flagCases: Case[] = [
    ['auto-downsampled range', '/query_range', ds],
    ['instant over downsampled data', '/query', { query: 'ds_gauge', time: String((T0 + 12 * H) / 1000) }],
    ['instant over the gap', '/query', { query: 'gappy', time: '1830' }],
  ];

  test.each([...requestCases, ...flagCases, ...extra])('%s', async (_case, path, params) => {
    const a = await get(main, path, params);
    const b = await get(workers, path, params);
    expect(b).toEqual(a);
  });
});
