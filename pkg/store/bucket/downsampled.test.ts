import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { Encoding, OpaqueChunk, ValueType, XorChunk } from '../../chunkenc/index.js';
import { Labels } from '../../labels/index.js';
import { InMemoryBucket, uploadDir, type Bucket } from '../../objstore/index.js';
import { Aggr, type SeriesRequest, type SeriesResponse, type StoreChunk, type StoreSeries } from '../../storepb/index.js';
import { BlockWriter, formatBlockMeta, parseBlockMeta, type BlockMeta } from '../../tsdb/index.js';
import { writeTestBlock } from '../../testutil/index.js';
import { downsampleBlock } from '../../downsample/index.js';
import { BucketStore } from './bucket-store.js';

/**
 * Downsampled blocks through the BucketStore. No real Thanos-downsampled block can be produced
 * here (no thanos binary), so the first 5m block is written by hand the way chunks.md §5 describes
 * Thanos's: one aggregate chunk (encoding 0xFF) holding count, sum, min, max and counter XOR
 * sub-chunks; the last test serves a block made by our own downsampler (pkg/downsample).
 */
const RES = 300_000;
const EXT = Labels.fromStrings('cluster', 'c1');
const LBL = Labels.fromStrings('__name__', 'http_requests_total', 'job', 'api');
// A counter sampled every 15 s for 2 h.
const raw: [number, number][] = Array.from({ length: 480 }, (_, i) => [i * 15_000, i * 3] as [number, number]);

function xor(points: readonly [number, number][]): Uint8Array {
  const c = new XorChunk();
  const app = c.appender();
  for (const [t, v] of points) app.append(t, v);
  return c.bytes();
}

/** The aggregates of raw per 5m window (window end timestamp = last sample in it). */
function aggregates(): { count: [number, number][]; sum: [number, number][]; min: [number, number][]; max: [number, number][]; counter: [number, number][] } {
  const out = { count: [] as [number, number][], sum: [] as [number, number][], min: [] as [number, number][], max: [] as [number, number][], counter: [] as [number, number][] };
  for (let w = 0; w < 2 * 3_600_000; w += RES) {
    const s = raw.filter(([t]) => t >= w && t < w + RES);
    const t = s[s.length - 1]![0];
    out.count.push([t, s.length]);
    out.sum.push([t, s.reduce((a, [, v]) => a + v, 0)]);
    out.min.push([t, Math.min(...s.map(([, v]) => v))]);
    out.max.push([t, Math.max(...s.map(([, v]) => v))]);
    out.counter.push([t, s[s.length - 1]![1]]);
  }
  return out;
}

/** Encodes an aggregate chunk: per aggregate, uvarint length, then encoding byte and data (chunks.md §5). */
function aggrChunk(subs: readonly (Uint8Array | undefined)[]): Uint8Array {
  const parts: number[] = [];
  for (const d of subs) {
    if (d === undefined) {
      parts.push(0);
      continue;
    }
    let n = d.length;
    while (n >= 0x80) {
      parts.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    parts.push(n, 1, ...d);
  }
  return Uint8Array.from(parts);
}

async function writeDownsampledBlock(bkt: Bucket, subs: readonly (Uint8Array | undefined)[], minTime: number, maxTime: number): Promise<BlockMeta> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-ds-'));
  try {
    const w = await BlockWriter.create(dir);
    await w.addChunkSeries(LBL, [{ ref: 0, minTime, maxTime, chunk: new OpaqueChunk(Encoding.Aggr, aggrChunk(subs)) }]);
    const b = await w.flush();
    const meta = parseBlockMeta(await readFile(join(b.dir, 'meta.json'), 'utf8'));
    meta.thanos = { labels: EXT.toRecord(), downsample: { resolution: RES }, source: 'compactor', index_stats: {} };
    await writeFile(join(b.dir, 'meta.json'), formatBlockMeta(meta));
    await uploadDir(bkt, b.dir, b.ulid);
    return meta;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function decode(c: StoreChunk): [number, number][] {
  const it = XorChunk.fromBytes(c.data).iterator();
  const out: [number, number][] = [];
  while (it.next() !== ValueType.None) out.push([it.atT(), it.atF()]);
  expect(it.err()).toBeNull();
  return out;
}

async function series(store: BucketStore, req: Partial<SeriesRequest>): Promise<StoreSeries[]> {
  const frames: SeriesResponse[] = [];
  await store.series({ minTime: 0, maxTime: 2 * 3_600_000, matchers: [{ type: 0, name: '__name__', value: 'http_requests_total' }], ...req }, { send: (f) => void frames.push(f) }, new AbortController().signal);
  return frames.flatMap((f) => (f.kind === 'series' ? [f.series] : []));
}

describe('BucketStore over a downsampled (5m) block next to the raw one', () => {
  test('resolution selection and aggregate sub-chunks as stored', async () => {
    const bkt = new InMemoryBucket();
    const a = aggregates();
    const subs = [xor(a.count), xor(a.sum), xor(a.min), xor(a.max), xor(a.counter)];
    const rawMeta = await writeTestBlock(bkt, [{ labels: LBL, samples: raw }], EXT);
    const dsMeta = await writeDownsampledBlock(bkt, subs, a.count[0]![0], a.count[a.count.length - 1]![0]);
    // The downsampled block covers the same time range as the raw one.
    dsMeta.minTime = rawMeta.minTime;
    dsMeta.maxTime = rawMeta.maxTime;
    const store = new BucketStore({ bucket: bkt, registry: new Registry() });
    await store.sync(new Map([[rawMeta.ulid, rawMeta], [dsMeta.ulid, dsMeta]]));

    // max_resolution_window >= 5m: only the downsampled block, the requested aggregates as stored.
    const ds = await series(store, { maxResolutionWindow: RES, aggregates: [Aggr.COUNT, Aggr.SUM, Aggr.COUNTER] });
    expect(ds).toHaveLength(1);
    expect(ds[0]!.labels.toString()).toBe('{__name__="http_requests_total", cluster="c1", job="api"}');
    expect(ds[0]!.chunks).toHaveLength(1);
    const c = ds[0]!.chunks[0]!;
    expect(c.raw).toBeUndefined();
    expect([c.min, c.max]).toEqual([undefined, undefined]);
    expect([...c.count!.data]).toEqual([...subs[0]!]);
    expect([...c.sum!.data]).toEqual([...subs[1]!]);
    expect([...c.counter!.data]).toEqual([...subs[4]!]);
    expect(decode(c.count!)).toEqual(a.count);
    expect(decode(c.sum!)).toEqual(a.sum);
    expect(decode(c.counter!)).toEqual(a.counter);

    // Raw resolution: only the raw block's chunks.
    const rs = await series(store, { maxResolutionWindow: 0 });
    expect(rs).toHaveLength(1);
    expect(rs[0]!.chunks.every((x) => x.raw !== undefined && x.count === undefined)).toBe(true);
    expect(rs[0]!.chunks.flatMap((x) => decode(x.raw!))).toEqual(raw);
  });

  test('an aggregate the chunk does not hold is an error naming the chunk', async () => {
    const bkt = new InMemoryBucket();
    const a = aggregates();
    // min and max absent (as for histogram series); counter present last.
    const meta = await writeDownsampledBlock(bkt, [xor(a.count), xor(a.sum), undefined, undefined, xor(a.counter)], a.count[0]![0], a.count[a.count.length - 1]![0]);
    const store = new BucketStore({ bucket: bkt, registry: new Registry() });
    await store.sync(new Map([[meta.ulid, meta]]));
    expect((await series(store, { maxResolutionWindow: RES, aggregates: [Aggr.COUNT] }))[0]!.chunks[0]!.count).toBeDefined();
    await expect(series(store, { maxResolutionWindow: RES, aggregates: [Aggr.MAX] })).rejects.toThrow(/aggregate 4 does not exist/);
  });
});

describe('BucketStore over a block written by our downsampler', () => {
  test('serves its aggregates as stored, and they match the raw data per 5m window', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-ds-'));
    try {
      const w = await BlockWriter.create(dir, { minTime: 0, maxTime: 2 * 3_600_000, thanos: { labels: EXT.toRecord(), downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
      await w.addSeries(LBL, raw.map(([t]) => t), raw.map(([, v]) => v));
      const rawBlock = await w.flush();
      const ds = (await downsampleBlock({ blockDir: rawBlock.dir, outDir: join(dir, 'out'), resolution: RES }))!;
      const bkt = new InMemoryBucket();
      await uploadDir(bkt, rawBlock.dir, rawBlock.ulid);
      await uploadDir(bkt, ds.dir, ds.ulid);
      const store = new BucketStore({ bucket: bkt, registry: new Registry() });
      await store.sync(new Map([[rawBlock.ulid, rawBlock.meta], [ds.ulid, ds.meta]]));

      const got = await series(store, { maxResolutionWindow: RES, aggregates: [Aggr.COUNT, Aggr.SUM, Aggr.MIN, Aggr.MAX, Aggr.COUNTER] });
      expect(got).toHaveLength(1);
      const cs = got[0]!.chunks;
      expect(cs.every((c) => c.raw === undefined)).toBe(true);
      // The per-window values of the hand-written fixture, stamped as Thanos stamps windows: the
      // window's last millisecond, and the last sample's time for the series' last window.
      const stamp = (s: [number, number][]) => s.map(([t, v], i): [number, number] => [i === s.length - 1 ? t : t - (t % RES) + RES - 1, v]);
      const f = aggregates();
      const a = { count: stamp(f.count), sum: stamp(f.sum), min: stamp(f.min), max: stamp(f.max), counter: stamp(f.counter) };
      expect(cs.flatMap((c) => decode(c.count!))).toEqual(a.count);
      expect(cs.flatMap((c) => decode(c.sum!))).toEqual(a.sum);
      expect(cs.flatMap((c) => decode(c.min!))).toEqual(a.min);
      expect(cs.flatMap((c) => decode(c.max!))).toEqual(a.max);
      // Counter sub-chunks: the first raw value, the window totals, the last raw value repeated.
      const counter = cs.flatMap((c) => decode(c.counter!));
      expect(counter).toEqual([raw[0]!, ...a.counter, a.counter[a.counter.length - 1]!]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
