import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { InMemoryBucket, uploadDir } from '../objstore/index.js';
import { BlockWriter, IndexReader, FileByteSource, formatBlockMeta, newUlid, type BlockMeta } from '../tsdb/index.js';
import { formatDeletionMark, parseDeletionMark } from './markers.js';
import { IgnoreDeletionMarkFilter } from './deletion-mark-filter.js';
import { IndexHeader } from './index-header.js';
import { LabelShardedMetaFilter } from './label-sharded-filter.js';
import { MetaFetcher } from './meta-fetcher.js';
import { parseRelabelConfigs, relabel } from './relabel.js';
import { TimePartitionMetaFilter } from './time-partition-filter.js';

const enc = (s: string) => new TextEncoder().encode(s);

function meta(ulid: string, minTime: number, maxTime: number, labels: Record<string, string>): BlockMeta {
  return { ulid, minTime, maxTime, stats: {}, compaction: { level: 1, sources: [ulid] }, version: 1, thanos: { labels, downsample: { resolution: 0 }, source: 'test', index_stats: {} } };
}

describe('relabel', () => {
  test.each([
    ['keep on a label', '- action: keep\n  source_labels: [cluster]\n  regex: eu-.*', { cluster: 'eu-1' }, true],
    ['keep drops others', '- action: keep\n  source_labels: [cluster]\n  regex: eu-.*', { cluster: 'us-1' }, false],
    ['drop', '- action: drop\n  source_labels: [cluster, replica]\n  regex: eu-1;b', { cluster: 'eu-1', replica: 'b' }, false],
    ['drop keeps non-matching', '- action: drop\n  source_labels: [cluster, replica]\n  regex: eu-1;b', { cluster: 'eu-1', replica: 'a' }, true],
    ['regex is anchored', '- action: keep\n  source_labels: [cluster]\n  regex: eu', { cluster: 'eu-1' }, false],
  ])('%s', (_name, yaml, lbls, kept) => {
    expect(relabel(Labels.fromRecord(lbls), parseRelabelConfigs(yaml)) !== undefined).toBe(kept);
  });

  test('replace and labeldrop', () => {
    const out = relabel(Labels.fromStrings('a', 'x-1', 'b', 'y'), parseRelabelConfigs('- source_labels: [a]\n  regex: "x-(.*)"\n  target_label: c\n  replacement: "n$1"\n- action: labeldrop\n  regex: b'));
    expect(out?.toString()).toBe('{a="x-1", c="n1"}');
  });

  test('bad configs are errors naming the rule', () => {
    expect(() => parseRelabelConfigs('- action: nope')).toThrow(/unknown relabel action/);
    expect(() => parseRelabelConfigs('- action: keep\n  regex: "("')).toThrow(/rule 0: invalid regex/);
    expect(() => parseRelabelConfigs('a: b')).toThrow(/list/);
  });
});

describe('markers', () => {
  test('deletion mark round trip and validation', () => {
    const id = newUlid();
    const m = parseDeletionMark(formatDeletionMark({ id, version: 1, deletion_time: 1700000000 }));
    expect(m).toEqual({ id, version: 1, deletion_time: 1700000000 });
    expect(() => parseDeletionMark('{"id":"x","version":1,"deletion_time":1}')).toThrow(/ULID/);
    expect(() => parseDeletionMark(`{"id":"${id}","version":2,"deletion_time":1}`)).toThrow(/version/);
    expect(() => parseDeletionMark('{')).toThrow(/parse/);
  });
});

describe('MetaFetcher', () => {
  test('skips blocks without or with corrupt meta.json, applies filters, counts states', async () => {
    const bkt = new InMemoryBucket();
    const now = 1_800_000_000_000;
    const ids = Array.from({ length: 7 }, () => newUlid());
    const [ok, early, other, oldMark, newMark, noMeta, badMeta] = ids as [string, string, string, string, string, string, string];
    for (const [id, m] of [
      [ok, meta(ok, 1000, 2000, { cluster: 'eu' })],
      [early, meta(early, 0, 500, { cluster: 'eu' })],
      [other, meta(other, 1000, 2000, { cluster: 'us' })],
      [oldMark, meta(oldMark, 1000, 2000, { cluster: 'eu' })],
      [newMark, meta(newMark, 1000, 2000, { cluster: 'eu' })],
    ] as const) await bkt.upload(`${id}/meta.json`, enc(formatBlockMeta(m)));
    await bkt.upload(`${oldMark}/deletion-mark.json`, enc(formatDeletionMark({ id: oldMark, version: 1, deletion_time: now / 1000 - 2 * 86400 })));
    await bkt.upload(`${newMark}/deletion-mark.json`, enc(formatDeletionMark({ id: newMark, version: 1, deletion_time: now / 1000 - 3600 })));
    await bkt.upload(`${noMeta}/index`, enc('x'));
    await bkt.upload(`${badMeta}/meta.json`, enc('{"version": 1'));
    await bkt.upload('not-a-block/meta.json', enc('{}'));
    const delFilter = new IgnoreDeletionMarkFilter({ bucket: bkt, delayMs: 86_400_000, now: () => now });
    for (const discovery of ['recursive', 'concurrent'] as const) {
      const registry = new Registry();
      const f = new MetaFetcher({
        bucket: bkt,
        discovery,
        registry,
        filters: [new TimePartitionMetaFilter(600, 5000), new LabelShardedMetaFilter(parseRelabelConfigs('- action: keep\n  source_labels: [cluster]\n  regex: eu')), delFilter],
      });
      const res = await f.fetch();
      expect([...res.metas.keys()].sort()).toEqual([ok, newMark].sort());
      expect([...res.partial.keys()].sort()).toEqual([noMeta, badMeta].sort());
      expect(Object.fromEntries(res.states)).toEqual({ 'no-meta-json': 1, 'corrupted-meta-json': 1, 'time-excluded': 1, 'label-excluded': 1, 'marked-for-deletion': 1, loaded: 2 });
      expect([...delFilter.deletionMarks().keys()].sort()).toEqual([oldMark, newMark].sort());
      const text = await registry.metrics();
      expect(text).toMatch(/thanos_blocks_meta_synced\{state="corrupted-meta-json"\} 1/);
    }
  });

  test('a new block appears on the next sync; metas are cached on disk', async () => {
    const bkt = new InMemoryBucket();
    const dir = await mkdtemp(join(tmpdir(), 'tessera-fetcher-'));
    try {
      const a = newUlid();
      await bkt.upload(`${a}/meta.json`, enc(formatBlockMeta(meta(a, 0, 10, {}))));
      const f = new MetaFetcher({ bucket: bkt, cacheDir: dir });
      expect([...(await f.fetch()).metas.keys()]).toEqual([a]);
      const b = newUlid();
      await bkt.upload(`${b}/meta.json`, enc(formatBlockMeta(meta(b, 0, 10, {}))));
      expect([...(await f.fetch()).metas.keys()].sort()).toEqual([a, b].sort());
      await f.flush();
      // A restart reads the metas from the snapshot: no meta.json from the bucket.
      let gets = 0;
      const counting = new Proxy(bkt, {
        get(t, p, r) {
          if (p === 'get') return (...x: Parameters<InMemoryBucket['get']>) => (gets++, t.get(...x));
          const v = Reflect.get(t, p, r) as unknown;
          return typeof v === 'function' ? (v as (...y: unknown[]) => unknown).bind(t) : v;
        },
      });
      const restarted = new MetaFetcher({ bucket: counting, cacheDir: dir });
      expect([...(await restarted.fetch()).metas.keys()].sort()).toEqual([a, b].sort());
      expect(gets).toBe(0);
      await bkt.delete(`${a}/meta.json`);
      expect([...(await f.fetch()).metas.keys()]).toEqual([b]);
      // A broken snapshot is ignored: metas come from the bucket again.
      await f.flush();
      await writeFile(join(dir, 'metas.json'), '{"x":');
      expect([...(await new MetaFetcher({ bucket: bkt, cacheDir: dir }).fetch()).metas.keys()]).toEqual([b]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('IndexHeader', () => {
  test('built from ranged reads, persisted, reloaded; answers like the full index', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-ih-'));
    try {
      const w = await BlockWriter.create(join(dir, 'blocks'));
      for (let i = 0; i < 300; i++) await w.addSeries(Labels.fromStrings('__name__', 'm', 'i', String(i).padStart(4, '0')), [1, 2], [1, 2]);
      const blk = await w.flush();
      const bkt = new InMemoryBucket();
      await uploadDir(bkt, blk.dir, blk.ulid);
      let fetched = 0;
      let reads = 0;
      const h = await IndexHeader.open({ bucket: bkt, ulid: blk.ulid, dir: join(dir, 'data'), onFetch: (n) => ((fetched += n), reads++) });
      const full = IndexReader.open(FileByteSource.open(join(blk.dir, 'index')));
      const size = (await bkt.attributes(`${blk.ulid}/index`)).size;
      // A small index is read whole, in one request, and kept: postings and series need no reads.
      expect([reads, fetched]).toEqual([1, size]);
      expect(h.resident(0, size)).toEqual(await bkt.get(`${blk.ulid}/index`));
      for (const r of [h.reader]) {
        expect(r.labelNames()).toEqual(full.labelNames());
        expect(r.labelValues('i')).toEqual(full.labelValues('i'));
        expect(r.postingsRange('i', '0042')).toEqual(full.postingsRange('i', '0042'));
        expect([...r.symbols()]).toEqual([...full.symbols()]);
      }
      // Reload from disk without the bucket.
      const empty = new InMemoryBucket();
      const again = await IndexHeader.open({ bucket: empty, ulid: blk.ulid, dir: join(dir, 'data') });
      expect(again.reader.labelValues('i')).toEqual(full.labelValues('i'));
      // A corrupt local file is rebuilt from the bucket.
      const p = join(dir, 'data', blk.ulid, 'index-header');
      const bytes = await readFile(p);
      bytes[20] = bytes[20]! ^ 0xff;
      await writeFile(p, bytes);
      const rebuilt = await IndexHeader.open({ bucket: bkt, ulid: blk.ulid, dir: join(dir, 'data') });
      expect(rebuilt.reader.labelNames()).toEqual(full.labelNames());
      // A corrupt index in the bucket is a build error naming the block.
      const idx = await bkt.get(`${blk.ulid}/index`);
      idx[idx.length - 1] = idx[idx.length - 1]! ^ 0xff;
      await bkt.upload(`${blk.ulid}/index`, idx);
      await expect(IndexHeader.open({ bucket: bkt, ulid: blk.ulid })).rejects.toThrow(new RegExp(`build index-header of block ${blk.ulid}`));
      full.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Larger indexes: both ends are read in parallel, then only sections longer than the first reads.
  test.each([
    ['symbols and postings table within the first reads', 2000, 4, 30, 2],
    ['symbols and postings table longer than the first reads', 6000, 24, 120, 4],
  ])('%s: built in %#', async (_name, n, valueLen, samples, wantReads) => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-ih-'));
    try {
      const w = await BlockWriter.create(join(dir, 'blocks'), { cutter: { samplesPerChunk: 5 } });
      const ts = Array.from({ length: samples }, (_, i) => i * 1000);
      const names = Array.from({ length: n }, (_, i) => String(i).padStart(valueLen, '0')).sort();
      for (const v of names) await w.addSeries(Labels.fromStrings('__name__', 'm', 'i', v), ts, ts);
      const blk = await w.flush();
      const bkt = new InMemoryBucket();
      await uploadDir(bkt, blk.dir, blk.ulid);
      const size = (await bkt.attributes(`${blk.ulid}/index`)).size;
      expect(size).toBeGreaterThan(128 * 1024);
      let fetched = 0;
      let reads = 0;
      const h = await IndexHeader.open({ bucket: bkt, ulid: blk.ulid, indexSize: size, onFetch: (x) => ((fetched += x), reads++) });
      expect(reads).toBe(wantReads);
      expect(fetched).toBeLessThan(size);
      expect(h.resident(0, 10)).toBeUndefined();
      const full = IndexReader.open(FileByteSource.open(join(blk.dir, 'index')));
      expect(h.reader.labelNames()).toEqual(full.labelNames());
      expect(h.reader.labelValues('i')).toEqual(full.labelValues('i'));
      for (const v of [names[0]!, names[n >> 1]!, names[n - 1]!]) expect(h.reader.postingsRange('i', v)).toEqual(full.postingsRange('i', v));
      expect([...h.reader.symbols()]).toEqual([...full.symbols()]);
      expect(h.seriesEnd).toBe(full.toc.labelIndices || full.toc.postings);
      full.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
