import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { GrpcStoreClient } from '../../pkg/store/index.js';
import type { SeriesRequest, SeriesResponse } from '../../pkg/storepb/index.js';
import { freePort, requireBinary, startProcess, startRedisServer, waitFor, waitForHttp, writeTestBlock, type ManagedProcess } from '../../pkg/testutil/index.js';

const redisBin = requireBinary('redis-server');
const repo = join(import.meta.dirname, '..', '..');

/** Series of the query as label string → number of chunks, and the raw chunk bytes joined. */
async function query(client: GrpcStoreClient): Promise<string[]> {
  const req: SeriesRequest = { minTime: -1e15, maxTime: 1e15, matchers: [{ type: 2, name: 'instance', value: 'host-(1|2|3)' }] };
  const out: string[] = [];
  for await (const batch of client.series(req)) {
    for (const f of batch as SeriesResponse[]) {
      const ss = f.kind === 'series' ? [f.series] : f.kind === 'batch' ? f.batch : [];
      for (const s of ss) out.push(`${s.labels.toString()} ${s.chunks.map((c) => Buffer.from(c.raw!.data).toString('base64')).join(',')}`);
    }
  }
  return out;
}

/**
 * `tessera store` with --index-cache.config and --store.caching-bucket.config of type REDIS on a
 * real redis-server: the flags reach the caches (warm queries read nothing from the bucket, as its
 * thanos_objstore_bucket_operations_total shows), a killed Redis costs no answer (failures counted).
 */
describe.skipIf(!redisBin)('tessera store with Redis caches', () => {
  let work = '';
  let redis: ManagedProcess | undefined;
  let store: ManagedProcess | undefined;
  let client: GrpcStoreClient | undefined;
  let http = '';
  let redisPort = 0;

  const metric = async (re: RegExp): Promise<number> => {
    const text = await (await fetch(`${http}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) if (re.test(line)) sum += Number(line.split(' ').pop());
    return sum;
  };
  const reads = () => metric(/^thanos_objstore_bucket_operations_total\{.*operation="get_range"/);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'tessera-e2e-store-redis-'));
    redisPort = await freePort();
    redis = await startRedisServer(redisBin!, redisPort, work);
    const bucketDir = join(work, 'bucket');
    const bkt = new FilesystemBucket({ directory: bucketDir });
    const series = Array.from({ length: 20 }, (_, i) => ({
      labels: Labels.fromStrings('__name__', 'up', 'instance', `host-${i}`),
      samples: Array.from({ length: 500 }, (_, k) => [k * 15_000, (k * (i + 1)) % 97] as const),
    }));
    await writeTestBlock(bkt, series, Labels.fromStrings('cluster', 'redis-e2e'), { samplesPerChunk: 120 });
    const cacheYml = join(work, 'index-cache.yml');
    const redisCfg = `type: REDIS\nconfig:\n  addr: 127.0.0.1:${redisPort}\n  read_timeout: 500ms\n  write_timeout: 500ms\n`;
    await writeFile(cacheYml, `${redisCfg}ttl: 1h\n`);
    const grpcPort = await freePort();
    const httpPort = await freePort();
    store = startProcess(process.execPath, [
      join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(repo, 'cmd', 'tessera.ts'),
      'store',
      `--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`,
      `--data-dir=${join(work, 'data')}`,
      `--grpc-address=127.0.0.1:${grpcPort}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--index-cache.config-file=${cacheYml}`,
      `--store.caching-bucket.config=${redisCfg}chunk_subrange_ttl: 1h\n`,
    ]);
    http = `http://127.0.0.1:${httpPort}`;
    try {
      await waitForHttp(`${http}/-/ready`, 60_000);
    } catch (err) {
      throw new Error(`tessera store did not become ready: ${(err as Error).message}\n${store.output()}`);
    }
    client = new GrpcStoreClient(`127.0.0.1:${grpcPort}`);
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await store?.stop();
    await redis?.kill();
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  test('warm queries come from Redis; with Redis killed the same answer comes from the bucket', async () => {
    const first = await query(client!);
    expect(first).toHaveLength(3);
    // Redis writes are asynchronous: wait until a query reads nothing from the bucket.
    await waitFor('a query served from Redis', async () => {
      const before = await reads();
      expect(await query(client!)).toEqual(first);
      return (await reads()) === before;
    });
    expect(await metric(/^tessera_store_cache_operation_failures_total/)).toBe(0);

    await redis!.kill();
    const before = await reads();
    expect(await query(client!)).toEqual(first);
    expect(await reads()).toBeGreaterThan(before);
    expect(await metric(/^tessera_store_cache_operation_failures_total\{cache="index",operation="get"\}/)).toBeGreaterThan(0);
    expect(store!.proc.exitCode).toBeNull();
  }, 60_000);
});
