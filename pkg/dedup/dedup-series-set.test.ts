import { describe, expect, test } from 'vitest';
import { ValueType } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import { ArraySeriesSet, ListSeries, type Series } from '../storage/index.js';
import { compareForDedup, DedupSeriesSet } from './dedup-series-set.js';

const replicas = new Set(['replica', 'rule_replica']);

function series(lset: Labels, ts: number[], v: number): ListSeries {
  return new ListSeries(lset, ts, ts.map(() => v));
}

function collect(set: DedupSeriesSet): { labels: string; ts: number[]; vs: number[] }[] {
  const out: { labels: string; ts: number[]; vs: number[] }[] = [];
  const kept: Series[] = [];
  while (set.next()) kept.push(set.at());
  expect(set.err()).toBeNull();
  // Series stay valid after next(): read them only now.
  for (const s of kept) {
    const it = s.iterator();
    const ts: number[] = [];
    const vs: number[] = [];
    while (it.next() !== ValueType.None) {
      ts.push(it.atT());
      vs.push(it.atF());
    }
    out.push({ labels: s.labels().toString(), ts, vs });
  }
  return out;
}

describe('DedupSeriesSet', () => {
  test('strips replica labels, merges adjacent replicas and passes singles through', () => {
    const input = [
      series(Labels.fromStrings('__name__', 'up', 'job', 'a', 'replica', 'r0'), [0, 10_000, 20_000], 1),
      series(Labels.fromStrings('__name__', 'up', 'job', 'a', 'replica', 'r1'), [5000, 15_000, 25_000, 35_000], 2),
      series(Labels.fromStrings('__name__', 'up', 'job', 'b', 'replica', 'r0'), [0], 3),
      series(Labels.fromStrings('__name__', 'up', 'job', 'c'), [7], 4),
    ];
    const got = collect(new DedupSeriesSet(new ArraySeriesSet(input), replicas));
    expect(got).toEqual([
      { labels: '{__name__="up", job="a"}', ts: [0, 10_000, 20_000, 25_000, 35_000], vs: [1, 1, 1, 2, 2] },
      { labels: '{__name__="up", job="b"}', ts: [0], vs: [3] },
      { labels: '{__name__="up", job="c"}', ts: [7], vs: [4] },
    ]);
  });

  test('compareForDedup puts replicas next to each other where Labels.compare does not', () => {
    const a0 = Labels.fromStrings('a', '1', 'replica', 'x', 'z', '1');
    const b = Labels.fromStrings('a', '1', 'replica', 'y', 'z', '0');
    const a1 = Labels.fromStrings('a', '1', 'replica', 'y', 'z', '1');
    const plain = [a0, b, a1].sort(Labels.compare);
    expect(plain.map(String)).toEqual([a0, b, a1].map(String)); // replicas of z="1" are split
    const sorted = [a0, b, a1].sort(compareForDedup(replicas));
    expect(sorted.map(String)).toEqual([b, a0, a1].map(String));
    const set = new DedupSeriesSet(new ArraySeriesSet(sorted.map((l) => series(l, [0], 1))), replicas);
    expect(collect(set).map((s) => s.labels)).toEqual(['{a="1", z="0"}', '{a="1", z="1"}']);
  });

  test('counter hint from the function or the metric name', () => {
    const mk = (name: string): ListSeries[] => [
      new ListSeries(Labels.fromStrings('__name__', name, 'replica', 'r0'), [0, 10_000], [100, 110]),
      new ListSeries(Labels.fromStrings('__name__', name, 'replica', 'r1'), [0, 10_000, 20_000, 30_000], [5, 15, 25, 35]),
    ];
    const last = (set: DedupSeriesSet): number => collect(set)[0]!.vs.at(-1)!;
    // r0 ends at 10 s (110); the switch to r1 at 20 s (25, lower base) goes down unless counter mode
    // is on, which continues at 110 + r1's own increase (10) and ends at 130.
    expect(last(new DedupSeriesSet(new ArraySeriesSet(mk('g')), replicas))).toBe(35);
    expect(last(new DedupSeriesSet(new ArraySeriesSet(mk('g')), replicas, { func: 'rate' }))).toBe(130);
    expect(last(new DedupSeriesSet(new ArraySeriesSet(mk('x_total')), replicas))).toBe(130);
    expect(last(new DedupSeriesSet(new ArraySeriesSet(mk('x_total')), replicas, { counter: false }))).toBe(35);
  });

  test('chain algorithm keeps every timestamp once', () => {
    const input = [
      series(Labels.fromStrings('j', 'a', 'replica', 'r0'), [0, 10_000, 20_000], 1),
      series(Labels.fromStrings('j', 'a', 'replica', 'r1'), [0, 5000, 20_000], 2),
    ];
    const got = collect(new DedupSeriesSet(new ArraySeriesSet(input), replicas, { algorithm: 'chain' }));
    expect(got[0]!.ts).toEqual([0, 5000, 10_000, 20_000]);
    expect(got[0]!.vs).toEqual([1, 2, 1, 1]);
  });

  test('mint/maxt bound every replica', () => {
    const input = [
      series(Labels.fromStrings('j', 'a', 'replica', 'r0'), [0, 10_000, 20_000, 30_000], 1),
      series(Labels.fromStrings('j', 'a', 'replica', 'r1'), [5000, 15_000, 25_000, 35_000, 45_000], 2),
    ];
    const got = collect(new DedupSeriesSet(new ArraySeriesSet(input), replicas, { mint: 10_000, maxt: 40_000 }));
    expect(got[0]!.ts).toEqual([10_000, 20_000, 30_000, 35_000]);
  });
});
