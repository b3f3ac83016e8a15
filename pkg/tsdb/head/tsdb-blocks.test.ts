import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ValueType } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import type { Querier } from '../../storage/index.js';
import { requireBinary } from '../../testutil/index.js';
import { parseBlockMeta } from '../meta/index.js';
import { Tsdb, type TsdbOptions } from './tsdb.js';

const run = promisify(execFile);
const H = 3_600_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-tsdb-blocks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const L = (...nv: string[]) => Labels.fromStrings(...nv);
const all = new Matcher(MatchType.Regexp, '__name__', '.+');

async function dump(q: Querier, matcher = all): Promise<string[]> {
  const set = await q.select(true, undefined, [matcher]);
  const out: string[] = [];
  while (set.next()) {
    const it = set.at().iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      out.push(`${set.at().labels().toString()} ${vt === ValueType.Float ? it.atF() : `h${it.atFloatHistogram().sum}`} ${it.atT()}`);
    }
  }
  expect(set.err()).toBeNull();
  await q.close();
  return out;
}

function hist(count: number): FloatHistogram {
  const h = new FloatHistogram();
  h.count = count;
  h.sum = count * 2;
  h.positiveSpans = [{ offset: 0, length: 1 }];
  h.positiveBuckets = [count];
  return h;
}

/** Appends one commit per 30 s from `from` to `to`: 10 float series and one float histogram series. */
async function fill(db: Tsdb, from: number, to: number, step = 30_000, compact = true): Promise<string[]> {
  const want: string[] = [];
  for (let t = from; t < to; t += step) {
    const a = db.appender();
    for (let i = 0; i < 10; i++) {
      a.append(0, L('__name__', 'rec', 'i', String(i)), t, t / 1000 + i);
    }
    a.appendHistogram(0, L('__name__', 'hist'), t, hist(t / step));
    await a.commit();
  }
  if (compact) await db.compact();
  for (let i = 0; i < 10; i++) for (let t = from; t < to; t += step) want.push(`{__name__="rec", i="${i}"} ${t / 1000 + i} ${t}`);
  return want;
}

const ruler: TsdbOptions = { thanos: { labels: L('replica', 'r1', 'tenant', 't'), source: 'ruler' } };

describe('Tsdb blocks', () => {
  test('the head is cut into 2h blocks when it spans more than 3h; head + blocks serve every sample once, also after a restart', async () => {
    const db = await Tsdb.open(dir, ruler);
    const want = await fill(db, 0, 7 * H);
    const blocks = db.blocks();
    expect(blocks.map((b) => [b.minTime, b.maxTime])).toEqual([
      [0, 2 * H],
      [2 * H, 4 * H],
    ]);
    expect(db.head.minTime()).toBe(4 * H);
    const meta = parseBlockMeta(await readFile(join(blocks[0]!.dir, 'meta.json'), 'utf8'), 'meta.json');
    expect(meta.compaction.level).toBe(1);
    expect(meta.stats.numSamples).toBe(240 * 11);
    expect(meta.thanos).toMatchObject({ labels: { replica: 'r1', tenant: 't' }, source: 'ruler', downsample: { resolution: 0 } });
    expect(await dump(await db.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'))).toEqual(want);
    const hists = await dump(await db.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'hist'));
    expect(hists).toHaveLength(7 * 120);
    expect((await db.querier(0, 7 * H).then((q) => q.labelValues('i', []))).values).toHaveLength(10);
    // The WAL holds only what the head has: a checkpoint replaced the segments before the cut.
    const walFiles = await readdir(join(dir, 'wal'));
    expect(walFiles.some((f) => f.startsWith('checkpoint.'))).toBe(true);
    await db.close();

    const again = await Tsdb.open(dir, ruler);
    expect(again.blocks()).toHaveLength(2);
    expect(again.replay.damage).toBeUndefined();
    expect(again.replay.samples).toBe(3 * 120 * 11);
    expect(await dump(await again.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'))).toEqual(want);
    // Appending before the newest block's end is out of bounds.
    const a = again.appender();
    expect(() => a.append(0, L('__name__', 'late'), 4 * H - 1, 1)).toThrow(/out of bounds/);
    await a.rollback();
    await again.close();
  });

  test('a crash after the block was written but before the WAL checkpoint neither loses nor duplicates samples', async () => {
    const db = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    const want = await fill(db, 0, 3.5 * H, 30_000, false);
    // The WAL as it is before the cut: every sample, no checkpoint.
    const saved = `${dir}-wal`;
    await cp(join(dir, 'wal'), saved, { recursive: true });
    await db.compact();
    expect(db.blocks()).toHaveLength(1);
    await db.close();
    // As if the process died after writing the block but before checkpointing the WAL.
    await rm(join(dir, 'wal'), { recursive: true, force: true });
    await cp(saved, join(dir, 'wal'), { recursive: true });
    await rm(saved, { recursive: true, force: true });
    const reopened = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    try {
      expect(reopened.blocks()).toHaveLength(1);
      expect(reopened.replay.skipped).toBe(240 * 11);
      expect(await dump(await reopened.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'))).toEqual(want);
    } finally {
      await reopened.close();
    }
  });

  test('a sample appended before a cut and committed after it goes into the block: served exactly once, also after a restart', async () => {
    const db = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    const want1 = await fill(db, 0, 2.9 * H, 30_000, false);
    // Appended while the head spans less than 3h: 1.9h is still inside what the head accepts.
    const late = db.appender();
    late.append(0, L('__name__', 'late'), 1.9 * H, 1);
    late.append(0, L('__name__', 'late'), 2.95 * H, 2);
    const want = [...want1, ...(await fill(db, 2.9 * H, 3.5 * H, 30_000, false))].sort();
    expect(db.compactable()).toBe(true);
    const cut = db.compact();
    // The cut of [0, 2h) waits for the open appender that holds a sample inside it.
    expect(db.head.hasAppendersBefore(2 * H)).toBe(true);
    expect(db.blocks()).toHaveLength(0);
    const other = db.appender();
    expect(() => other.append(0, L('__name__', 'late'), 1.95 * H, 3)).toThrow(/out of bounds/);
    await other.rollback();
    await late.commit();
    const res = await cut;
    expect(res.blocks.map((b) => [b.minTime, b.maxTime])).toEqual([[0, 2 * H]]);
    const lateM = new Matcher(MatchType.Equal, '__name__', 'late');
    const lateWant = [`{__name__="late"} 1 ${1.9 * H}`, `{__name__="late"} 2 ${2.95 * H}`];
    // In the block (not dropped), in the head only from 2h on.
    expect(await dump(await db.querier(-Infinity, Infinity), lateM)).toEqual(lateWant);
    expect(await dump(await db.head.querier(-Infinity, Infinity), lateM)).toEqual([lateWant[1]]);
    expect((await dump(await db.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'))).sort()).toEqual(want);
    await db.close();

    const again = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    try {
      expect(again.blocks()).toHaveLength(1);
      expect(await dump(await again.querier(-Infinity, Infinity), lateM)).toEqual(lateWant);
      expect((await dump(await again.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'))).sort()).toEqual(want);
    } finally {
      await again.close();
    }
  });

  test('a rolled-back appender releases a waiting cut; close releases it too, cutting nothing', async () => {
    const db = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    await fill(db, 0, 2.9 * H, 60_000, false);
    const a = db.appender();
    a.append(0, L('__name__', 'late'), 1.9 * H, 1);
    await fill(db, 2.9 * H, 3.5 * H, 60_000, false);
    const cut = db.compact();
    await a.rollback();
    expect((await cut).blocks).toHaveLength(1);
    expect(await dump(await db.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'late'))).toEqual([]);
    await db.close();

    const db2 = await Tsdb.open(dir, { ...ruler, autoCompact: false });
    const b = db2.appender();
    b.append(0, L('__name__', 'late'), 3.9 * H, 1);
    await fill(db2, 3.5 * H, 5.5 * H, 60_000, false);
    const cut2 = db2.compact();
    expect(db2.head.hasAppendersBefore(4 * H)).toBe(true);
    await db2.close();
    expect((await cut2).blocks).toHaveLength(0);
    expect(db2.blocks()).toHaveLength(1);
    await expect(b.commit()).rejects.toThrow();
  });

  test('retention deletes blocks whose maxTime is that far behind the newest block', async () => {
    const db = await Tsdb.open(dir, { ...ruler, blockDuration: H, retention: 2 * H });
    await fill(db, 0, 8 * H, 60_000);
    const blocks = db.blocks();
    expect(db.stats()).toMatchObject({ blocks: 2, blocksDeletedByRetention: 5, compactionFailures: 0, walCorruptions: 0, headMinTime: 7 * H });
    expect(db.stats().compactions).toBeGreaterThan(0);
    expect(db.stats().checkpoints).toBeGreaterThan(0);
    const newest = Math.max(...blocks.map((b) => b.maxTime));
    expect(newest).toBe(7 * H);
    expect(blocks.map((b) => b.maxTime)).toEqual([6 * H, 7 * H]);
    const names = await readdir(dir);
    expect(names.filter((n) => /^[0-9A-Z]{26}$/.test(n))).toHaveLength(2);
    const got = await dump(await db.querier(-Infinity, Infinity), new Matcher(MatchType.Equal, '__name__', 'rec'));
    expect(got[0]).toBe(`{__name__="rec", i="0"} ${(5 * H) / 1000} ${5 * H}`);
    await db.close();
  });

  test('a querier opened before retention deletes a block still reads it; the block is closed when the querier is', async () => {
    const db = await Tsdb.open(dir, { ...ruler, blockDuration: H, retention: 3 * H });
    await fill(db, 0, 4 * H, 60_000);
    const first = db.blocks()[0]!;
    expect(first.minTime).toBe(0);
    const q = await db.chunkQuerier(0, H - 1);
    await fill(db, 4 * H, 8 * H, 60_000);
    expect(db.blocks().map((b) => b.ulid)).not.toContain(first.ulid);
    const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'rec')]);
    let samples = 0;
    while (set.next()) for (const c of set.at().chunks()) samples += c.chunk.numSamples();
    expect(set.err()).toBeNull();
    expect(samples).toBe(10 * 60);
    await q.close();
    await db.close();
  });

  test('promtool tsdb dump reads our blocks and checkpointed WAL: every sample exactly once', async () => {
    const promtool = requireBinary('promtool');
    if (promtool === undefined) return;
    const db = await Tsdb.open(dir, { ...ruler, walSegmentSize: 32 * 1024 });
    const want = await fill(db, 1_000_000, 1_000_000 + 7 * H);
    expect(db.blocks().length).toBe(3);
    await db.close();
    const { stdout } = await run(promtool, ['tsdb', 'dump', '--match={__name__="rec"}', dir], { maxBuffer: 64 << 20 });
    const lines = stdout.trim().split('\n').sort();
    expect(lines).toEqual([...want].sort());
  });
});
