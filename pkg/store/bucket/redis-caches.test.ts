import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RedisClient } from '../../cache/index.js';
import { Labels } from '../../labels/index.js';
import { InMemoryBucket, InstrumentedBucket, newBucketMetrics } from '../../objstore/index.js';
import type { SeriesResponse } from '../../storepb/index.js';
import { freePort, requireBinary, startRedisServer, waitFor, writeTestBlock, type ManagedProcess } from '../../testutil/index.js';
import { BucketStore } from './bucket-store.js';
import { parseCachingBucketConfig, parseIndexCacheConfig } from './store-cache-config.js';

const redisBin = requireBinary('redis-server');

const series = Array.from({ length: 60 }, (_, i) => ({
  labels: Labels.fromStrings('__name__', i % 2 === 0 ? 'http_requests_total' : 'cpu_seconds_total', 'instance', `host-${i}`, 'job', i % 3 === 0 ? 'api' : 'web'),
  samples: Array.from({ length: 600 }, (_, k) => [k * 15_000, k * (i + 1)] as const),
}));

const queries = [
  { minTime: 0, maxTime: 1e8, matchers: [{ type: 0 as const, name: '__name__', value: 'http_requests_total' }] },
  { minTime: 0, maxTime: 1e8, matchers: [{ type: 2 as const, name: 'instance', value: 'host-[1-4]' }, { type: 0 as const, name: 'job', value: 'web' }] },
  { minTime: 3_000_000, maxTime: 6_000_000, matchers: [{ type: 1 as const, name: 'job', value: 'api' }] },
];

async function run(store: BucketStore, req: (typeof queries)[number]): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await store.series(req, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

/**
 * The store's index cache and chunk cache on a real redis-server (--index-cache.config and
 * --store.caching-bucket.config with type REDIS, no memory in front): queries answered from Redis
 * read nothing from the bucket, a second store replica shares the entries, a killed Redis turns
 * into misses (answers unchanged, read from the bucket), and a restarted one is used again.
 */
describe.skipIf(!redisBin)('store index and chunk caches on Redis', () => {
  let redis: ManagedProcess | undefined;
  let port = 0;
  let dir = '';
  const base = new InMemoryBucket();
  const registry = new Registry();
  const bucket = new InstrumentedBucket(base, newBucketMetrics(registry), 'blocks');
  const clients: RedisClient[] = [];
  let errors = 0;
  let metaMap: Map<string, Awaited<ReturnType<typeof writeTestBlock>>>;
  const want: SeriesResponse[][] = [];

  /** bucketReads is the number of get_range calls on index and chunk files so far. */
  const bucketReads = async (): Promise<number> => {
    const m = await registry.getSingleMetric('thanos_objstore_bucket_operations_total')!.get();
    return m.values.filter((v) => v.labels['operation'] === 'get_range' || v.labels['operation'] === 'get').reduce((a, v) => a + v.value, 0);
  };
  const startRedis = async () => {
    redis = await startRedisServer(redisBin!, port, dir);
  };
  const newStore = async (): Promise<BucketStore> => {
    const yaml = `type: REDIS\nconfig:\n  addr: 127.0.0.1:${port}\n  dial_timeout: 500ms\n  read_timeout: 500ms\n  write_timeout: 500ms\n`;
    const index = parseIndexCacheConfig(`${yaml}ttl: 1h\n`)!;
    const chunks = parseCachingBucketConfig(`${yaml}chunk_subrange_ttl: 1h\n`)!;
    const ic = new RedisClient(index.redis!, () => void errors++);
    const cc = new RedisClient(chunks.redis!, () => void errors++);
    clients.push(ic, cc);
    expect(await ic.waitReady(10_000)).toBe(true);
    expect(await cc.waitReady(10_000)).toBe(true);
    const store = new BucketStore({
      bucket,
      indexCacheBytes: index.inMemoryBytes,
      chunkCacheBytes: chunks.inMemoryBytes,
      indexCacheRemote: { cache: ic, ttlMs: index.ttlMs },
      chunkCacheRemote: { cache: cc, ttlMs: chunks.ttlMs },
      registry: new Registry(),
      partitionGap: 64,
    });
    await store.sync(metaMap);
    return store;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-store-redis-'));
    port = await freePort();
    await startRedis();
    const meta = await writeTestBlock(base, series, Labels.fromStrings('cluster', 'redis-test'), { samplesPerChunk: 60 });
    metaMap = new Map([[meta.ulid, meta]]);
    // The answers of a store without any cache.
    const plain = new BucketStore({ bucket: base, registry: new Registry(), indexCacheBytes: 0, chunkCacheBytes: 0 });
    await plain.sync(metaMap);
    for (const q of queries) want.push(await run(plain, q));
    for (const w of want) expect(w.filter((f) => f.kind === 'series').length).toBeGreaterThan(0);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await redis?.kill();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('the cache configs parse to Redis without memory in front', () => {
    const c = parseIndexCacheConfig(`type: REDIS\nconfig:\n  addr: 127.0.0.1:${port}\n  db: 2\nttl: 1h\nenabled_items: [Postings, Series]\n`)!;
    expect(c).toMatchObject({ type: 'REDIS', inMemoryBytes: 0, ttlMs: 3_600_000, enabledItems: ['Postings', 'Series'], redis: { addr: `127.0.0.1:${port}`, db: 2 } });
    expect(parseCachingBucketConfig(`type: IN-MEMORY\nconfig:\n  max_size: 64MB\nchunk_subrange_size: 16000\n`)).toMatchObject({ type: 'IN-MEMORY', inMemoryBytes: 64 * 1024 * 1024 });
    expect(() => parseIndexCacheConfig('type: MEMCACHED\nconfig:\n  addresses: [x]\n')).toThrow(/MEMCACHED is not supported/);
    expect(() => parseIndexCacheConfig('type: REDIS\nconfig:\n  adr: x\n')).toThrow(/field adr not found in type REDIS/);
    expect(() => parseCachingBucketConfig('type: REDIS\nconfig:\n  addr: x\nchunk_subrange_ttl: soon\n')).toThrow(/chunk_subrange_ttl/);
  });

  test('a repeated query is served from Redis: no index or chunk reads from the bucket; a second replica shares the entries', async () => {
    const a = await newStore();
    const r0 = await bucketReads();
    for (let i = 0; i < queries.length; i++) expect(await run(a, queries[i]!)).toEqual(want[i]);
    const cold = (await bucketReads()) - r0;
    expect(cold).toBeGreaterThan(queries.length);
    // Writes to Redis are asynchronous: wait until the warm run reads nothing from the bucket.
    await waitFor('warm queries served from Redis', async () => {
      const before = await bucketReads();
      for (let i = 0; i < queries.length; i++) expect(await run(a, queries[i]!)).toEqual(want[i]);
      return (await bucketReads()) === before;
    });
    // A fresh replica reads only its index-header from the bucket; postings, series and chunks come from Redis.
    const b = await newStore();
    const r1 = await bucketReads();
    for (let i = 0; i < queries.length; i++) expect(await run(b, queries[i]!)).toEqual(want[i]);
    const replica = (await bucketReads()) - r1;
    expect(replica).toBeLessThan(cold);
    const before = await bucketReads();
    for (let i = 0; i < queries.length; i++) expect(await run(b, queries[i]!)).toEqual(want[i]);
    expect(await bucketReads()).toBe(before);
    expect(errors).toBe(0);
  });

  test('Redis killed mid-run: the same answers, read from the bucket; restarted: used again', async () => {
    const store = await newStore();
    for (let i = 0; i < queries.length; i++) expect(await run(store, queries[i]!)).toEqual(want[i]);
    await redis!.kill();
    const r0 = await bucketReads();
    for (let i = 0; i < queries.length; i++) expect(await run(store, queries[i]!)).toEqual(want[i]);
    expect((await bucketReads()) - r0).toBeGreaterThan(queries.length);
    expect(errors).toBeGreaterThan(0);

    await startRedis();
    // Reconnected (ioredis retries in the background), the empty Redis is filled again and then serves.
    await waitFor(
      'queries served from the restarted Redis',
      async () => {
        const before = await bucketReads();
        for (let i = 0; i < queries.length; i++) expect(await run(store, queries[i]!)).toEqual(want[i]);
        return (await bucketReads()) === before;
      },
      30_000,
    );
  }, 60_000);
});
