import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { InMemoryBucket } from '../../objstore/index.js';
import { PartialResponseStrategy, type SeriesResponse } from '../../storepb/index.js';
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

  test('series entries decoded once are reused: warm queries equal a store without index cache, for any time range', async () => {
    const s = await bucketStoreWith([mk('a', 'x', 500), mk('a', 'y', 500), mk('b', 'z', 300), mk('a', 'w', 40)], Labels.fromStrings('ext', '1'), { split: 300_000 });
    const registry = new Registry();
    const warm = new BucketStore({ bucket: s.bucket, registry });
    const plain = new BucketStore({ bucket: s.bucket, registry: new Registry(), indexCacheBytes: 0 });
    try {
      for (const st of [warm, plain]) await st.sync(new Map(s.metas.map((m) => [m.ulid, m])));
      const seriesLookups = async () => Number(/item_type="Series"} (\d+)/.exec(await registry.getSingleMetricAsString('thanos_store_index_cache_requests_total'))?.[1]);
      const reqs = [
        { minTime: 0, maxTime: 1e9, matchers: [{ type: 2 as const, name: '__name__', value: 'a|b' }] },
        // Part of the chunks of one block, none of the other for some series (w ends at 39 s).
        { minTime: 100_000, maxTime: 200_000, matchers: [{ type: 2 as const, name: '__name__', value: 'a|b' }] },
        { minTime: 250_000, maxTime: 350_000, matchers: [{ type: 2 as const, name: '__name__', value: 'a|b' }] },
        { minTime: 100_000, maxTime: 4_000_000, matchers: [{ type: 0 as const, name: '__name__', value: 'a' }], skipChunks: true },
        { minTime: 0, maxTime: 1e9, matchers: [{ type: 0 as const, name: '__name__', value: 'a' }], withoutReplicaLabels: ['ext'] },
      ];
      for (const req of reqs) {
        const want = await collect(plain, req);
        expect(want.length).toBeGreaterThan(0);
        const cold = await collect(warm, req);
        const before = await seriesLookups();
        const hot = await collect(warm, req);
        // The second query found every entry decoded: as many lookups (and hits) as entries.
        expect(await seriesLookups()).toBeGreaterThan(before);
        expect(cold).toEqual(want);
        expect(hot).toEqual(want);
        // Only chunks overlapping the range (the reference shares the selection code).
        for (const f of hot) if (f.kind === 'series') for (const c of f.series.chunks) expect(c.maxTime >= req.minTime && c.minTime <= req.maxTime).toBe(true);
      }
    } finally {
      await s.close();
    }
  });

  test('a series from blocks whose ULID order is not their time order gets its chunks in time order', async () => {
    const bucket = new InMemoryBucket();
    const series = [mk('a', 'x', 600), mk('a', 'y', 600)];
    // The later block gets the smaller ULID (set explicitly: generated ones within one millisecond may come in either order).
    const late = await withUlid(bucket, await writeTestBlock(bucket, series, Labels.EMPTY, { mint: 300_000, samplesPerChunk: 40 }), '01AAAAAAAAAAAAAAAAAAAAAAAA');
    const early = await withUlid(bucket, await writeTestBlock(bucket, series, Labels.EMPTY, { maxt: 300_000, samplesPerChunk: 40 }), '01BBBBBBBBBBBBBBBBBBBBBBBB');
    expect(late.ulid < early.ulid && late.minTime > early.minTime).toBe(true);
    const store = new BucketStore({ bucket, registry: new Registry() });
    await store.sync(new Map([late, early].map((m) => [m.ulid, m])));
    for (const req of [{ minTime: 0, maxTime: 1e9 }, { minTime: 250_000, maxTime: 350_000 }]) {
      for (let round = 0; round < 2; round++) {
        const frames = await collect(store, { ...req, matchers: [{ type: 0, name: '__name__', value: 'a' }] });
        const got = frames.flatMap((f) => (f.kind === 'series' ? [f.series] : []));
        expect(got).toHaveLength(2);
        for (const x of got) {
          const mins = x.chunks.map((c) => c.minTime);
          expect(mins).toEqual([...mins].sort((a, b) => a - b));
          expect(mins.some((t) => t < 300_000) && mins.some((t) => t >= 300_000)).toBe(true);
        }
      }
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

  describe('a truncated chunk file of one replica', () => {
    // Two replicas' blocks over the same range, 20 series each; replica a's chunk file is cut in
    // the middle, as with `truncate -s`.
    const hosts = Array.from({ length: 20 }, (_, i) => mk('up', `host-${String(i).padStart(2, '0')}`, 2000));
    let bucket: InMemoryBucket;
    let a: BlockMeta;
    let b: BlockMeta;
    let cut: number;
    let whole: Uint8Array;
    beforeAll(async () => {
      bucket = new InMemoryBucket();
      a = await writeTestBlock(bucket, hosts, Labels.fromStrings('replica', 'a'), { samplesPerChunk: 120 });
      b = await writeTestBlock(bucket, hosts, Labels.fromStrings('replica', 'b'), { samplesPerChunk: 120 });
      const seg = await bucket.get(`${a.ulid}/chunks/000001`);
      whole = seg.slice();
      cut = Math.floor(seg.length / 2);
      await bucket.upload(`${a.ulid}/chunks/000001`, seg.subarray(0, cut));
    });
    const req = (o: Partial<Parameters<BucketStore['series']>[0]> = {}) => ({ minTime: 0, maxTime: 2_000_000, matchers: [{ type: 0 as const, name: '__name__', value: 'up' }], ...o });
    const newStore = async (registry = new Registry()) => {
      const store = new BucketStore({ bucket, registry, chunkCacheBytes: 0 });
      await store.sync(new Map([a, b].map((m) => [m.ulid, m])));
      return store;
    };
    const samples = (frames: SeriesResponse[]) => {
      const out = new Map<string, number>();
      for (const f of frames) if (f.kind === 'series') out.set(f.series.labels.toString(), f.series.chunks.length);
      return out;
    };

    test('replica labels dropped: every series complete from replica b, one warning naming block, file and offset', async () => {
      const registry = new Registry();
      const store = await newStore(registry);
      const frames = await collect(store, req({ withoutReplicaLabels: ['replica'] }));
      const got = samples(frames);
      expect(got.size).toBe(20);
      // Every series has at least replica b's 17 chunks (2000 samples / 120).
      for (const n of got.values()) expect(n).toBeGreaterThanOrEqual(17);
      const warnings = frames.flatMap((f) => (f.kind === 'warning' ? [f.warning] : []));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(new RegExp(`read chunk in ${a.ulid}/chunks/000001 at offset \\d+: .*left out \\d+ series of block ${a.ulid}, \\d+ of them covered by other replicas`));
      const m = await registry.metrics();
      expect(m).toMatch(/tessera_bucket_store_chunk_read_failures_total\{reason="corrupt"\} [1-9]/);
      expect(m).toMatch(/tessera_bucket_store_series_left_out_total\{covered="true"\} [1-9]/);
      expect(m).toMatch(/tessera_bucket_store_failed_blocks 1\b/);
      expect(store.blocks().get(a.ulid)!.badChunks.size).toBeGreaterThan(0);
      // Retried on the next query: still served, still reported.
      const again = await collect(store, req({ withoutReplicaLabels: ['replica'] }));
      expect(samples(again).size).toBe(20);
      expect(again.filter((f) => f.kind === 'warning')).toHaveLength(1);
    });

    test('partial response disabled succeeds when the other replica covers the data', async () => {
      const store = await newStore();
      const frames = await collect(store, req({ withoutReplicaLabels: ['replica'], partialResponseDisabled: true, partialResponseStrategy: PartialResponseStrategy.ABORT }));
      expect(samples(frames).size).toBe(20);
      expect(frames.filter((f) => f.kind === 'warning')).toHaveLength(0);
    });

    test('replicas kept apart: replica b complete, replica a without only its unreadable series; ABORT fails', async () => {
      const store = await newStore();
      const frames = await collect(store, req());
      const got = samples(frames);
      const fromB = [...got.keys()].filter((k) => k.includes('replica="b"'));
      const fromA = [...got.keys()].filter((k) => k.includes('replica="a"'));
      expect(fromB).toHaveLength(20);
      // The first series' chunks lie before the cut, the last ones' after it.
      expect(fromA.length).toBeGreaterThan(0);
      expect(fromA.length).toBeLessThan(20);
      const warnings = frames.flatMap((f) => (f.kind === 'warning' ? [f.warning] : []));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`left out ${20 - fromA.length} series of block ${a.ulid}`);
      await expect(collect(store, req({ partialResponseDisabled: true, partialResponseStrategy: PartialResponseStrategy.ABORT }))).rejects.toThrow(/has no other replica covering it/);
      // A query that touches only readable chunks has no warning.
      const first = await collect(store, req({ matchers: [{ type: 0, name: 'instance', value: 'host-00' }] }));
      expect(samples(first).size).toBe(2);
      expect(first.filter((f) => f.kind === 'warning')).toHaveLength(0);
    });

    test('replicas kept apart with the replica-label hint: ABORT succeeds (replica b covers), labels kept; a wrong hint still fails', async () => {
      const store = await newStore();
      const strict = { partialResponseDisabled: true, partialResponseStrategy: PartialResponseStrategy.ABORT } as const;
      const frames = await collect(store, req({ ...strict, replicaLabelsHint: ['replica'] }));
      const got = samples(frames);
      expect([...got.keys()].filter((k) => k.includes('replica="b"'))).toHaveLength(20);
      expect([...got.keys()].filter((k) => k.includes('replica="a"')).length).toBeLessThan(20);
      expect(frames.filter((f) => f.kind === 'warning')).toHaveLength(0);
      // A hint naming a label that does not tell the blocks apart finds no other replica.
      await expect(collect(store, req({ ...strict, replicaLabelsHint: ['cluster'] }))).rejects.toThrow(/has no other replica covering it/);
    });

    test('the marked block is retried: once its chunk file reads again, every series is served and the marks are cleared', async () => {
      const registry = new Registry();
      const store = await newStore(registry);
      const broken = await collect(store, req());
      expect(broken.filter((f) => f.kind === 'warning')).toHaveLength(1);
      expect(store.blocks().get(a.ulid)!.badChunks.size).toBeGreaterThan(0);
      expect(await registry.metrics()).toMatch(/tessera_bucket_store_failed_blocks 1\b/);
      // The file is repaired in the bucket (e.g. re-uploaded); the same store process reads it again.
      await bucket.upload(`${a.ulid}/chunks/000001`, whole);
      try {
        const frames = await collect(store, req());
        const got = samples(frames);
        expect([...got.keys()].filter((k) => k.includes('replica="a"'))).toHaveLength(20);
        expect([...got.keys()].filter((k) => k.includes('replica="b"'))).toHaveLength(20);
        expect(frames.filter((f) => f.kind === 'warning')).toHaveLength(0);
        expect(store.blocks().get(a.ulid)!.badChunks.size).toBe(0);
        expect(await registry.metrics()).toMatch(/tessera_bucket_store_failed_blocks 0\b/);
      } finally {
        await bucket.upload(`${a.ulid}/chunks/000001`, whole.subarray(0, cut));
      }
    });
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

/** withUlid moves a block's objects in bucket under the given ULID and returns its meta with that ULID. */
async function withUlid(bucket: InMemoryBucket, meta: BlockMeta, ulid: string): Promise<BlockMeta> {
  const names: string[] = [];
  for await (const name of bucket.iter(meta.ulid, { recursive: true })) names.push(name);
  for (const name of names) {
    await bucket.upload(ulid + name.slice(meta.ulid.length), await bucket.get(name));
    await bucket.delete(name);
  }
  return { ...meta, ulid };
}
