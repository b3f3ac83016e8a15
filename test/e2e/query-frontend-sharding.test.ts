import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { Querier } from '../../pkg/querier/index.js';
import { QueryFrontend } from '../../pkg/query-frontend/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer } from '../../pkg/store/index.js';
import { rangeQuery } from './query-frontend-fixture.js';
import { testQuerierOptions } from '../../pkg/testutil/index.js';

const T0 = Date.UTC(2026, 0, 1);
const H = 3_600_000;
const END = T0 + 12 * H;
const JOBS = ['api', 'db', 'web', 'cache'];
const INSTANCES = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'];
const LE = ['0.1', '1', '+Inf'];

/** Generated data: per job and instance a counter, a gauge and a classic histogram; replica a has a gap. */
function series(replica: string, offsetMs: number, gap?: [number, number]) {
  const out = [];
  for (const [j, job] of JOBS.entries()) {
    for (const [k, instance] of INSTANCES.entries()) {
      const seed = j * 10 + k + 1;
      const ts: number[] = [];
      for (let t = T0 + offsetMs; t < END; t += 60_000) if (gap === undefined || t < gap[0] || t >= gap[1]) ts.push(t);
      // Series come and go: instance i6 of every job only exists in the first half.
      const live = instance === 'i6' ? ts.filter((t) => t < T0 + 6 * H) : ts;
      let c = 0;
      out.push({
        labels: Labels.fromRecord({ __name__: 'http_requests_total', job, instance }),
        samples: live.map((t) => [t, (c += (seed * (t / 60_000)) % 11)] as const),
      });
      out.push({
        labels: Labels.fromRecord({ __name__: 'temperature', job, instance }),
        samples: live.map((t) => [t, 50 + 30 * Math.sin((t - T0) / H / ((seed % 5) + 1)) + seed / 10] as const),
      });
      const counts = [0, 0, 0];
      for (const [b, le] of LE.entries()) {
        out.push({
          labels: Labels.fromRecord({ __name__: 'req_duration_bucket', job, instance, le }),
          samples: live.map((t) => {
            counts[b] = (counts[b] ?? 0) + ((t / 60_000) % (seed + 2)) + b * seed;
            return [t, counts[b]!] as const;
          }),
        });
      }
    }
  }
  return out;
}

/** Range-query templates: shardable (grouped) ones, plus some that are not. */
const GROUPS = ['job', 'instance', 'job, instance', 'cluster', 'replica'];
const TEMPLATES = [
  (g: string) => `sum by (${g}) (rate(http_requests_total[5m]))`,
  () => 'avg without (instance) (temperature)',
  (g: string) => `max by (${g}) (temperature) - on (${g}) min by (${g}) (temperature)`,
  (g: string) => `histogram_quantile(0.9, sum by (${g}, le) (rate(req_duration_bucket[10m])))`,
  (g: string) => `count by (${g}) (temperature > 60)`,
  () => 'topk by (job) (2, temperature)',
  () => 'sum by (job) (rate(http_requests_total[5m])) or vector(0)',
  () => 'sum without (replica) (temperature)',
  () => 'quantile by (job) (0.5, temperature)',
  () => 'sum by (job, zone) (label_replace(temperature, "zone", "$1", "instance", "i(.)"))',
  () => 'count_values by (job) ("v", round(temperature / 10))',
  (g: string) => `max_over_time(sum by (${g}) (rate(http_requests_total[5m]))[30m:2m])`,
  (g: string) => `sum by (${g}) (temperature) / on (${g}) group_left sum by (${g}) (temperature)`,
  () => 'sum(temperature)',
  () => 'rate(http_requests_total{job="db"}[5m])',
];

/**
 * Vertical sharding through a real querier over two replica stores: each shard reads a disjoint
 * part of the series, and the frontend's merged answer equals the unsharded one exactly.
 */
describe('query-frontend --query-frontend.vertical-shards in front of tessera query', () => {
  const stores: StoreGrpcServer[] = [];
  let querier: Querier;
  let qurl: string;
  const fes: { fe: QueryFrontend; url: string; n: number }[] = [];

  beforeAll(async () => {
    const endpoints: string[] = [];
    for (const [replica, offset, gap] of [['a', 0, [T0 + 5 * H, T0 + 5 * H + 40 * 60_000]], ['b', 250, undefined]] as const) {
      const q = new MemChunkQueryable(series(replica, offset, gap === undefined ? undefined : [gap[0], gap[1]]));
      const s = new StoreGrpcServer(
        new LocalStore({ queryable: q, externalLabels: Labels.fromRecord({ cluster: 'c1', replica }), componentType: 'sidecar', timeRange: () => q.timeRange() }),
      );
      endpoints.push(`127.0.0.1:${await s.listen('127.0.0.1:0')}`);
      stores.push(s);
    }
    // With query worker threads, as `tessera query` runs by default: shard_info crosses to them.
    querier = new Querier(testQuerierOptions(endpoints, { timeoutMs: 60_000, maxConcurrent: 16, maxSamples: 50_000_000, infoTimeoutMs: 2000, workerThreads: 2 }));
    await querier.start();
    qurl = `http://127.0.0.1:${querier.httpPort}`;
    for (const n of [2, 3, 5]) {
      const fe = new QueryFrontend({
        httpAddress: '127.0.0.1:0',
        downstreamUrl: qurl,
        splitIntervalMs: 4 * H,
        alignRangeWithStep: false,
        maxRetries: 1,
        maxQueryLengthMs: 0,
        maxQueryParallelism: 8,
        maxFreshnessMs: 60_000,
        labelsSplitIntervalMs: 0,
        logQueriesLongerThanMs: 0,
        forwardHeaders: [],
        verticalShards: n,
      });
      await fe.start();
      fes.push({ fe, url: `http://127.0.0.1:${fe.httpPort}`, n });
    }
  }, 60_000);

  afterAll(async () => {
    for (const f of fes) await f.fe.stop();
    await querier?.stop();
    for (const s of stores) await s.stop(100);
  });

  const keys = (body: { data: { result: { metric: Record<string, string> }[] } }) => body.data.result.map((s) => JSON.stringify(s.metric));

  test('the querier reads only the shard: shard answers are disjoint, each smaller, and their union is the answer', async () => {
    const cases: [string, Record<string, unknown>, Record<string, string>][] = [
      ['sum by (instance) (rate(http_requests_total[5m]))', { by: true, labels: ['instance'] }, {}],
      ['sum without (instance) (temperature)', { labels: ['instance', '__name__'] }, { dedup: 'false' }],
      // Under dedup the replica label must not decide the shard, or replicas part ways.
      ['sum without (job) (temperature)', { labels: ['job', '__name__'] }, {}],
    ];
    for (const [query, info, extra] of cases) {
      const params = { query, start: String((T0 + H) / 1000), end: String((T0 + 7 * H) / 1000), step: '300', ...extra };
      const whole = await rangeQuery(qurl, params);
      expect(whole.status).toBe(200);
      const all = keys(whole.body).sort();
      const union: string[] = [];
      for (let i = 0; i < 3; i++) {
        const part = await rangeQuery(qurl, { ...params, shard_info: JSON.stringify({ shard_index: i, total_shards: 3, ...info }) });
        expect(part.status).toBe(200);
        expect(keys(part.body).length, query).toBeLessThan(all.length);
        for (const s of part.body.data.result) expect(whole.body.data.result, query).toContainEqual(s);
        union.push(...keys(part.body));
      }
      expect(union.sort(), query).toEqual(all);
    }
    const bad = await rangeQuery(qurl, { query: 'up', start: '0', end: '60', step: '60', shard_info: '{"total_shards":2,"shard_index":5}' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/shard_info/);
  });

  test('property: sharded answers equal unsharded ones for random queries, groupings, ranges, steps and shard counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          t: fc.nat(TEMPLATES.length - 1),
          g: fc.nat(GROUPS.length - 1),
          fe: fc.nat(fes.length - 1),
          step: fc.constantFrom(60_000, 300_000, 420_000, 1_800_000),
          startMin: fc.integer({ min: -30, max: 11 * 60 }),
          n: fc.integer({ min: 1, max: 120 }),
          dedup: fc.constantFrom('true', 'false', ''),
        }),
        async (c) => {
          const start = T0 + c.startMin * 60_000;
          const params: Record<string, string> = {
            query: TEMPLATES[c.t]!(GROUPS[c.g]!),
            start: String(start / 1000),
            end: String((start + (c.n - 1) * c.step) / 1000),
            step: String(c.step / 1000),
            ...(c.dedup !== '' ? { dedup: c.dedup } : {}),
          };
          const want = await rangeQuery(qurl, params);
          expect(want.status, JSON.stringify(params)).toBe(200);
          expect(await rangeQuery(fes[c.fe]!.url, params), JSON.stringify(params)).toEqual(want);
        },
      ),
      { numRuns: 40 },
    );
    // Most of those queries were sharded; none had to be asked again unsharded.
    let shardable = 0;
    for (const f of fes) {
      const text = await (await fetch(`${f.url}/metrics`)).text();
      shardable += Number(/tessera_query_frontend_sharding_queries_total\{shardable="true"\} (\d+)/.exec(text)?.[1] ?? 0);
      expect(text).toMatch(/tessera_query_frontend_sharding_fallbacks_total 0/);
    }
    expect(shardable).toBeGreaterThan(20);
  });
});
