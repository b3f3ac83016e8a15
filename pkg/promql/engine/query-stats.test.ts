import { describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { MemoryStorage } from '../promqltest/memory-storage.js';
import { Engine } from './engine.js';

/** Two series `up{job="a"|"b"}` with a sample every minute from 0 to 10 minutes. */
function storage(): MemoryStorage {
  const s = new MemoryStorage();
  for (let i = 0; i <= 10; i++) {
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'a'), i * 60_000, i);
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'b'), i * 60_000, 10 * i);
  }
  return s;
}

describe('query stats', () => {
  test('an instant selector reads one sample per series; the peak is what evaluation held', async () => {
    const r = await new Engine().instantQuery(storage(), 'up', 300_000).exec();
    expect(r.stats.samples).toEqual({ totalQueryableSamples: 2, peakSamples: 2 });
    const t = r.stats.timings;
    for (const v of Object.values(t)) expect(v).toBeGreaterThanOrEqual(0);
    expect(t.evalTotalTime).toBeGreaterThan(0);
    expect(t.evalTotalTime).toBeGreaterThanOrEqual(t.innerEvalTime);
  });

  test('a range function reads its window at every step, counted per step when asked for', async () => {
    // [2m] left-open at 2m, 3m, 4m: the samples at t-1m and t, two per series per step.
    const r = await new Engine().rangeQuery(storage(), 'count_over_time(up[2m])', 120_000, 240_000, 60_000, { perStepStats: true }).exec();
    expect(r.stats.samples.totalQueryableSamples).toBe(12);
    expect(r.stats.samples.totalQueryableSamplesPerStep).toEqual([
      [120, 4],
      [180, 4],
      [240, 4],
    ]);
    expect(r.stats.samples.peakSamples).toBeGreaterThanOrEqual(6);
    const plain = await new Engine().rangeQuery(storage(), 'sum(up)', 0, 600_000, 60_000).exec();
    expect(plain.stats.samples.totalQueryableSamples).toBe(22);
    expect(plain.stats.samples.totalQueryableSamplesPerStep).toBeUndefined();
  });
});
