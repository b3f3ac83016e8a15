import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { InMemoryBucket } from '../../objstore/index.js';
import { encodeSeriesResponse, xxhash64, type SeriesResponse, type StoreChunk } from '../../storepb/index.js';
import { writeTestBlock } from '../../testutil/index.js';
import { toAggrChunk } from './aggr-chunk.js';
import { BucketStore } from './bucket-store.js';
import { ChunkCache } from './chunk-cache.js';

const mk = (name: string, inst: string, n: number) => ({
  labels: Labels.fromStrings('__name__', name, 'instance', inst),
  samples: Array.from({ length: n }, (_, i) => [i * 1000, i * 1.5] as const),
});

/** A bucket counting getRange calls on chunk segment files. */
function countingBucket(bucket: InMemoryBucket): { bucket: InMemoryBucket; chunkReads: () => number } {
  let reads = 0;
  const counting = new Proxy(bucket, {
    get(t, p, r) {
      if (p === 'getRange') {
        return (...a: Parameters<InMemoryBucket['getRange']>) => {
          if (a[0].includes('/chunks/')) reads++;
          return t.getRange(...a);
        };
      }
      const v = Reflect.get(t, p, r) as unknown;
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { bucket: counting, chunkReads: () => reads };
}

async function collect(store: BucketStore, req: Parameters<BucketStore['series']>[0]): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await store.series(req, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

function rawChunks(frames: readonly SeriesResponse[]): StoreChunk[] {
  return frames.flatMap((f) => (f.kind === 'series' ? f.series.chunks.map((c) => c.raw!) : []));
}

const req = { minTime: 0, maxTime: 1e7, matchers: [{ type: 2 as const, name: '__name__', value: 'a|b' }] };
const series = [mk('a', 'x', 500), mk('a', 'y', 500), mk('b', 'z', 500)];

describe('ChunkCache', () => {
  test('a repeated query reads no chunks from the bucket and returns the same chunks and hashes', async () => {
    const base = new InMemoryBucket();
    const meta = await writeTestBlock(base, series, Labels.EMPTY, { samplesPerChunk: 40 });
    const { bucket, chunkReads } = countingBucket(base);
    const registry = new Registry();
    const store = new BucketStore({ bucket, registry, partitionGap: 64 });
    await store.sync(new Map([[meta.ulid, meta]]));
    const first = await collect(store, req);
    const readsFirst = chunkReads();
    expect(readsFirst).toBeGreaterThan(0);
    const second = await collect(store, req);
    expect(chunkReads()).toBe(readsFirst);
    expect(second).toEqual(first);

    // Same answer as a store without chunk cache; hashes equal a fresh xxHash64 of the bytes.
    const plain = new BucketStore({ bucket: base, registry: new Registry(), chunkCacheBytes: 0 });
    await plain.sync(new Map([[meta.ulid, meta]]));
    const fresh = await collect(plain, req);
    expect(second).toEqual(fresh);
    // Cached chunks are sent pre-encoded (AggrChunk.encoded): the frames' bytes are the same.
    const hex = (fs: readonly SeriesResponse[]) => fs.map((f) => Buffer.from(encodeSeriesResponse(f)).toString('hex'));
    expect(second.some((f) => f.kind === 'series' && f.series.chunks.some((c) => c.encoded !== undefined))).toBe(true);
    expect(hex(second)).toEqual(hex(fresh));
    const chunks = rawChunks(second);
    expect(chunks.length).toBeGreaterThan(3 * 10);
    for (const c of chunks) {
      const h = xxhash64(c.data);
      expect([c.hashHi, c.hashLo]).toEqual([h.hi, h.lo]);
      expect(c.hashHi !== 0 || c.hashLo !== 0).toBe(true);
    }

    const m = await registry.getSingleMetricAsString('tessera_store_chunk_cache_hits_total');
    expect(m).toMatch(new RegExp(`tessera_store_chunk_cache_hits_total ${chunks.length}\\b`));
    expect(await registry.getSingleMetricAsString('tessera_store_chunk_cache_requests_total')).toMatch(new RegExp(`tessera_store_chunk_cache_requests_total ${2 * chunks.length}\\b`));
  });

  test('a query for part of the cached chunks reads nothing; new chunks are read', async () => {
    const base = new InMemoryBucket();
    const meta = await writeTestBlock(base, series, Labels.EMPTY, { samplesPerChunk: 40 });
    const { bucket, chunkReads } = countingBucket(base);
    const store = new BucketStore({ bucket, registry: new Registry(), partitionGap: 64 });
    await store.sync(new Map([[meta.ulid, meta]]));
    await collect(store, { ...req, maxTime: 200_000 });
    const n = chunkReads();
    await collect(store, { ...req, minTime: 100_000, maxTime: 150_000 });
    expect(chunkReads()).toBe(n);
    await collect(store, { ...req, minTime: 300_000, maxTime: 400_000 });
    expect(chunkReads()).toBeGreaterThan(n);
  });

  test('disabled with size 0: every query reads its chunks', async () => {
    const base = new InMemoryBucket();
    const meta = await writeTestBlock(base, series, Labels.EMPTY, { samplesPerChunk: 40 });
    const { bucket, chunkReads } = countingBucket(base);
    const store = new BucketStore({ bucket, registry: new Registry(), chunkCacheBytes: 0 });
    await store.sync(new Map([[meta.ulid, meta]]));
    expect(store.chunkCache).toBeUndefined();
    await collect(store, req);
    const n = chunkReads();
    expect(n).toBeGreaterThan(0);
    await collect(store, req);
    expect(chunkReads()).toBe(2 * n);
  });

  test('the byte budget evicts least recently used chunks', async () => {
    const base = new InMemoryBucket();
    const meta = await writeTestBlock(base, series, Labels.EMPTY, { samplesPerChunk: 40 });
    const { bucket, chunkReads } = countingBucket(base);
    const budget = 4096;
    const store = new BucketStore({ bucket, registry: new Registry(), chunkCacheBytes: budget });
    await store.sync(new Map([[meta.ulid, meta]]));
    const first = await collect(store, req);
    const cache = store.chunkCache!;
    expect(cache.sizeBytes).toBeGreaterThan(0);
    expect(cache.sizeBytes).toBeLessThanOrEqual(budget);
    expect(cache.items).toBeLessThan(rawChunks(first).length);
    const n = chunkReads();
    const second = await collect(store, req);
    expect(chunkReads()).toBeGreaterThan(n); // evicted chunks are read again
    expect(second).toEqual(first);
    expect(cache.sizeBytes).toBeLessThanOrEqual(budget);
  });

  test('unit: LRU order and budget', () => {
    const c = new ChunkCache({ maxBytes: 3 * (1000 + 400) });
    const mkc = () => ({ encoding: 1, data: new Uint8Array(1000), hashed: [] });
    c.set('B', 1, 0, mkc());
    c.set('B', 1, 1000, mkc());
    c.set('B', 1, 2000, mkc());
    expect(c.get('B', 1, 0)).toBeDefined(); // now most recent
    c.set('B', 2, 0, mkc());
    expect(c.get('B', 1, 1000)).toBeUndefined();
    expect(c.get('B', 1, 0)).toBeDefined();
    expect(c.get('B', 2, 0)).toBeDefined();
    expect(c.get('C', 2, 0)).toBeUndefined();
  });

  test('unit: numeric and string keys (many segments, large offsets) are distinct and sized as the string key', () => {
    const c = new ChunkCache({ maxBytes: 1 << 30 });
    const mkc = (n: number) => ({ encoding: 1, data: new Uint8Array(n), hashed: [] });
    const ulid = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    const places: [string, number, number][] = [
      [ulid, 0, 8],
      [ulid, 63, 0xffffffff],
      [ulid, 64, 8], // past the segments of numeric keys
      [ulid, 1000, 123456],
      ['B', 0, 8],
      ['B', 64, 8],
    ];
    let want = 0;
    places.forEach(([b, s, o], i) => {
      c.set(b, s, o, mkc(i + 1));
      want += i + 1 + 2 * `${b}/${s}:${o}`.length + 320;
    });
    expect(c.items).toBe(places.length);
    expect(c.sizeBytes).toBe(want);
    places.forEach(([b, s, o], i) => expect(c.get(b, s, o)?.data.length).toBe(i + 1));
    expect(c.get(ulid, 1, 8)).toBeUndefined();
    expect(c.get(ulid, 65, 8)).toBeUndefined();
    expect(c.get('B', 0, 9)).toBeUndefined();
  });

  test('toAggrChunk hashes a memoized chunk once and equals the fresh hash', () => {
    const data = new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff));
    const memo: (StoreChunk | undefined)[] = [];
    const a = toAggrChunk(1, data, 0, 1, [], 'test', true, memo);
    const b = toAggrChunk(1, data, 0, 1, [], 'test', true, memo);
    expect(b.raw).toBe(a.raw); // taken from the memo, not recomputed
    const fresh = toAggrChunk(1, data, 0, 1, [], 'test', true);
    expect(a.raw).toEqual(fresh.raw);
    const h = xxhash64(data);
    expect([a.raw!.hashHi, a.raw!.hashLo]).toEqual([h.hi, h.lo]);
    // Without hashing the memo is neither used nor filled.
    const none = toAggrChunk(1, data, 0, 1, [], 'test', false, []);
    expect([none.raw!.hashHi, none.raw!.hashLo]).toEqual([0, 0]);
  });
});
