import { describe, expect, test } from 'vitest';
import { coveredByReplicas } from './replica-coverage.js';

/** Chunks of 120 samples every 15 s from t0 (ms) until end, as a Prometheus would cut them. */
function chunks(t0: number, end: number): { minTime: number; maxTime: number }[] {
  const out: { minTime: number; maxTime: number }[] = [];
  for (let t = t0; t <= end; t += 120 * 15_000) out.push({ minTime: t, maxTime: Math.min(end, t + 119 * 15_000) });
  return out;
}

const H = 3_600_000;

describe('coveredByReplicas', () => {
  test('another replica scraping at other moments covers the range', () => {
    expect(coveredByReplicas(chunks(0, 2 * H), [chunks(7_000, 2 * H + 7_000)], 0, 2 * H)).toBe(true);
  });

  test('a replica that started late, or has a hole, does not', () => {
    expect(coveredByReplicas(chunks(0, 2 * H), [chunks(H, 2 * H)], 0, 2 * H)).toBe(false);
    const holed = [...chunks(0, 0.5 * H), ...chunks(H, 2 * H)];
    expect(coveredByReplicas(chunks(0, 2 * H), [holed], 0, 2 * H)).toBe(false);
    expect(coveredByReplicas(chunks(0, 2 * H), [], 0, 2 * H)).toBe(false);
  });

  test('only the queried range counts', () => {
    expect(coveredByReplicas(chunks(0, 2 * H), [chunks(H, 2 * H)], 1.5 * H, 2 * H)).toBe(true);
    expect(coveredByReplicas(chunks(0, H), [], 2 * H, 3 * H)).toBe(true);
  });

  test('several replicas together cover it', () => {
    expect(coveredByReplicas(chunks(0, 2 * H), [chunks(0, H), chunks(H - 30_000, 2 * H)], 0, 2 * H)).toBe(true);
  });
});
