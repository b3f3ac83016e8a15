import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ValueType, isStaleNaN, staleNaN } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import type { Querier } from '../../storage/index.js';
import { requireBinary, startProcess, waitFor } from '../../testutil/index.js';
import { checkpoint, listSegments, segmentName } from '../wal/index.js';
import { Tsdb } from './tsdb.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./testdata/append-loop-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-tsdb-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const L = (...nv: string[]) => Labels.fromStrings(...nv);
const all = new Matcher(MatchType.Regexp, '__name__', '.+');

async function dump(q: Querier): Promise<string[]> {
  const set = await q.select(true, undefined, [all]);
  const out: string[] = [];
  while (set.next()) {
    const it = set.at().iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      const v = vt === ValueType.Float ? it.atF() : it.atFloatHistogram().sum;
      out.push(`${set.at().labels().toString()} ${it.atT()} ${isStaleNaN(v) ? 'stale' : v}${vt === ValueType.Float ? '' : ' h'}`);
    }
  }
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

async function fill(db: Tsdb, from: number, to: number): Promise<void> {
  for (let t = from; t < to; t += 15_000) {
    const a = db.appender();
    for (let i = 0; i < 20; i++) a.append(0, L('__name__', 'm', 'i', String(i)), t, t / 1000 + i);
    a.appendHistogram(0, L('__name__', 'h'), t, hist(t / 15_000));
    await a.commit();
  }
}

describe('Tsdb with WAL', () => {
  test('reopening replays every committed float, histogram and stale marker', async () => {
    const db = await Tsdb.open(dir);
    await fill(db, 0, 3_600_000);
    const a = db.appender();
    a.append(0, L('__name__', 'm', 'i', '0'), 3_600_000, staleNaN());
    await a.commit();
    const r = db.appender();
    r.append(0, L('__name__', 'rolled', 'back', 'yes'), 3_600_000, 1);
    await r.rollback();
    const want = await dump(await db.querier(-Infinity, Infinity));
    await db.close();
    const again = await Tsdb.open(dir);
    expect(again.replay.damage).toBeUndefined();
    expect(again.replay.samples).toBe(240 * 21 + 1);
    expect(await dump(await again.querier(-Infinity, Infinity))).toEqual(want);
    expect(want).toContain('{__name__="m", i="0"} 3600000 stale');
    // Appends go on with the replayed refs and chunks.
    const b = again.appender();
    b.append(0, L('__name__', 'm', 'i', '1'), 3_615_000, 5);
    await b.commit();
    await again.close();
  });

  test('a torn last record is cut off and reported; everything committed before it stays', async () => {
    const db = await Tsdb.open(dir);
    await fill(db, 0, 150_000);
    const before = await dump(await db.querier(-Infinity, Infinity));
    const a = db.appender();
    for (let i = 0; i < 20; i++) a.append(0, L('__name__', 'm', 'i', String(i)), 150_000, 1);
    await a.commit();
    await db.close();
    const seg = join(dir, 'wal', segmentName(0));
    const size = (await stat(seg)).size;
    await truncate(seg, size - 5);
    const again = await Tsdb.open(dir);
    expect(again.replay.damage?.segment).toBe(seg);
    expect(again.replay.damage?.reason).toContain('cut off');
    expect(await dump(await again.querier(-Infinity, Infinity))).toEqual(before);
    expect((await stat(seg)).size).toBe(again.replay.damage!.offset);
    await fill(again, 150_000, 180_000);
    await again.close();
    const third = await Tsdb.open(dir);
    expect(third.replay.damage).toBeUndefined();
    expect((await dump(await third.querier(-Infinity, Infinity))).length).toBe(before.length + 2 * 21);
    await third.close();
  });

  test('a checkpoint keeps live series and samples from mint; replay from checkpoint + later segments is the same head', async () => {
    const db = await Tsdb.open(dir, { walSegmentSize: 64 * 1024, blockDuration: 300_000, autoCompact: false });
    await fill(db, 0, 1_800_000);
    const st = db.appender();
    st.append(0, L('__name__', 'm', 'i', '3'), 1_790_000, staleNaN());
    st.append(0, L('__name__', 'h'), 1_790_000, staleNaN());
    await st.commit();
    const cur = await db.wal.nextSegment();
    db.head.truncate(900_000);
    const stats = await checkpoint(join(dir, 'wal'), cur - 1, (ref) => db.head.series(ref) !== undefined, 900_000);
    expect(stats.segmentsDeleted).toBeGreaterThan(0);
    expect(stats.samplesDropped).toBeGreaterThan(0);
    await fill(db, 1_800_000, 1_900_000);
    const want = await dump(await db.querier(-Infinity, Infinity));
    await db.close();
    const again = await Tsdb.open(dir, { blockDuration: 300_000, autoCompact: false });
    expect(again.replay.checkpoint).toBe(cur - 1);
    expect(await dump(await again.querier(-Infinity, Infinity))).toEqual(want);
    // Stale markers went through the checkpoint with their bit pattern.
    expect(want).toContain('{__name__="m", i="3"} 1790000 stale');
    expect(want).toContain('{__name__="h"} 1790000 stale h');
    expect(want[0]).toContain(' 900000 ');
    await again.close();
  });

  test('promtool tsdb dump reads our WAL (format compatibility)', async () => {
    const promtool = requireBinary('promtool');
    if (promtool === undefined) return;
    const db = await Tsdb.open(dir, { walSegmentSize: 32 * 1024 });
    for (let t = 1_000_000; t < 1_000_000 + 300 * 15_000; t += 15_000) {
      const a = db.appender();
      for (let i = 0; i < 10; i++) a.append(0, L('__name__', 'rule_result', 'i', String(i), 'job', 'é'), t, i * 1000 + t / 15_000 + 0.5);
      await a.commit();
    }
    await db.close();
    expect((await listSegments(join(dir, 'wal'))).length).toBeGreaterThan(1);
    const { stdout } = await run(promtool, ['tsdb', 'dump', dir], { maxBuffer: 64 << 20 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3000);
    const want = new Set<string>();
    for (let t = 1_000_000; t < 1_000_000 + 300 * 15_000; t += 15_000) {
      for (let i = 0; i < 10; i++) want.add(`{__name__="rule_result", i="${i}", job="é"} ${i * 1000 + t / 15_000 + 0.5} ${t}`);
    }
    for (const l of lines) expect(want.has(l), l).toBe(true);
  });

  async function killDuringAppends(args: string[], commits: number): Promise<number> {
    const p = startProcess(process.execPath, ['--import', 'tsx', child, dir, ...args], { cwd: root });
    try {
      await waitFor(`child committed ${commits} batches`, () => Promise.resolve((p.output().match(/committed/g)?.length ?? 0) >= commits), 120_000, 50);
    } finally {
      p.proc.kill('SIGKILL');
      await new Promise((r) => (p.proc.exitCode !== null || p.proc.signalCode !== null ? r(undefined) : p.proc.once('exit', r)));
    }
    expect(p.output()).not.toContain('compact:');
    return [...p.output().matchAll(/committed (\d+)/g)].map((m) => Number(m[1])).at(-1)!;
  }

  /** Every series has one sample per second from 1_000_000 on, exactly once, at least up to `last`. */
  async function expectContiguous(db: Tsdb, last: number): Promise<void> {
    const q = await db.querier(-Infinity, Infinity);
    const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'rec')]);
    let n = 0;
    while (set.next()) {
      const s = set.at();
      const i = Number(s.labels().get('i'));
      const it = s.iterator();
      let expectT = 1_000_000;
      for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
        expect(it.atT()).toBe(expectT);
        expect(it.atF()).toBe(expectT / 1000 + i);
        expectT += 1000;
      }
      expect(expectT - 1000).toBeGreaterThanOrEqual(last);
      n++;
    }
    expect(set.err()).toBeNull();
    expect(n).toBe(50);
    await q.close();
  }

  test('kill -9 while appending: every sample reported committed is there after reopening', async () => {
    const last = await killDuringAppends([], 30);
    const db = await Tsdb.open(dir);
    await expectContiguous(db, last);
    await db.close();
    const wal = await readFile(join(dir, 'wal', segmentName(0)));
    expect(wal.length).toBeGreaterThan(0);
  }, 180_000);

  test('kill -9 while appending and cutting 1-minute blocks, twice: nothing lost, nothing duplicated', async () => {
    const first = await killDuringAppends(['60000'], 200);
    const second = await killDuringAppends(['60000'], 200);
    expect(second).toBeGreaterThan(first);
    const db = await Tsdb.open(dir, { blockDuration: 60_000, autoCompact: false });
    // Compactions run in the background of the appends; at least the first ones finished.
    expect(db.blocks().length).toBeGreaterThanOrEqual(1);
    await expectContiguous(db, second);
    await db.close();
  }, 240_000);
});
