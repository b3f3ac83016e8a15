import { describe, expect, test } from 'vitest';
import { ChunkCutter } from './chunk-cutter.js';
import { ValueType } from './value-type.js';

const H = 3_600_000;

describe('ChunkCutter', () => {
  test('15 s scrapes over an aligned 2h window → 4 chunks of 120 samples', () => {
    const c = new ChunkCutter();
    for (let t = 0; t < 2 * H; t += 15_000) expect(c.append(t, t / 1000)).toBe(true);
    const chunks = c.finish();
    expect(chunks.map((m) => m.chunk.numSamples())).toEqual([120, 120, 120, 120]);
    expect(chunks.map((m) => [m.minTime, m.maxTime])).toEqual([
      [0, 1_785_000],
      [1_800_000, 3_585_000],
      [3_600_000, 5_385_000],
      [5_400_000, 7_185_000],
    ]);
    // Samples survive the trip.
    const it = chunks[1]!.chunk.iterator();
    expect(it.next()).toBe(ValueType.Float);
    expect([it.atT(), it.atF()]).toEqual([1_800_000, 1800]);
  });

  test('chunks never span a window boundary; out-of-order and duplicate samples are dropped', () => {
    const c = new ChunkCutter({ chunkRange: 4 * H });
    expect(c.append(4 * H - 30_000, 1)).toBe(true);
    expect(c.append(4 * H - 15_000, 1)).toBe(true);
    expect(c.append(4 * H - 15_000, 2)).toBe(false);
    expect(c.append(4 * H - 20_000, 2)).toBe(false);
    expect(c.append(4 * H, 1)).toBe(true);
    const chunks = c.finish();
    expect(chunks.map((m) => m.chunk.numSamples())).toEqual([2, 1]);
  });

  test('at most 240 samples when the rate rises, and the 1 KiB cap only with Prometheus ≥ 2.47 rules', () => {
    const fast = new ChunkCutter();
    for (let t = 0; t < 1000; t++) fast.append(t, t);
    expect(Math.max(...fast.finish().map((m) => m.chunk.numSamples()))).toBeLessThanOrEqual(240);

    const noisy = (c: ChunkCutter): number[] => {
      let x = 1;
      for (let t = 0; t < 2 * H; t += 15_000 + (t % 7)) {
        x = (x * 1103515245 + 12345) % 2147483648;
        c.append(t, x / 7);
      }
      return c.finish().map((m) => m.chunk.bytes().length);
    };
    expect(Math.max(...noisy(new ChunkCutter()))).toBeLessThanOrEqual(1024);
    expect(Math.max(...noisy(new ChunkCutter({ maxBytes: null })))).toBeGreaterThan(1024);
  });

  test('drain hands out completed chunks only', () => {
    const c = new ChunkCutter();
    for (let t = 0; t < H; t += 15_000) c.append(t, 1);
    expect(c.drain().map((m) => m.chunk.numSamples())).toEqual([120]);
    expect(c.drain()).toEqual([]);
    expect(c.finish().map((m) => m.chunk.numSamples())).toEqual([120]);
  });
});
