import { describe, expect, test } from 'vitest';
import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { ScriptRunner } from '../promqltest/runner.js';
import { detectReset } from './histogram-ops.js';

async function failures(script: string): Promise<string[]> {
  const res = await new ScriptRunner().run(script);
  expect(res.evals.length).toBeGreaterThan(0);
  return res.evals.filter((e) => !e.passed).map((e) => `line ${e.line}: ${e.expr}: ${e.error ?? ''}`);
}

function hist(buckets: number[], zeroCount = 0): FloatHistogram {
  const h = new FloatHistogram();
  h.positiveSpans = [{ offset: 0, length: buckets.length }];
  h.positiveBuckets = buckets;
  h.zeroThreshold = 0.001;
  h.zeroCount = zeroCount;
  h.count = zeroCount + buckets.reduce((a, b) => a + b, 0);
  return h;
}

describe('histogram stats and counter reset hints', () => {
  test('below histogram_count, resets are detected from the buckets while loading, and reset meeting not-reset warns', async () => {
    // c{case="reset"} resets in a bucket only at 3m (count unchanged): stored as unknown, it becomes
    // a reset when loaded as stats; c{case="steady"} reads as not-reset.
    const script = `
load 1m
  c{case="reset"}  {{schema:0 count:2 sum:2 buckets:[2]}} {{schema:0 count:3 sum:3 buckets:[3]}} {{schema:0 count:4 sum:4 buckets:[4]}} {{schema:0 count:4 sum:4 buckets:[0 4]}}
  c{case="steady"} {{schema:0 count:1 sum:1 buckets:[1]}}+{{schema:0 count:1 sum:1 buckets:[1]}}x3

eval instant at 3m sum(c)
  expect no_warn
  {} {{schema:0 count:8 sum:8 buckets:[4 4]}}

eval instant at 3m histogram_count(sum(c))
  expect warn msg: PromQL warning: conflicting counter resets during histogram aggregation (1:21)
  {} 8

eval instant at 3m histogram_count(sum_over_time(c{case="reset"}[3m]))
  expect warn msg: PromQL warning: conflicting counter resets during histogram aggregation (1:31)
  {case="reset"} 11

eval instant at 3m histogram_quantile(0.75, sum(c))
  expect no_warn
  {} 1.4142135623730951
`;
    expect(await failures(script)).toEqual([]);
  });

  test('a range function over a subquery detects resets from the buckets, ignoring the stored hints', async () => {
    const script = `
load 1m
  h {{schema:0 count:1 sum:10 buckets:[1]}}+{{}}x20 {{schema:0 count:1 sum:10 buckets:[0 1]}}+{{}}x20

eval instant at 41m histogram_count(increase(h[40m:9m]))
  {} 1.4814814814814814

eval instant at 41m increase(h[40m:9m])
  {} {{count:1.4814814814814814 sum:14.814814814814813 counter_reset_hint:gauge offset:1 buckets:[1.4814814814814814]}}
`;
    expect(await failures(script)).toEqual([]);
  });

  test('histogram_fraction takes all of a bucket reaching down to -Inf, and excludes NaN observations', async () => {
    const script = `
load_with_nhcb 5m
  neg_bucket{le="-3"}   10+0x10
  neg_bucket{le="-2"}   12+0x10
  neg_bucket{le="-1"}   15+0x10
  neg_bucket{le="+Inf"} 100+0x10

eval instant at 50m histogram_fraction(-4, -2, neg)
  expect no_warn
  {} 0.02

clear
load 1m
  with_nan {{schema:0 count:5 sum:NaN buckets:[4]}}

eval instant at 1m histogram_fraction(-Inf, +Inf, with_nan)
  expect info msg: PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name "with_nan" (1:32)
  {} 0.8
`;
    expect(await failures(script)).toEqual([]);
  });

  test('detectReset compares same-layout histograms bucket by bucket', () => {
    expect(detectReset(hist([1, 2]), hist([1, 2]))).toBe(false);
    expect(detectReset(hist([1, 2]), hist([2, 3]))).toBe(false);
    expect(detectReset(hist([2, 2]), hist([1, 4]))).toBe(true);
    expect(detectReset(hist([1, 2], 2), hist([2, 3], 1))).toBe(true);
    const notReset = hist([0, 0]);
    notReset.counterResetHint = CounterResetHint.NotCounterReset;
    expect(detectReset(hist([5, 5]), notReset)).toBe(false);
    // Different layouts still go through the general comparison.
    const wider = hist([2, 2, 1]);
    expect(detectReset(hist([1, 2]), wider)).toBe(false);
    expect(detectReset(hist([3, 2]), wider)).toBe(true);
  });
});
