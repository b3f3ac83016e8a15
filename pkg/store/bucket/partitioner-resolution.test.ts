import { describe, expect, test } from 'vitest';
import { partitionRanges } from './partitioner.js';
import { selectByResolution } from './resolution.js';

describe('partitionRanges', () => {
  test.each([
    ['merges within the gap', [[0, 10], [15, 20], [100, 110]], 5, [[0, 20, 0, 1], [100, 110, 2, 2]]],
    ['gap 0 merges only touching', [[0, 10], [10, 20], [21, 30]], 0, [[0, 20, 0, 1], [21, 30, 2, 2]]],
    ['nested ranges', [[0, 100], [10, 20], [50, 60]], 0, [[0, 100, 0, 2]]],
    ['empty', [], 10, []],
  ] as const)('%s', (_n, ranges, gap, want) => {
    const got = partitionRanges(ranges.map(([start, end]) => ({ start, end })), gap);
    expect(got.map((p) => [p.start, p.end, p.first, p.last])).toEqual(want);
  });
});

describe('selectByResolution (algorithms.md §5.2)', () => {
  const H = 3_600_000;
  const raw = [0, 1, 2, 3].map((i) => ({ id: `raw${i}`, minTime: i * 2 * H, maxTime: (i + 1) * 2 * H, resolution: 0 }));
  const m5 = [{ id: '5m', minTime: 0, maxTime: 4 * H, resolution: 300_000 }];
  const all = [...raw, ...m5];
  test('raw only when max resolution is 0', () => {
    expect(selectByResolution(all, 0, 8 * H - 1, 0).map((b) => b.id)).toEqual(['raw0', 'raw1', 'raw2', 'raw3']);
  });
  test('coarsest allowed level first, gaps filled with finer blocks', () => {
    expect(selectByResolution(all, 0, 8 * H - 1, 300_000).map((b) => b.id)).toEqual(['5m', 'raw2', 'raw3']);
  });
  test('overlapping blocks of one level are all taken (their series may differ)', () => {
    const a = { id: 'a', minTime: 0, maxTime: 2 * H, resolution: 0 };
    const b = { id: 'b', minTime: 0, maxTime: 2 * H, resolution: 0 };
    const c = { id: 'c', minTime: H, maxTime: 3 * H, resolution: 0 };
    expect(selectByResolution([a, b, c], 0, 3 * H - 1, 0).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(selectByResolution([a, b, c, ...m5], 0, 4 * H - 1, 300_000).map((x) => x.id)).toEqual(['5m']);
  });
  test('only blocks overlapping the range', () => {
    expect(selectByResolution(all, 5 * H, 6 * H - 1, 3_600_000).map((b) => b.id)).toEqual(['raw2']);
  });
});
