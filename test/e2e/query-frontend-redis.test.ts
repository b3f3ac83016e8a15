import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QueryFrontend } from '../../pkg/query-frontend/index.js';
import { freePort, redisCommand, requireBinary, startRedisServer, waitFor, type ManagedProcess } from '../../pkg/testutil/index.js';
import { DATA_END, DAY, QUERIES, T0, rangeQuery, startQuerierFixture, type QuerierFixture } from './query-frontend-fixture.js';

const redisBin = requireBinary('redis-server');

/**
 * The query-frontend with a REDIS results cache on a real redis-server: warm answers come from
 * Redis; with Redis killed, paused (slow) or restarted, every query still answers 200 with the
 * querier's exact answer, and the failed cache operations are counted in /metrics.
 */
describe.skipIf(!redisBin)('query-frontend with a Redis results cache', () => {
  let querier: QuerierFixture;
  let redis: ManagedProcess | undefined;
  let port = 0;
  let dir = '';
  let fe: QueryFrontend;
  let url = '';

  const startRedis = async () => {
    redis = await startRedisServer(redisBin!, port, dir);
  };
  const metric = async (re: RegExp): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) if (re.test(line)) sum += Number(line.split(' ').pop());
    return sum;
  };
  const params = (i: number) => ({
    query: QUERIES[i % QUERIES.length]!,
    start: String((DATA_END - DAY / 2 - (i % 3) * 3_600_000) / 1000),
    end: String((DATA_END - 1_800_000) / 1000),
    step: i % 2 === 0 ? '60' : '300',
  });
  /** checkAll runs n queries through the frontend and the querier; all must be 200 and equal. */
  const checkAll = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const p = params(i);
      const [got, want] = await Promise.all([rangeQuery(url, p), rangeQuery(querier.url, p)]);
      expect(got.status, p.query).toBe(200);
      expect(got, p.query).toEqual(want);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-qfe-redis-'));
    port = await freePort();
    await startRedis();
    querier = await startQuerierFixture();
    fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: querier.url,
      splitIntervalMs: 3 * 3_600_000,
      alignRangeWithStep: false,
      maxRetries: 2,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 8,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 6 * 3_600_000,
      labelsResponseCacheConfig: `type: REDIS\nconfig:\n  addr: 127.0.0.1:${port}\n  db: 1\n  dial_timeout: 300ms\n  read_timeout: 300ms\n  write_timeout: 300ms\n`,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      responseCacheConfig: `type: REDIS\nconfig:\n  addr: 127.0.0.1:${port}\n  db: 0\n  dial_timeout: 300ms\n  read_timeout: 300ms\n  write_timeout: 300ms\n  expiration: 1h\n`,
      now: () => DATA_END + DAY,
    });
    await fe.start();
    url = `http://127.0.0.1:${fe.httpPort}`;
  });

  afterAll(async () => {
    await fe?.stop();
    await querier?.stop();
    await redis?.kill();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('cold, then warm from Redis: equal answers, entries in Redis, hits counted', async () => {
    await checkAll(6);
    expect(Number((await redisCommand(port, 'DBSIZE')).slice(1))).toBeGreaterThan(0);
    const hits = await metric(/^tessera_query_frontend_cache_hits_total\{cache="REDIS"\}/);
    await checkAll(6);
    expect(await metric(/^tessera_query_frontend_cache_hits_total\{cache="REDIS"\}/)).toBeGreaterThan(hits);
  });

  test('labels, label values and series from the Redis labels cache equal the querier', async () => {
    const s = String((T0 + 1_800_000) / 1000);
    const e = String((T0 + 2 * DAY + 3_600_000) / 1000);
    const paths = [`/api/v1/labels?start=${s}&end=${e}`, `/api/v1/label/instance/values?start=${s}&end=${e}&match[]=temperature`, `/api/v1/series?match[]=temperature&start=${s}&end=${e}`];
    const check = async () => {
      for (const p of paths) {
        const [got, want] = await Promise.all([fetch(url + p), fetch(querier.url + p)]);
        expect(got.status, p).toBe(200);
        expect(await got.json(), p).toEqual(await want.json());
      }
    };
    await check();
    const hits = await metric(/^tessera_query_frontend_labels_cache_hits_total/);
    await check();
    expect(await metric(/^tessera_query_frontend_labels_cache_hits_total/)).toBeGreaterThan(hits);
  });

  test('Redis paused (slow past read_timeout): every query still 200 and equal, timeouts counted', async () => {
    const errors = await metric(/^tessera_query_frontend_cache_errors_total/);
    redis!.proc.kill('SIGSTOP');
    try {
      await checkAll(3);
    } finally {
      redis!.proc.kill('SIGCONT');
    }
    expect(await metric(/^tessera_query_frontend_cache_errors_total/)).toBeGreaterThan(errors);
  });

  test('Redis killed mid-test: every query still 200 and equal; restarted, the cache fills again', async () => {
    const errors = await metric(/^tessera_query_frontend_cache_errors_total/);
    const running = checkAll(6);
    await redis!.kill();
    await running;
    await checkAll(6);
    expect(await metric(/^tessera_query_frontend_cache_errors_total/)).toBeGreaterThan(errors);
    await startRedis();
    expect(await redisCommand(port, 'DBSIZE')).toBe(':0');
    await waitFor('the frontend to write to the restarted Redis', async () => {
      await checkAll(1);
      return Number((await redisCommand(port, 'DBSIZE')).slice(1)) > 0;
    }, 20_000, 200);
  });
});
