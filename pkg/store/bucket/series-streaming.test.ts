import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { Labels, LabelsBuilder } from '../../labels/index.js';
import { InMemoryBucket } from '../../objstore/index.js';
import { xxhash64, type SeriesRequest, type SeriesResponse, type StoreSeries } from '../../storepb/index.js';
import { BufferByteSource, IndexReader, expandPostings, type BlockMeta } from '../../tsdb/index.js';
import { writeTestBlock, type TestSeries } from '../../testutil/index.js';
import { withExternalLabels } from '../local-store.js';
import { isProperPrefix } from './block-series-cursor.js';
import { BucketStore, type BucketStoreOptions } from './bucket-store.js';

async function collect(store: BucketStore, req: SeriesRequest): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await store.series(req, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

const seriesOf = (frames: SeriesResponse[]): StoreSeries[] => frames.flatMap((f) => (f.kind === 'series' ? [f.series] : f.kind === 'batch' ? f.batch : []));

interface BlockSpec {
  readonly ext: Record<string, string>;
  readonly series: Record<string, string>[];
}

/**
 * The reference the streaming merge must equal: every block's series with external labels applied
 * (they override the series' own) and replica labels dropped, equal label sets merged, sorted.
 */
function expected(blocks: readonly BlockSpec[], drop: readonly string[]): { labels: string; chunks: number }[] {
  const b = new LabelsBuilder();
  const all = new Map<string, { l: Labels; chunks: number }>();
  for (const blk of blocks) {
    const ext = Labels.fromRecord(blk.ext);
    const dropExt = drop.filter((n) => ext.has(n));
    const seen = new Set<string>();
    for (const rec of blk.series) {
      const raw = Labels.fromRecord(rec);
      if (seen.has(raw.key())) continue;
      seen.add(raw.key());
      const full = withExternalLabels(b, raw, ext);
      const l = dropExt.length > 0 ? full.without(dropExt) : full;
      const k = l.key();
      const cur = all.get(k);
      if (cur === undefined) all.set(k, { l, chunks: 1 });
      else cur.chunks++;
    }
  }
  return [...all.values()].sort((x, y) => Labels.compare(x.l, y.l)).map((x) => ({ labels: x.l.toString(), chunks: x.chunks }));
}

async function storeWith(blocks: readonly BlockSpec[], opts: Partial<BucketStoreOptions> = {}, samples = 2): Promise<{ store: BucketStore; bucket: InMemoryBucket; metas: BlockMeta[] }> {
  const bucket = new InMemoryBucket();
  const metas: BlockMeta[] = [];
  for (const blk of blocks) {
    const seen = new Set<string>();
    const series: TestSeries[] = [];
    for (const rec of blk.series) {
      const labels = Labels.fromRecord(rec);
      if (seen.has(labels.key())) continue;
      seen.add(labels.key());
      series.push({ labels, samples: Array.from({ length: samples }, (_, i) => [1000 * (i + 1), (i * 7919) % 1013] as const) });
    }
    metas.push(await writeTestBlock(bucket, series, Labels.fromRecord(blk.ext)));
  }
  const store = new BucketStore({ bucket, registry: new Registry(), ...opts });
  await store.sync(new Map(metas.map((m) => [m.ulid, m])));
  return { store, bucket, metas };
}

// Small alphabets so label sets often are prefixes of each other and collide across blocks.
const labelSet = fc.record(
  { __name__: fc.constantFrom('m', 'n'), a: fc.constantFrom('', '1', '2'), b: fc.constantFrom('', '1'), d: fc.constantFrom('', '1', '2'), z: fc.constantFrom('', '1') },
  { requiredKeys: ['__name__'] },
);
const extSet = fc.record({ c: fc.constantFrom('x', 'y'), replica: fc.constantFrom('r1', 'r2') }, { requiredKeys: [] });

describe('BucketStore streams series across blocks', () => {
  test('isProperPrefix', () => {
    expect(isProperPrefix(Labels.fromStrings('a', '1'), Labels.fromStrings('a', '1', 'b', '2'))).toBe(true);
    expect(isProperPrefix(Labels.fromStrings('a', '1'), Labels.fromStrings('a', '1'))).toBe(false);
    expect(isProperPrefix(Labels.fromStrings('a', '1'), Labels.fromStrings('a', '2', 'b', '2'))).toBe(false);
    expect(isProperPrefix(Labels.EMPTY, Labels.fromStrings('a', '1'))).toBe(true);
  });

  test('k-way merge equals the global sort (prefix families, overriding and dropped external labels, tiny batches)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ext: extSet, series: fc.array(labelSet, { minLength: 1, maxLength: 12 }) }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom(1, 2, 1000),
        fc.boolean(),
        async (specs, dropReplica, batch, overrideLabel) => {
          // Sometimes a series carries a label named like an external label (it gets overridden).
          const blocks: BlockSpec[] = specs.map((s, i) => ({ ext: s.ext, series: overrideLabel && i === 0 ? [...s.series, { __name__: 'm', c: 'own' }] : s.series }));
          const drop = dropReplica ? ['replica'] : [];
          const { store } = await storeWith(blocks, { seriesBatchSize: batch });
          const frames = await collect(store, { minTime: 0, maxTime: 10_000, matchers: [{ type: 2, name: '__name__', value: '.+' }], withoutReplicaLabels: drop });
          expect(frames.filter((f) => f.kind === 'warning')).toEqual([]);
          const got = seriesOf(frames).map((s) => ({ labels: s.labels.toString(), chunks: s.chunks.length }));
          expect(got).toEqual(expected(blocks, drop));
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });

  test('a request holds at most maxInFlightBytes of fetched data, and fails clearly when it cannot fit', async () => {
    const series: Record<string, string>[] = [];
    for (let i = 0; i < 300; i++) series.push({ __name__: 'm', i: String(i).padStart(4, '0') });
    const blocks = [{ ext: { r: '1' }, series }, { ext: { r: '2' }, series }];
    const req: SeriesRequest = { minTime: 0, maxTime: 10_000, matchers: [{ type: 0, name: '__name__', value: 'm' }] };
    const unlimited = await storeWith(blocks, { limits: { maxInFlightBytes: 0 } }, 100);
    const want = seriesOf(await collect(unlimited.store, req));
    expect(want).toHaveLength(600);
    let total = 0;
    for (const s of want) for (const c of s.chunks) total += c.raw!.data.length;

    const registry = new Registry();
    const limit = 48 * 1024;
    const small = new BucketStore({ bucket: unlimited.bucket, registry, seriesBatchSize: 50, limits: { maxInFlightBytes: limit } });
    await small.sync(new Map(unlimited.metas.map((m) => [m.ulid, m])));
    const got = seriesOf(await collect(small, req));
    expect(got.map((s) => s.labels.toString())).toEqual(want.map((s) => s.labels.toString()));
    expect(got.map((s) => s.chunks.map((c) => [...c.raw!.data]))).toEqual(want.map((s) => s.chunks.map((c) => [...c.raw!.data])));
    const peak = (await registry.getSingleMetric('tessera_bucket_store_request_peak_in_flight_bytes')!.get()).values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))!.value;
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(limit);
    expect(total).toBeGreaterThan(limit); // the data did not fit at once

    const tiny = new BucketStore({ bucket: unlimited.bucket, registry: new Registry(), limits: { maxInFlightBytes: 1000 } });
    await tiny.sync(new Map(unlimited.metas.map((m) => [m.ulid, m])));
    await expect(collect(tiny, req)).rejects.toMatchObject({ grpcCode: 8, message: expect.stringMatching(/exceeded memory limit: limit 1000 bytes/) });
  });

  test('loaded index-headers stay within headerCacheBytes (least recently used are unloaded)', async () => {
    const blocks = [0, 1, 2].map((i) => ({ ext: { b: String(i) }, series: [{ __name__: 'm', a: '1' }] }));
    const req: SeriesRequest = { minTime: 0, maxTime: 10_000, matchers: [{ type: 0, name: '__name__', value: 'm' }] };
    const { store, bucket, metas } = await storeWith(blocks);
    const want = seriesOf(await collect(store, req)).map((s) => s.labels.toString());
    expect(store.loadedBlocks()).toBe(3);
    const one = store.headerBytes() / 3;
    const registry = new Registry();
    const small = new BucketStore({ bucket, registry, headerCacheBytes: Math.ceil(one * 1.5) });
    await small.sync(new Map(metas.map((m) => [m.ulid, m])));
    expect(seriesOf(await collect(small, req)).map((s) => s.labels.toString())).toEqual(want);
    expect(small.loadedBlocks()).toBe(1);
    expect(small.headerBytes()).toBeLessThanOrEqual(one * 1.5);
    expect((await registry.getSingleMetric('tessera_bucket_store_index_header_evictions_total')!.get()).values[0]!.value).toBe(2);
    // Evicted headers load again on use; answers stay the same.
    expect(seriesOf(await collect(small, req)).map((s) => s.labels.toString())).toEqual(want);
  });

  test('a block that fails after some of its series were sent is reported, never silently cut short', async () => {
    const series: Record<string, string>[] = [];
    for (let i = 0; i < 100; i++) series.push({ __name__: 'm', i: String(i).padStart(3, '0') });
    const { bucket, metas } = await storeWith([{ ext: { r: '1' }, series }, { ext: { r: '2' }, series }]);
    // Break the CRC of series 80 of the first block: the first batch (64 series) reads fine.
    const bad = metas[0]!.ulid;
    const idx = await bucket.get(`${bad}/index`);
    const r = IndexReader.open(new BufferByteSource(idx));
    const refs = expandPostings(r.allPostings());
    r.close();
    const broken = idx.slice();
    broken[refs[80]! * 16 + 2]! ^= 0xff;
    await bucket.upload(`${bad}/index`, broken);
    const req: SeriesRequest = { minTime: 0, maxTime: 10_000, matchers: [{ type: 0, name: '__name__', value: 'm' }] };
    const store = new BucketStore({ bucket, registry: new Registry(), seriesBatchSize: 10 });
    await store.sync(new Map(metas.map((m) => [m.ulid, m])));
    const frames = await collect(store, req);
    const warnings = frames.flatMap((f) => (f.kind === 'warning' ? [f.warning] : []));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`skipping corrupt block ${bad}: read series \\(after .*i="0(6[0-9]|7[0-9])".*checksum mismatch`));
    const got = seriesOf(frames).map((x) => x.labels.get('r'));
    expect(got.filter((x) => x === '2')).toHaveLength(100);
    expect(got.filter((x) => x === '1').length).toBeGreaterThanOrEqual(60);
    expect(got.filter((x) => x === '1').length).toBeLessThan(100);
  });

  test('chunks carry their xxHash64, unless disabled', async () => {
    const blocks = [{ ext: {}, series: [{ __name__: 'm', a: '1' }, { __name__: 'm', a: '2' }] }];
    const req: SeriesRequest = { minTime: 0, maxTime: 10_000, matchers: [{ type: 0, name: '__name__', value: 'm' }] };
    const { store, bucket, metas } = await storeWith(blocks);
    const got = seriesOf(await collect(store, req));
    expect(got).toHaveLength(2);
    for (const s of got) {
      for (const c of s.chunks) {
        const h = xxhash64(c.raw!.data);
        expect([c.raw!.hashHi, c.raw!.hashLo]).toEqual([h.hi, h.lo]);
        expect(h.hi + h.lo).toBeGreaterThan(0);
      }
    }
    const off = new BucketStore({ bucket, registry: new Registry(), chunkHashes: false });
    await off.sync(new Map(metas.map((m) => [m.ulid, m])));
    for (const s of seriesOf(await collect(off, req))) for (const c of s.chunks) expect([c.raw!.hashHi, c.raw!.hashLo]).toEqual([0, 0]);
  });
});
