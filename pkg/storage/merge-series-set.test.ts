import { describe, expect, test } from 'vitest';
import { ValueType } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import { ListSeries } from './list-series.js';
import { mergeSeriesSets } from './merge-series-set.js';
import { ArraySeriesSet, errSeriesSet } from './series-sets.js';
import type { Series, SeriesSet } from './interface.js';

const L = (v: string): Labels => Labels.fromStrings('__name__', 'm', 'x', v);
const s = (v: string, ts: number[], base = 0): ListSeries => new ListSeries(L(v), ts, ts.map((t) => t + base));

function drain(set: SeriesSet): { labels: string; samples: [number, number][] }[] {
  const out: { labels: string; samples: [number, number][] }[] = [];
  while (set.next()) {
    const it = set.at().iterator();
    const samples: [number, number][] = [];
    while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
    out.push({ labels: set.at().labels().toString(), samples });
  }
  if (set.err() !== null) throw set.err();
  return out;
}

describe('mergeSeriesSets', () => {
  test('k-way merges sorted sets and vertically merges equal series, first input winning on equal timestamps', () => {
    const a = new ArraySeriesSet<Series>([s('a', [1, 2, 3]), s('c', [10])], ['w1']);
    const b = new ArraySeriesSet<Series>([s('b', [5]), s('c', [9, 10, 11], 100)], ['w1', 'w2']);
    const c = new ArraySeriesSet<Series>([s('a', [3, 4], 1000)]);
    const m = mergeSeriesSets([a, b, c]);
    expect(drain(m)).toEqual([
      { labels: L('a').toString(), samples: [[1, 1], [2, 2], [3, 3], [4, 1004]] },
      { labels: L('b').toString(), samples: [[5, 5]] },
      { labels: L('c').toString(), samples: [[9, 109], [10, 10], [11, 111]] },
    ]);
    expect(m.warnings()).toEqual(['w1', 'w2']);
  });

  test('seek on a vertically merged series', () => {
    const m = mergeSeriesSets([new ArraySeriesSet<Series>([s('a', [1, 5, 9])]), new ArraySeriesSet<Series>([s('a', [2, 6, 10])])]);
    expect(m.next()).toBe(true);
    const it = m.at().iterator();
    expect(it.seek(6)).toBe(ValueType.Float);
    expect(it.atT()).toBe(6);
    expect(it.seek(3)).toBe(ValueType.Float);
    expect(it.atT()).toBe(6);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.atT()).toBe(9);
    expect(it.seek(11)).toBe(ValueType.None);
  });

  test('an input error stops the merge and is reported', () => {
    const m = mergeSeriesSets([new ArraySeriesSet<Series>([s('a', [1])]), errSeriesSet(new Error('disk'))]);
    expect(m.next()).toBe(false);
    expect(m.err()?.message).toBe('disk');
  });
});
