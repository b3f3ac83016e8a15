import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DELETION_MARK_FILENAME, NO_COMPACT_MARK_FILENAME, downloadBlock, markForNoCompact, newLogger, parseRelabelConfigs, readNoCompactMark, uploadBlock } from '../block/index.js';
import { ValueType } from '../chunkenc/index.js';
import { writeOutOfOrderBlock } from '../testutil/index.js';
import { TesseraError } from '../errors/index.js';
import { Labels } from '../labels/index.js';
import { InMemoryBucket } from '../objstore/index.js';
import { BlockReader, BlockWriter, META_FILENAME, UlidGenerator, parseBlockMeta, writeBlockMeta, type BlockMeta, type IndexChunkMeta } from '../tsdb/index.js';
import type { BlockMerger, MergeRequest, MergeResult } from './block-merger.js';
import { BucketLease } from './bucket-lease.js';
import { Compactor, type CompactorOptions } from './compactor.js';
import { newStreamingMerger } from './streaming-merger.js';
import { verifyBlock } from './verify-block.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 0, 20);

/** Reads every sample of a local block: series key → [t, v][]. */
async function readSamples(dir: string): Promise<Map<string, { lset: Labels; samples: [number, number][] }>> {
  const out = new Map<string, { lset: Labels; samples: [number, number][] }>();
  const b = await BlockReader.open(dir);
  try {
    const p = b.index.allPostings();
    const metas: IndexChunkMeta[] = [];
    while (p.next()) {
      const lset = b.index.series(p.at(), metas);
      const samples: [number, number][] = [];
      for (const m of metas) {
        const it = b.chunks.chunk(m.ref).iterator();
        while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
      }
      out.set(lset.toString(), { lset, samples });
    }
  } finally {
    b.close();
  }
  return out;
}

/**
 * A test merger: reads all samples of the inputs and writes them back, one sample per timestamp
 * (the first input wins). Inputs with a series named `unmergeable` make it throw.
 */
class SampleMerger implements BlockMerger {
  calls = 0;
  async merge(req: MergeRequest): Promise<MergeResult> {
    this.calls++;
    const all = new Map<string, { lset: Labels; samples: Map<number, number> }>();
    for (const d of req.inputDirs) {
      for (const [k, s] of await readSamples(d)) {
        if (s.lset.get('__name__') === 'unmergeable') throw new TesseraError('TESSERA_TEST_UNMERGEABLE', `series ${k} cannot be merged`);
        let e = all.get(k);
        if (e === undefined) all.set(k, (e = { lset: s.lset, samples: new Map() }));
        for (const [t, v] of s.samples) if (!e.samples.has(t)) e.samples.set(t, v);
      }
    }
    const w = await BlockWriter.create(req.outDir, { ulid: req.ulid });
    let n = 0;
    for (const e of [...all.values()].sort((a, b) => Labels.compare(a.lset, b.lset))) {
      const ts = [...e.samples.keys()].sort((a, b) => a - b);
      n += ts.length;
      await w.addSeries(e.lset, ts, ts.map((t) => e.samples.get(t)!));
    }
    const b = await w.flush();
    return { stats: { ...b.meta.stats, numSamples: n } };
  }
}

const gen = new UlidGenerator();
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tessera-compactor-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** putBlock uploads a [minH, maxH) block of series `m{i=0..n}` with a sample every 15 minutes. */
async function putBlock(bkt: InMemoryBucket, ext: Record<string, string>, minH: number, maxH: number, o: { series?: number; name?: string; offset?: number; level?: number; sources?: string[]; resolution?: number } = {}): Promise<BlockMeta> {
  const dir = await mkdtemp(join(tmp, 'src-'));
  const ulid = gen.next(NOW - 100 * H + minH * 1000);
  const w = await BlockWriter.create(dir, { ulid, minTime: minH * H, maxTime: maxH * H, ...(o.level !== undefined ? { level: o.level } : {}), ...(o.sources !== undefined ? { sources: o.sources } : {}) });
  for (let i = 0; i < (o.series ?? 2); i++) {
    const ts: number[] = [];
    for (let t = minH * H + (o.offset ?? 0); t < maxH * H; t += 15 * 60_000) ts.push(t);
    await w.addSeries(Labels.fromRecord({ __name__: o.name ?? 'm', i: String(i) }), ts, ts.map((t) => t / 1000 + i));
  }
  const b = await w.flush();
  await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: ext, downsample: { resolution: o.resolution ?? 0 }, source: 'sidecar', index_stats: {} } });
  return uploadBlock(bkt, b.dir, { now: () => NOW - 50 * H });
}

async function blocksIn(bkt: InMemoryBucket): Promise<Map<string, { meta?: BlockMeta; marks: string[] }>> {
  const out = new Map<string, { meta?: BlockMeta; marks: string[] }>();
  for await (const name of bkt.iter('', { recursive: true })) {
    const [id, file] = [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)];
    if (id === '') continue;
    let e = out.get(id);
    if (e === undefined) out.set(id, (e = { marks: [] }));
    if (file === META_FILENAME) e.meta = parseBlockMeta(new TextDecoder().decode(await bkt.get(name)));
    if (file.endsWith('-mark.json')) e.marks.push(file);
  }
  return out;
}

function compactor(bkt: InMemoryBucket, merger: BlockMerger, o: Partial<CompactorOptions> = {}): Compactor {
  return new Compactor({ bucket: bkt, dataDir: join(tmp, 'data'), merger, consistencyDelayMs: 0, deleteDelayMs: 48 * H, now: () => NOW, ...o });
}

describe('Compactor', () => {
  test('compacts aligned 2h blocks into 8h blocks, marks inputs, hides them and keeps every sample', async () => {
    const bkt = new InMemoryBucket();
    const src: BlockMeta[] = [];
    for (let h = 0; h < 18; h += 2) src.push(await putBlock(bkt, { cluster: 'a' }, h, h + 2));
    const merger = new SampleMerger();
    const res = await compactor(bkt, merger).runOnce();
    // [0,8) and [8,16) are complete 8h ranges; [16,18) is the newest block.
    expect(res.compactions).toBe(2);
    expect(res.failedGroups).toEqual([]);
    const blocks = await blocksIn(bkt);
    const live = [...blocks.values()].filter((b) => b.meta !== undefined && !b.marks.includes(DELETION_MARK_FILENAME));
    expect(live.map((b) => [b.meta!.minTime / H, b.meta!.maxTime / H]).sort((a, b) => a[0]! - b[0]!)).toEqual([[0, 8], [8, 16], [16, 18]]);
    const c = live.find((b) => b.meta!.minTime === 0)!.meta!;
    expect(c.compaction.level).toBe(2);
    expect(c.compaction.sources).toEqual(src.slice(0, 4).map((m) => m.ulid).sort());
    expect(c.compaction.parents?.map((p) => p.ulid)).toEqual(src.slice(0, 4).map((m) => m.ulid));
    expect(c.thanos?.source).toBe('compactor');
    expect(c.thanos?.labels).toEqual({ cluster: 'a' });
    expect(c.stats.numSamples).toBe(2 * 8 * 4);
    for (const m of src.slice(0, 8)) expect(blocks.get(m.ulid)!.marks).toContain(DELETION_MARK_FILENAME);
    // A second pass finds nothing new to do (the marked inputs are hidden by their sources).
    const again = await compactor(bkt, merger).runOnce();
    expect(again.compactions).toBe(0);
  });

  test('--selector.relabel-config: only the selected groups are touched; --compact.concurrency: groups are merged at once', async () => {
    const bkt = new InMemoryBucket();
    for (const cluster of ['a', 'b', 'c']) for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster }, h, h + 2);
    let inFlight = 0;
    let most = 0;
    const inner = new SampleMerger();
    const merger: BlockMerger = {
      async merge(req) {
        most = Math.max(most, ++inFlight);
        // Wait until a second merge started (or give up after a while: concurrency 1 never gets one).
        for (let i = 0; i < 5000 && inFlight < 2; i++) await new Promise((r) => setImmediate(r));
        try {
          return await inner.merge(req);
        } finally {
          inFlight--;
        }
      },
    };
    const relabel = parseRelabelConfigs('- action: drop\n  source_labels: [cluster]\n  regex: c\n');
    const res = await compactor(bkt, merger, { relabel, concurrency: 2 }).runOnce();
    expect(res.compactions).toBe(2);
    expect(most).toBe(2);
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && !x.marks.includes(DELETION_MARK_FILENAME));
    const byCluster = (c: string) => live.filter((x) => x.meta!.thanos!.labels['cluster'] === c).length;
    expect([byCluster('a'), byCluster('b'), byCluster('c')]).toEqual([2, 2, 5]);
    // With concurrency 1 the merges run one after another.
    most = 0;
    const bkt2 = new InMemoryBucket();
    for (const cluster of ['a', 'b']) for (let h = 0; h < 10; h += 2) await putBlock(bkt2, { cluster }, h, h + 2);
    expect((await compactor(bkt2, merger, { concurrency: 1, dataDir: join(tmp, 'c1') }).runOnce()).compactions).toBe(2);
    expect(most).toBe(1);
  });

  test('deletes marked blocks after the delete delay, the meta.json first', async () => {
    const bkt = new InMemoryBucket();
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'a' }, h, h + 2);
    let now = NOW;
    const c = compactor(bkt, new SampleMerger(), { now: () => now });
    expect((await c.runOnce()).compactions).toBe(1);
    expect((await blocksIn(bkt)).size).toBe(6);
    now += 49 * H;
    const res = await c.runOnce();
    expect(res.deleted).toBe(4);
    expect((await blocksIn(bkt)).size).toBe(2);
  });

  test('vertical compaction merges overlapping blocks; replica labels are dropped with dedup', async () => {
    const bkt = new InMemoryBucket();
    const a = await putBlock(bkt, { cluster: 'c', replica: 'a' }, 0, 2);
    const b = await putBlock(bkt, { cluster: 'c', replica: 'b' }, 0, 2, { offset: 60_000 });
    // Without dedup the replicas are separate groups: nothing to do.
    expect((await compactor(bkt, new SampleMerger()).runOnce()).compactions).toBe(0);
    const res = await compactor(bkt, new SampleMerger(), { replicaLabels: ['replica'], dataDir: join(tmp, 'd2') }).runOnce();
    expect(res.compactions).toBe(1);
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && x.marks.length === 0);
    expect(live).toHaveLength(1);
    expect(live[0]!.meta!.thanos!.labels).toEqual({ cluster: 'c' });
    expect(live[0]!.meta!.compaction.sources).toEqual([a.ulid, b.ulid].sort());
    expect(live[0]!.meta!.stats.numSamples).toBe(2 * 8 * 2);
  });

  test('a faulty group is quarantined with a no-compact mark while other groups compact', async () => {
    const bkt = new InMemoryBucket();
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'bad' }, h, h + 2, { name: h === 2 ? 'unmergeable' : 'm' });
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'good' }, h, h + 2);
    const res = await compactor(bkt, new SampleMerger()).runOnce();
    expect(res.compactions).toBeGreaterThanOrEqual(1);
    expect(res.quarantined.length).toBeGreaterThan(0);
    expect(res.quarantined[0]!.reason).toBe('unmergeable-blocks');
    const marked = await readNoCompactMark(bkt, res.quarantined[0]!.block);
    expect(marked?.details).toMatch(/cannot be merged/);
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && !x.marks.includes(DELETION_MARK_FILENAME));
    expect(live.filter((x) => x.meta!.thanos!.labels['cluster'] === 'good').map((x) => x.meta!.maxTime / H).sort((p, q) => p - q)).toEqual([8, 10]);
  });

  test('a corrupt block is quarantined; no-compact marked blocks are left alone', async () => {
    const bkt = new InMemoryBucket();
    const ms: BlockMeta[] = [];
    for (let h = 0; h < 10; h += 2) ms.push(await putBlock(bkt, { cluster: 'a' }, h, h + 2));
    await bkt.upload(`${ms[1]!.ulid}/index`, new Uint8Array([1, 2, 3]));
    const res = await compactor(bkt, new SampleMerger()).runOnce();
    expect(res.quarantined.map((q) => q.block)).toEqual([ms[1]!.ulid]);
    expect(res.quarantined[0]!.reason).toBe('block-corrupt');
    // The planner then compacts around the marked block without gaps: [4,6),[6,8).
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && !x.marks.includes(DELETION_MARK_FILENAME));
    expect(live.map((x) => [x.meta!.minTime / H, x.meta!.maxTime / H]).sort((p, q) => p[0]! - q[0]!)).toEqual([[0, 2], [2, 4], [4, 8], [8, 10]]);
    expect((await blocksIn(bkt)).get(ms[1]!.ulid)!.marks).toEqual([NO_COMPACT_MARK_FILENAME]);
  });

  test('a quarantine is logged (group, block, reason) and counted: quarantine and mark counters, no-compact gauge', async () => {
    const bkt = new InMemoryBucket();
    const ms: BlockMeta[] = [];
    for (let h = 0; h < 10; h += 2) ms.push(await putBlock(bkt, { cluster: 'a' }, h, h + 2));
    await bkt.upload(`${ms[1]!.ulid}/index`, new Uint8Array([1, 2, 3]));
    const registry = new Registry();
    let log = '';
    const logger = newLogger({ write: (s: string) => ((log += s), true) } as unknown as NodeJS.WritableStream);
    const c = compactor(bkt, new SampleMerger(), { registry, logger });
    expect((await c.runOnce()).quarantined.map((q) => q.block)).toEqual([ms[1]!.ulid]);
    const line = log.split('\n').find((l) => l.includes('quarantining faulty blocks'));
    expect(line, log).toBeDefined();
    expect(line).toMatch(/level=error/);
    expect(line).toContain(`blocks=${ms[1]!.ulid}`);
    expect(line).toContain('reason=block-corrupt');
    expect(line).toContain('group=');
    const text = await registry.metrics();
    expect(text).toMatch(/^tessera_compact_group_quarantined_total\{resolution="raw",reason="block-corrupt"\} 1$/m);
    expect(text).toMatch(/^thanos_compact_blocks_marked_total\{marker="no-compact-mark.json",reason="block-corrupt"\} 1$/m);
    expect(text).toMatch(/^thanos_compact_halted 0$/m);
    // The gauge counts the marks the sync saw: the next pass sees the new one.
    await c.runOnce();
    expect(await registry.metrics()).toMatch(/^tessera_compact_no_compact_blocks 1$/m);
  });

  test('overlapping downsampled blocks (which are never merged) are quarantined; the raw group beside them compacts', async () => {
    const bkt = new InMemoryBucket();
    const a = await putBlock(bkt, { cluster: 'ds' }, 0, 2, { resolution: 300_000 });
    const b = await putBlock(bkt, { cluster: 'ds' }, 1, 3, { resolution: 300_000 });
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'raw' }, h, h + 2);
    const res = await compactor(bkt, newStreamingMerger()).runOnce();
    expect(res.quarantined.map((q) => [q.block, q.reason]).sort()).toEqual([[a.ulid, 'downsample-vertical-compaction'], [b.ulid, 'downsample-vertical-compaction']].sort());
    expect(res.compactions).toBe(1);
    expect(res.failedGroups).toEqual([]);
    for (const id of [a.ulid, b.ulid]) expect((await readNoCompactMark(bkt, id))?.details).toMatch(/overlapping downsampled blocks/);
    // The next pass leaves them alone.
    const again = await compactor(bkt, newStreamingMerger()).runOnce();
    expect([again.compactions, again.quarantined.length]).toEqual([0, 0]);
  });

  test('manually no-compact marked blocks are not compacted', async () => {
    const bkt = new InMemoryBucket();
    const ms: BlockMeta[] = [];
    for (let h = 0; h < 10; h += 2) ms.push(await putBlock(bkt, { cluster: 'a' }, h, h + 2));
    for (const m of ms) await markForNoCompact(bkt, m.ulid, 'manual');
    const merger = new SampleMerger();
    expect((await compactor(bkt, merger).runOnce()).compactions).toBe(0);
    expect(merger.calls).toBe(0);
  });

  test('retention per resolution marks exactly the blocks past it', async () => {
    const bkt = new InMemoryBucket();
    const old = await putBlock(bkt, { cluster: 'a' }, 0, 2);
    const edge = await putBlock(bkt, { cluster: 'b' }, 2, 4);
    const young = await putBlock(bkt, { cluster: 'c' }, 4, 6);
    // now - retention = 4h: a block ending at 2h is past it, one ending at exactly 4h is not.
    const retentionMs = new Map([[0, NOW - 4 * H]]);
    const res = await compactor(bkt, new SampleMerger(), { retentionMs }).runOnce();
    expect(res.retention).toBe(1);
    const blocks = await blocksIn(bkt);
    expect(blocks.get(old.ulid)!.marks).toEqual([DELETION_MARK_FILENAME]);
    expect(blocks.get(edge.ulid)!.marks).toEqual([]);
    expect(blocks.get(young.ulid)!.marks).toEqual([]);
    // Another resolution's retention does not apply to raw blocks.
    const res5m = await compactor(bkt, new SampleMerger(), { retentionMs: new Map([[300_000, 1]]), dataDir: join(tmp, 'd5') }).runOnce();
    expect(res5m.retention).toBe(0);
  });

  test('retention of each resolution (raw, 5m, 1h, 1d) marks exactly its blocks past it, and the next pass deletes exactly those', async () => {
    const bkt = new InMemoryBucket();
    // Retention r per resolution puts the cut-off (now - r) at 4h, 6h, 8h and 10h of block time.
    const cut = new Map([[0, 4], [300_000, 6], [3_600_000, 8], [86_400_000, 10]]);
    const retentionMs = new Map([...cut].map(([res, h]) => [res, NOW - h * H]));
    const past: string[] = [];
    const kept: string[] = [];
    for (const [res, h] of cut) {
      // Each block in a group of its own (nothing to compact): past the cut-off, ending at it, after it.
      past.push((await putBlock(bkt, { res: String(res), at: 'past' }, h - 4, h - 2, { resolution: res })).ulid);
      kept.push((await putBlock(bkt, { res: String(res), at: 'edge' }, h - 2, h, { resolution: res })).ulid);
      kept.push((await putBlock(bkt, { res: String(res), at: 'young' }, h, h + 2, { resolution: res })).ulid);
    }
    const c = compactor(bkt, new SampleMerger(), { retentionMs, deleteDelayMs: 0 });
    const res = await c.runOnce();
    expect(res.retention).toBe(4);
    let blocks = await blocksIn(bkt);
    expect([...blocks].filter(([, b]) => b.marks.includes(DELETION_MARK_FILENAME)).map(([id]) => id).sort()).toEqual([...past].sort());
    expect((await c.runOnce()).deleted).toBe(4);
    blocks = await blocksIn(bkt);
    expect([...blocks.keys()].sort()).toEqual([...kept].sort());
    for (const id of kept) expect(blocks.get(id)!.marks).toEqual([]);
  });

  test('a crash after upload leaves duplicates that the next pass marks; partial uploads are cleaned', async () => {
    const bkt = new InMemoryBucket();
    const ms: BlockMeta[] = [];
    for (let h = 0; h < 10; h += 2) ms.push(await putBlock(bkt, { cluster: 'a' }, h, h + 2));
    // Simulate: a compacted block of the first four exists, its inputs are unmarked.
    const dir = await mkdtemp(join(tmp, 'x-'));
    const w = await BlockWriter.create(dir, { ulid: gen.next(NOW - H), minTime: 0, maxTime: 8 * H, level: 2, sources: ms.slice(0, 4).map((m) => m.ulid) });
    await w.addSeries(Labels.fromRecord({ __name__: 'm', i: '0' }), [0], [0]);
    const b = await w.flush();
    await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: { cluster: 'a' }, downsample: { resolution: 0 }, source: 'compactor', index_stats: {} } });
    await uploadBlock(bkt, b.dir, { now: () => NOW - H });
    // And a partial upload (no meta.json), old enough to be an aborted one.
    const partial = gen.next(NOW - 72 * H);
    await bkt.upload(`${partial}/index`, new Uint8Array([1]));
    const merger = new SampleMerger();
    // The in-memory bucket stamps objects with the real clock.
    const res = await compactor(bkt, merger, { partialUploadThresholdMs: 0, now: () => Date.now() + 1000 }).runOnce();
    expect(merger.calls).toBe(0);
    const blocks = await blocksIn(bkt);
    for (const m of ms.slice(0, 4)) expect(blocks.get(m.ulid)!.marks).toEqual([DELETION_MARK_FILENAME]);
    expect(blocks.has(partial)).toBe(false);
    expect(res.deleted).toBe(1);
  });

  test('the pass stops when the lease is lost', async () => {
    const bkt = new InMemoryBucket();
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'a' }, h, h + 2);
    const lease = new BucketLease({ bucket: bkt, owner: 'me', ttlMs: 60_000, settleMs: 0 });
    await lease.acquire({ wait: false });
    const other = new BucketLease({ bucket: bkt, owner: 'me', ttlMs: 60_000, settleMs: 0 });
    await other.acquire({ wait: false }); // takes it over
    await lease.renew();
    await expect(compactor(bkt, new SampleMerger(), { lease }).runOnce()).rejects.toThrow(/lost|no longer held/);
    await other.release();
    await lease.release();
    const blocks = await blocksIn(bkt);
    expect([...blocks.values()].every((x) => x.marks.length === 0)).toBe(true);
  });
});

describe('Compactor with the streaming merger', () => {
  async function liveSamples(bkt: InMemoryBucket): Promise<{ metas: BlockMeta[]; samples: Map<string, [number, number][]> }> {
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && !x.marks.includes(DELETION_MARK_FILENAME)).map((x) => x.meta!);
    const samples = new Map<string, [number, number][]>();
    for (const m of live.sort((a, b) => a.minTime - b.minTime)) {
      const dir = join(tmp, 'read', m.ulid);
      await downloadBlock(bkt, m.ulid, dir);
      for (const [k, s] of await readSamples(dir)) samples.set(k, [...(samples.get(k) ?? []), ...s.samples]);
    }
    return { metas: live, samples };
  }

  test('2h blocks become 8h blocks with the same samples', async () => {
    const bkt = new InMemoryBucket();
    for (let h = 0; h < 10; h += 2) await putBlock(bkt, { cluster: 'a' }, h, h + 2, { series: 3 });
    const before = await liveSamples(bkt);
    const res = await compactor(bkt, newStreamingMerger()).runOnce();
    expect(res.compactions).toBe(1);
    const after = await liveSamples(bkt);
    expect(after.metas.map((m) => [m.minTime / H, m.maxTime / H]).sort((a, b) => a[0]! - b[0]!)).toEqual([[0, 8], [8, 10]]);
    expect(after.samples).toEqual(before.samples);
    const c = after.metas.find((m) => m.maxTime === 8 * H)!;
    expect(c.stats).toMatchObject({ numSamples: 3 * 8 * 4, numSeries: 3 });
    expect(c.thanos?.index_stats.series_max_size).toBeGreaterThan(0);
  });

  test('replicas are deduplicated: identical samples once, distinct samples merged', async () => {
    const bkt = new InMemoryBucket();
    await putBlock(bkt, { cluster: 'c', replica: 'a' }, 0, 2);
    await putBlock(bkt, { cluster: 'c', replica: 'b' }, 0, 2);
    await putBlock(bkt, { cluster: 'd', replica: 'a' }, 0, 2);
    await putBlock(bkt, { cluster: 'd', replica: 'b' }, 0, 2, { offset: 60_000 });
    const res = await compactor(bkt, newStreamingMerger(), { replicaLabels: ['replica'] }).runOnce();
    expect(res.compactions).toBe(2);
    const after = await liveSamples(bkt);
    expect(after.metas.map((m) => m.thanos!.labels).sort((a, b) => (a['cluster']! < b['cluster']! ? -1 : 1))).toEqual([{ cluster: 'c' }, { cluster: 'd' }]);
    const c = after.metas.find((m) => m.thanos!.labels['cluster'] === 'c')!;
    const d = after.metas.find((m) => m.thanos!.labels['cluster'] === 'd')!;
    expect(c.stats.numSamples).toBe(2 * 8);
    expect(d.stats.numSamples).toBe(2 * 16);
  });
});

describe('Compactor downsampling', () => {
  test('a raw block of 48h gets a 5m copy once; a 5m block of 48h is not downsampled further', async () => {
    const bkt = new InMemoryBucket();
    const raw = await putBlock(bkt, { cluster: 'a' }, 0, 48, { level: 3 });
    const c = compactor(bkt, newStreamingMerger(), { downsampling: true });
    const res = await c.runOnce();
    expect(res.downsampled).toBe(1);
    const all = [...(await blocksIn(bkt)).values()].map((b) => b.meta!).filter((m) => m.ulid !== raw.ulid);
    expect(all).toHaveLength(1);
    const ds = all[0]!;
    expect(ds.thanos?.downsample.resolution).toBe(300_000);
    expect(ds.thanos?.labels).toEqual({ cluster: 'a' });
    expect(ds.thanos?.source).toBe('compactor');
    expect([ds.minTime, ds.maxTime, ds.compaction.level]).toEqual([0, 48 * H, 3]);
    expect(ds.compaction.sources).toEqual(raw.compaction.sources);
    expect(ds.stats.numSeries).toBe(2);
    // Nothing left to do: the 5m block covers the raw block's sources, and 48h < 10d for 1h.
    expect((await c.runOnce()).downsampled).toBe(0);
    expect((await compactor(bkt, newStreamingMerger(), { downsampling: false, dataDir: join(tmp, 'd9') }).runOnce()).downsampled).toBe(0);
  });
});

describe('Compactor downsampling thresholds', () => {
  const D = 24;
  /** Resolutions of the blocks of one cluster, each with the source block's range. */
  async function resolutions(bkt: InMemoryBucket, cluster: string, src: BlockMeta): Promise<number[]> {
    const ms = [...(await blocksIn(bkt)).values()].map((b) => b.meta!).filter((m) => m.thanos!.labels['cluster'] === cluster);
    for (const m of ms) expect([m.minTime, m.maxTime], cluster).toEqual([src.minTime, src.maxTime]);
    return ms.map((m) => m.thanos!.downsample.resolution).sort((a, b) => a - b);
  }

  test('raw → 5m at 40h, 5m → 1h at 10 days, 1h → 1d at 14 days, chained in one pass; --downsampling.disable-1d stops at 1h', async () => {
    const bkt = new InMemoryBucket();
    const blocks = {
      short: await putBlock(bkt, { cluster: 'h39' }, 0, 39, { level: 3 }),
      h40: await putBlock(bkt, { cluster: 'h40' }, 0, 40, { level: 3 }),
      d9: await putBlock(bkt, { cluster: 'd9' }, 0, 10 * D - 1, { level: 3 }),
      d10: await putBlock(bkt, { cluster: 'd10' }, 0, 10 * D, { level: 4 }),
      d13: await putBlock(bkt, { cluster: 'd13' }, 0, 14 * D - 1, { level: 4 }),
      d14: await putBlock(bkt, { cluster: 'd14' }, 0, 14 * D, { level: 4 }),
    };
    const res = await compactor(bkt, newStreamingMerger(), { downsampling: true }).runOnce();
    expect(res.failedGroups).toEqual([]);
    expect(await resolutions(bkt, 'h39', blocks.short)).toEqual([0]);
    expect(await resolutions(bkt, 'h40', blocks.h40)).toEqual([0, 300_000]);
    expect(await resolutions(bkt, 'd9', blocks.d9)).toEqual([0, 300_000]);
    expect(await resolutions(bkt, 'd10', blocks.d10)).toEqual([0, 300_000, 3_600_000]);
    expect(await resolutions(bkt, 'd13', blocks.d13)).toEqual([0, 300_000, 3_600_000]);
    expect(await resolutions(bkt, 'd14', blocks.d14)).toEqual([0, 300_000, 3_600_000, 86_400_000]);
    expect(res.downsampled).toBe(1 + 1 + 2 + 2 + 3);

    // The switch for buckets shared with Thanos: the same 14-day block stops at 1h.
    const shared = new InMemoryBucket();
    const d14 = await putBlock(shared, { cluster: 'd14' }, 0, 14 * D, { level: 4 });
    const r2 = await compactor(shared, newStreamingMerger(), { downsampling: true, disable1d: true, dataDir: join(tmp, 'd1d') }).runOnce();
    expect(r2.downsampled).toBe(2);
    expect(await resolutions(shared, 'd14', d14)).toEqual([0, 300_000, 3_600_000]);
  }, 120_000);
});

describe('Compactor repairs out-of-order chunks', () => {
  /**
   * Uploads a [0,2h) block whose series has two chunks where the index says the second starts at
   * the first one's maxTime (an out-of-order chunk, as Thanos's verifier sees them). The second
   * chunk also holds a sample at that timestamp: the same value (repairable) or another one.
   */
  async function putOutOfOrder(bkt: InMemoryBucket, ext: Record<string, string>, conflict: boolean): Promise<BlockMeta> {
    const b = await writeOutOfOrderBlock(await mkdtemp(join(tmp, 'ooo-')), { ulid: gen.next(NOW - 100 * H), conflict });
    await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: ext, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
    return uploadBlock(bkt, b.dir, { now: () => NOW - 50 * H });
  }

  test('repairable samples: the block is rewritten in order and compacted; conflicting ones: quarantined', async () => {
    const bkt = new InMemoryBucket();
    const good = await putOutOfOrder(bkt, { cluster: 'ok' }, false);
    for (let h = 2; h < 10; h += 2) await putBlock(bkt, { cluster: 'ok' }, h, h + 2, { series: 1 });
    const bad = await putOutOfOrder(bkt, { cluster: 'conflict' }, true);
    for (let h = 2; h < 10; h += 2) await putBlock(bkt, { cluster: 'conflict' }, h, h + 2, { series: 1 });
    // The verifier sees the problem.
    const d = join(tmp, 'v');
    await downloadBlock(bkt, good.ulid, join(d, good.ulid));
    expect((await verifyBlock(join(d, good.ulid))).issues.map((i) => i.kind)).toEqual(['out-of-order-chunks']);

    const res = await compactor(bkt, newStreamingMerger()).runOnce();
    expect(res.repaired.map((r) => r.block)).toEqual([good.ulid]);
    expect(res.quarantined.map((q) => [q.block, q.reason])).toEqual([[bad.ulid, 'block-index-out-of-order-chunk']]);
    expect(res.quarantined[0]!.details).toMatch(/two values \(3 and 99\)/);
    const after = await liveSamples(bkt);
    const ok = after.metas.filter((m) => m.thanos!.labels['cluster'] === 'ok').sort((a, b) => a.minTime - b.minTime);
    expect(ok.map((m) => [m.minTime / H, m.maxTime / H])).toEqual([[0, 8], [8, 10]]);
    const series = after.samples.get('{__name__="m"}')!;
    expect(series.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => [k * 15 * 60_000, k]));
  });

  async function liveSamples(bkt: InMemoryBucket): Promise<{ metas: BlockMeta[]; samples: Map<string, [number, number][]> }> {
    const live = [...(await blocksIn(bkt)).values()].filter((x) => x.meta !== undefined && !x.marks.includes(DELETION_MARK_FILENAME) && !x.marks.includes(NO_COMPACT_MARK_FILENAME)).map((x) => x.meta!);
    const samples = new Map<string, [number, number][]>();
    for (const m of live.sort((a, b) => a.minTime - b.minTime)) {
      const dir = join(tmp, 'read2', m.ulid);
      await downloadBlock(bkt, m.ulid, dir);
      for (const [k, s] of await readSamples(dir)) samples.set(k, [...(samples.get(k) ?? []), ...s.samples]);
    }
    return { metas: live, samples };
  }
});
