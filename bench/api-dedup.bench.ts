import { ValueType } from '../pkg/chunkenc/index.js';
import { resultJson, type MatrixSeries } from '../pkg/api/index.js';
import { DedupIterator } from '../pkg/dedup/index.js';
import { Labels } from '../pkg/labels/index.js';
import { ListSeries } from '../pkg/storage/index.js';
import { timeIt, type BenchResult } from './harness.js';

const START = 1_767_225_600_000;

/** 100 series × 1,000 points: the JSON writer against JSON.stringify of per-sample arrays. */
async function matrixJson(): Promise<BenchResult[]> {
  const series: MatrixSeries[] = [];
  for (let s = 0; s < 100; s++) {
    const ts = new Float64Array(1000);
    const fs = new Float64Array(1000);
    for (let i = 0; i < 1000; i++) {
      ts[i] = START + i * 15_000 + (i % 7);
      fs[i] = Math.sin(i + s) * 1e3 + i * 0.125;
    }
    series.push({ metric: Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', `host-${s}:9100`, 'job', 'node', 'mode', 'idle'), ts, fs });
  }
  const points = 100 * 1000;
  const ours = await timeIt(() => resultJson({ resultType: 'matrix', result: series }));
  const naive = await timeIt(() =>
    JSON.stringify(
      series.map((s) => ({
        metric: s.metric.toRecord(),
        values: Array.from(s.ts, (t, i) => [t / 1000, String(s.fs[i])]),
      })),
    ),
  );
  return [
    { name: 'api resultJson matrix 100x1000', value: points / ours, unit: 'points/µs' },
    { name: 'api JSON.stringify objects (comparison, not equivalent)', value: points / naive, unit: 'points/µs' },
  ];
}

/** Two replicas of 100k samples each with gaps, merged with DedupIterator. */
async function dedup(): Promise<BenchResult[]> {
  const mk = (phase: number, gapEvery: number): ListSeries => {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (i % gapEvery < 10) continue;
      ts.push(START + phase + i * 15_000);
      vs.push(i);
    }
    return new ListSeries(Labels.EMPTY, ts, vs);
  };
  const a = mk(0, 1000);
  const b = mk(5000, 777);
  let n = 0;
  const us = await timeIt(() => {
    const it = new DedupIterator([a.iterator(), b.iterator()], { counter: true });
    n = 0;
    while (it.next() !== ValueType.None) n++;
  });
  return [{ name: `dedup 2 replicas → ${n} samples (counter mode)`, value: n / us, unit: 'samples/µs' }];
}

export async function run(): Promise<BenchResult[]> {
  return [...(await matrixJson()), ...(await dedup())];
}
