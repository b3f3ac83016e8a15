import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { InMemoryBucket } from '../../objstore/index.js';
import type { SeriesResponse } from '../../storepb/index.js';
import type { BlockMeta } from '../../tsdb/index.js';
import { storeAPIAcceptanceSuite } from '../acceptance.js';
import { GrpcStoreClient } from '../grpc-client.js';
import { StoreGrpcServer } from '../grpc-server.js';
import { inProcessClient } from '../inprocess.js';
import { BucketStore } from './bucket-store.js';
import { writeTestBlock } from '../../testutil/index.js';

const api = { describe, test, beforeAll, afterAll };

/** Splits the series at `split` into two blocks, so every long series spans both. */
async function bucketStoreWith(series: Parameters<typeof writeTestBlock>[1], ext: Labels, opts: { split?: number } = {}): Promise<{ store: BucketStore; bucket: InMemoryBucket; metas: BlockMeta[]; close: () => Promise<void> }> {
  const bucket = new InMemoryBucket();
  const split = opts.split ?? 1_000_000 + 200 * 15_000;
  const metas = [await writeTestBlock(bucket, series, ext, { maxt: split, samplesPerChunk: 40 }), await writeTestBlock(bucket, series, ext, { mint: split, samplesPerChunk: 40 })];
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bstore-data-'));
  const store = new BucketStore({ bucket, dataDir, registry: new Registry(), partitionGap: 64 });
  await store.sync(new Map(metas.map((m) => [m.ulid, m])));
  return { store, bucket, metas, close: () => rm(dataDir, { recursive: true, force: true }) };
}

storeAPIAcceptanceSuite(api, 'BucketStore in process (two blocks)', async ({ series, externalLabels }) => {
  const s = await bucketStoreWith(series, externalLabels);
  return { client: inProcessClient(s.store, 'bucket'), close: s.close };
});

storeAPIAcceptanceSuite(api, 'BucketStore over gRPC', async ({ series, externalLabels }) => {
  const s = await bucketStoreWith(series, externalLabels);
  const server = new StoreGrpcServer(s.store);
  const port = await server.listen('127.0.0.1:0');
  const client = new GrpcStoreClient(`127.0.0.1:${port}`);
  return {
    client,
    close: async () => {
      client.close();
      await server.stop();
      await s.close();
    },
  };
});

const mk = (name: string, inst: string, n: number) => ({
  labels: Labels.fromStrings('__name__', name, 'instance', inst),
  samples: Array.from({ length: n }, (_, i) => [i * 1000, i] as const),
});

async function collect(store: BucketStore, req: Parameters<BucketStore['series']>[0]): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await store.series(req, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

describe('BucketStore', () => {
  test('nothing is read from the bucket until a query touches a block', async () => {
    const s = await bucketStoreWith([mk('a', 'x', 100)], Labels.fromStrings('ext', '1'), { split: 50_000 });
    try {
      expect(s.store.loadedBlocks()).toBe(0);
      const frames = await collect(s.store, { minTime: 0, maxTime: 10_000, matchers: [{ type: 0, name: '__name__', value: 'a' }] });
      expect(frames.filter((f) => f.kind === 'series')).toHaveLength(1);
      expect(s.store.loadedBlocks()).toBe(1); // only the block overlapping [0, 10s]
    } finally {
      await s.close();
    }
  });

  test('a corrupt index gives a warning for that block and data of the others', async () => {
    const s = await bucketStoreWith([mk('a', 'x', 100), mk('a', 'y', 100)], Labels.fromStrings('ext', '1'), { split: 50_000 });
    try {
      const bad = s.metas[0]!.ulid;
      const idx = await s.bucket.get(`${bad}/index`);
      idx[idx.length - 3]! ^= 0xff; // TOC CRC
      await s.bucket.upload(`${bad}/index`, idx);
      const frames = await collect(s.store, { minTime: 0, maxTime: 100_000, matchers: [{ type: 0, name: '__name__', value: 'a' }] });
      const warnings = frames.filter((f) => f.kind === 'warning');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.kind === 'warning' && warnings[0]!.warning).toContain(bad);
      const series = frames.flatMap((f) => (f.kind === 'series' ? [f.series] : []));
      expect(series.map((x) => x.labels.get('instance'))).toEqual(['x', 'y']);
      // Only the healthy block's chunks: all start at or after the split.
      for (const x of series) for (const c of x.chunks) expect(c.minTime).toBeGreaterThanOrEqual(50_000);
      // Reported again on the next query, never a crash.
      const again = await collect(s.store, { minTime: 0, maxTime: 100_000, matchers: [{ type: 0, name: '__name__', value: 'a' }] });
      expect(again.filter((f) => f.kind === 'warning')).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  test('limits fail the request with ResourceExhausted', async () => {
    const bucket = new InMemoryBucket();
    const meta = await writeTestBlock(bucket, [mk('a', 'x', 100), mk('a', 'y', 100), mk('a', 'z', 100)], Labels.EMPTY);
    for (const [limits, msg] of [
      [{ maxTouchedSeries: 2 }, /series limit/],
      [{ maxSamples: 150 }, /samples limit/],
      [{ maxDownloadedBytes: 200 }, /bytes limit/],
    ] as const) {
      const store = new BucketStore({ bucket, limits, registry: new Registry() });
      await store.sync(new Map([[meta.ulid, meta]]));
      await expect(collect(store, { minTime: 0, maxTime: 1e6, matchers: [{ type: 0, name: '__name__', value: 'a' }] })).rejects.toThrow(msg);
    }
  });

  test('postings and series come from the cache the second time', async () => {
    const bucket = new InMemoryBucket();
    const meta = await writeTestBlock(bucket, [mk('a', 'x', 100), mk('b', 'y', 100)], Labels.EMPTY);
    let reads = 0;
    const counting = new Proxy(bucket, {
      get(t, p, r) {
        if (p === 'getRange') return (...a: Parameters<InMemoryBucket['getRange']>) => (reads++, t.getRange(...a));
        const v = Reflect.get(t, p, r) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
    const store = new BucketStore({ bucket: counting, registry: new Registry() });
    await store.sync(new Map([[meta.ulid, meta]]));
    const req = { minTime: 0, maxTime: 1e6, skipChunks: true, matchers: [{ type: 0 as const, name: '__name__', value: 'a' }] };
    await collect(store, req);
    const first = reads;
    expect(first).toBeGreaterThan(0);
    await collect(store, req);
    expect(reads).toBe(first);
  });
});
