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
  test('1d, 1h, 5m and raw with partial coverage: coarsest first, every gap from the next finer level, nothing twice', () => {
    const D = 24 * H;
    // As the compactor leaves a bucket: a downsampled block has its source's time range; 1d for
    // days 0-13, 1h for 0-27, 5m for 14-29, raw for 28-30 (raw for 0-27 gone by retention).
    const b = (id: string, from: number, to: number, resolution: number) => ({ id, minTime: from * D, maxTime: to * D, resolution });
    const blocks = [
      b('1d', 0, 14, 86_400_000),
      b('1h-0', 0, 14, 3_600_000),
      b('1h-14', 14, 28, 3_600_000),
      b('5m-14', 14, 28, 300_000),
      b('5m-28', 28, 30, 300_000),
      b('raw28', 28, 29, 0),
      b('raw29', 29, 30, 0),
      b('raw30', 30, 31, 0),
    ];
    const ids = (mint: number, maxt: number, res: number) => selectByResolution(blocks, mint, maxt, res).map((x) => x.id);
    expect(ids(0, 31 * D - 1, 86_400_000)).toEqual(['1d', '1h-14', '5m-28', 'raw30']);
    expect(ids(0, 31 * D - 1, 3_600_000)).toEqual(['1h-0', '1h-14', '5m-28', 'raw30']);
    expect(ids(0, 31 * D - 1, 300_000)).toEqual(['5m-14', '5m-28', 'raw30']);
    expect(ids(0, 31 * D - 1, 0)).toEqual(['raw28', 'raw29', 'raw30']);
    // A range inside the 1d block's span reads it alone; one after it, the finer levels.
    expect(ids(2 * D, 3 * D - 1, 86_400_000)).toEqual(['1d']);
    expect(ids(27 * D, 31 * D - 1, 86_400_000)).toEqual(['1h-14', '5m-28', 'raw30']);
    // Resolutions between levels pick the coarsest one not above them (Thanos's getFor).
    expect(ids(0, 31 * D - 1, 86_399_999)).toEqual(ids(0, 31 * D - 1, 3_600_000));
    expect(ids(0, 31 * D - 1, 299_999)).toEqual(ids(0, 31 * D - 1, 0));
    // The picked time ranges never overlap (no sample read twice) and leave no gap from the
    // first day the allowed resolutions have (never a coarser one: 5m starts at day 14).
    for (const [res, first] of [[300_000, 14 * D], [3_600_000, 0], [86_400_000, 0]] as const) {
      const got = selectByResolution(blocks, 0, 31 * D - 1, res);
      expect(got[0]!.minTime).toBe(first);
      for (let i = 1; i < got.length; i++) expect(got[i]!.minTime).toBe(got[i - 1]!.maxTime);
      expect(got[got.length - 1]!.maxTime).toBe(31 * D);
    }
  });

  test('a finer block only partly covered by a coarser one is taken whole, as Thanos takes it', () => {
    const D = 24 * H;
    const blocks = [
      { id: '1d', minTime: 0, maxTime: 14 * D, resolution: 86_400_000 },
      { id: '1h', minTime: 0, maxTime: 16 * D, resolution: 3_600_000 },
    ];
    expect(selectByResolution(blocks, 0, 16 * D - 1, 86_400_000).map((x) => x.id)).toEqual(['1d', '1h']);
  });
});
