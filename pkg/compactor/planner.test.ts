import { describe, expect, test } from 'vitest';
import type { BlockMeta } from '../tsdb/index.js';
import { COMPACTION_LEVELS, compactionLevels, planCompaction, selectOverlapping, splitByRange } from './planner.js';

const H = 3_600_000;
let seq = 0;

/** meta makes a block [minH, maxH) hours with a fresh ULID-shaped id (order follows creation). */
function meta(minH: number, maxH: number, extra: Partial<BlockMeta> = {}): BlockMeta {
  const n = (seq++).toString(36).toUpperCase().padStart(6, '0');
  return {
    ulid: `01HZZZZZZZZZZZZZZZZZ${n}`,
    minTime: minH * H,
    maxTime: maxH * H,
    stats: {},
    compaction: { level: 1 },
    version: 1,
    ...extra,
  };
}

const ids = (ms: readonly BlockMeta[]): string[] => ms.map((m) => m.ulid);
const plan = (ms: BlockMeta[], excluded: Set<string> = new Set()) => planCompaction(ms, COMPACTION_LEVELS, (id) => excluded.has(id));

describe('planCompaction', () => {
  test('nothing to do for fewer than three 2h blocks of one 8h range', () => {
    expect(plan([])).toEqual([]);
    expect(plan([meta(0, 2)])).toEqual([]);
    expect(plan([meta(0, 2), meta(2, 4)])).toEqual([]);
  });

  test('the newest block is left out; an incomplete range is compacted only once a later range has blocks', () => {
    // Without the newest, [0,2),[2,4) span 4h < 8h and reach past the start of [4,6): may still grow.
    expect(plan([meta(0, 2), meta(2, 4), meta(4, 6)])).toEqual([]);
    const bs = [meta(0, 2), meta(2, 4), meta(8, 10), meta(10, 12)];
    // [0,2),[2,4) end before [8,10) starts: the 8h range [0,8) will not grow any more.
    expect(ids(plan(bs))).toEqual(ids(bs.slice(0, 2)));
  });

  test('a full 8h range of four 2h blocks is compacted once a newer block exists', () => {
    const bs = [meta(0, 2), meta(2, 4), meta(4, 6), meta(6, 8), meta(8, 10)];
    expect(ids(plan(bs))).toEqual(ids(bs.slice(0, 4)));
  });

  test('ranges are epoch aligned: blocks across an 8h boundary are not merged', () => {
    const bs = [meta(6, 8), meta(8, 10), meta(10, 12)];
    // [6,8) is alone in [0,8); [8,10) is the only one before the newest in [8,16).
    expect(plan(bs)).toEqual([]);
  });

  test('8h blocks are merged into an aligned 2d range', () => {
    const bs = [0, 8, 16, 24, 32, 40].map((h) => meta(h, h + 8));
    bs.push(meta(48, 50));
    expect(ids(plan(bs))).toEqual(ids(bs.slice(0, 6)));
  });

  test('2d blocks are merged into an aligned 14d range', () => {
    // 14 days since epoch: day 0 (Thursday) aligned to 14d multiples of epoch.
    const bs = Array.from({ length: 7 }, (_, i) => meta(i * 48, i * 48 + 48));
    bs.push(meta(14 * 24, 14 * 24 + 2));
    expect(ids(plan(bs))).toEqual(ids(bs.slice(0, 7)));
  });

  test('overlapping blocks come first (vertical compaction), with the block the overlap starts in', () => {
    const a = meta(0, 2);
    const b = meta(2, 4);
    const c = meta(3, 5);
    const d = meta(4, 6);
    const e = meta(10, 12);
    expect(ids(plan([a, b, c, d, e]))).toEqual(ids([b, c, d]));
  });

  test('identical replica ranges overlap', () => {
    const a = meta(0, 2);
    const b = meta(0, 2);
    expect(ids(plan([a, b]))).toEqual(ids([a, b]));
  });

  test('no-compact marked blocks are excluded without creating gaps', () => {
    const bs = [meta(0, 2), meta(2, 4), meta(4, 6), meta(6, 8), meta(8, 10)];
    // Marking the second block leaves [4,6),[6,8) as the longest run after it.
    expect(ids(plan(bs, new Set([bs[1]!.ulid])))).toEqual(ids(bs.slice(2, 4)));
    // A marked block overlapping another is not vertically compacted; the run after it is used.
    const x = meta(1, 3);
    const withOverlap = [bs[0]!, x, ...bs.slice(1)];
    expect(ids(plan(withOverlap, new Set([x.ulid])))).toEqual(ids(bs.slice(1, 4)));
  });

  test('ranges with a failed compaction are skipped', () => {
    const bs = [meta(0, 2), meta(2, 4, { compaction: { level: 1, failed: true } }), meta(4, 6), meta(6, 8), meta(8, 10)];
    expect(plan(bs)).toEqual([]);
  });

  test('a big block with more than 5% tombstones is rewritten alone', () => {
    const big = meta(0, 8, { stats: { numSeries: 10, numTombstones: 1 } });
    const newest = meta(8, 10);
    expect(ids(plan([big, newest]))).toEqual([big.ulid]);
    const few = meta(0, 8, { stats: { numSeries: 100, numTombstones: 1 } });
    expect(plan([few, newest])).toEqual([]);
  });

  test('negative times align toward minus infinity', () => {
    const bs = [meta(-8, -6), meta(-6, -4), meta(-4, -2), meta(-2, 0), meta(0, 2)];
    expect(ids(plan(bs))).toEqual(ids(bs.slice(0, 4)));
  });
});

describe('helpers', () => {
  test('splitByRange follows the example of Prometheus', () => {
    const bs = [meta(0, 10), meta(10, 20), meta(50, 60), meta(90, 100)];
    expect(splitByRange(bs, 30 * H).map(ids)).toEqual([ids(bs.slice(0, 2)), [bs[2]!.ulid], [bs[3]!.ulid]]);
  });

  test('splitByRange skips blocks larger than their aligned range', () => {
    const bs = [meta(0, 40), meta(40, 50)];
    expect(splitByRange(bs, 30 * H).map(ids)).toEqual([[bs[1]!.ulid]]);
  });

  test('selectOverlapping returns only the first overlapping run', () => {
    const bs = [meta(0, 2), meta(1, 3), meta(4, 6), meta(5, 7)];
    expect(ids(selectOverlapping(bs))).toEqual(ids(bs.slice(0, 2)));
  });

  test('compactionLevels are Thanos levels', () => {
    expect(compactionLevels()).toEqual([H, 2 * H, 8 * H, 48 * H, 14 * 24 * H]);
    expect(compactionLevels(2)).toEqual([H, 2 * H, 8 * H]);
    expect(() => compactionLevels(5)).toThrow(/outside/);
  });
});
