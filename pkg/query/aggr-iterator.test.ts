import { describe, expect, test } from 'vitest';
import { Encoding, ValueType, XorChunk, staleNaN, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { Downsampler, RES_1H, RES_5M } from '../downsample/index.js';
import { toAggrChunk } from '../store/index.js';
import { Aggr, type AggrChunk } from '../storepb/index.js';
import { aggrChunkIterator } from './aggr-iterator.js';

/**
 * The querier's view of downsampled chunks made by our downsampler, as the store serves them
 * (toAggrChunk): each aggregate read back per window equals what the raw samples give.
 */
const R = RES_5M;
// 10h of a counter every 15 s with a reset after 4h, a staleness marker and a NaN.
const raw: [number, number][] = Array.from({ length: 2400 }, (_, i) => [i * 15_000, i < 960 ? i * 2 : (i - 960) * 3]);
raw[100] = [100 * 15_000, staleNaN()];
raw[101] = [101 * 15_000, Number.NaN];
const clean = raw.filter(([, v]) => !Number.isNaN(v));

function chunks(): ChunkMeta[] {
  const out: ChunkMeta[] = [];
  for (let i = 0; i < raw.length; i += 120) {
    const c = new XorChunk();
    const app = c.appender();
    for (const [t, v] of raw.slice(i, i + 120)) app.append(t, v);
    out.push({ ref: 0, minTime: raw[i]![0], maxTime: raw[Math.min(i + 119, raw.length - 1)]![0], chunk: c });
  }
  return out;
}

function asStore(ms: readonly ChunkMeta[], aggrs: Aggr[]): AggrChunk[] {
  return ms.map((m) => toAggrChunk(Encoding.Aggr, m.chunk.bytes(), m.minTime, m.maxTime, aggrs, 'test'));
}

function drain(it: SampleIterator): [number, number][] {
  const out: [number, number][] = [];
  while (it.next() !== ValueType.None) out.push([it.atT(), it.atF()]);
  expect(it.err()).toBeNull();
  return out;
}

/** Per window [kR, (k+1)R): f over the clean raw values, stamped with the window's last millisecond (the last window: its last sample). */
function perWindow(f: (vs: number[]) => number): [number, number][] {
  const by = new Map<number, number[]>();
  for (const [t, v] of clean) {
    const k = Math.floor(t / R);
    by.set(k, [...(by.get(k) ?? []), v]);
  }
  const keys = [...by.keys()].sort((a, b) => a - b);
  return keys.map((k, i) => [i === keys.length - 1 ? clean[clean.length - 1]![0] : k * R + R - 1, f(by.get(k)!)]);
}

describe('aggrChunkIterator over chunks made by the downsampler', () => {
  const m5 = new Downsampler().series(chunks(), 0, R);

  test('min, max, count and sum per window, and the default average', () => {
    const mint = 0;
    const maxt = 10 * 3_600_000;
    expect(drain(aggrChunkIterator(asStore(m5, [Aggr.MIN]), [Aggr.MIN], mint, maxt))).toEqual(perWindow((vs) => Math.min(...vs)));
    expect(drain(aggrChunkIterator(asStore(m5, [Aggr.MAX]), [Aggr.MAX], mint, maxt))).toEqual(perWindow((vs) => Math.max(...vs)));
    expect(drain(aggrChunkIterator(asStore(m5, [Aggr.COUNT]), [Aggr.COUNT], mint, maxt))).toEqual(perWindow((vs) => vs.length));
    expect(drain(aggrChunkIterator(asStore(m5, [Aggr.SUM]), [Aggr.SUM], mint, maxt))).toEqual(perWindow((vs) => vs.reduce((a, b) => a + b, 0)));
    expect(drain(aggrChunkIterator(asStore(m5, [Aggr.COUNT, Aggr.SUM]), [Aggr.COUNT, Aggr.SUM], mint, maxt))).toEqual(perWindow((vs) => vs.reduce((a, b) => a + b, 0) / vs.length));
  });

  test('counter: the reset-corrected total at every window, at 5m and at 1h', () => {
    const totalAt = (t: number): number => {
      let total = 0;
      let last = 0;
      for (let i = 0; i < clean.length && clean[i]![0] <= t; i++) {
        const v = clean[i]![1];
        total = i === 0 ? v : total + (v >= last ? v - last : v);
        last = v;
      }
      return total;
    };
    for (const ms of [m5, new Downsampler().series(m5, RES_5M, RES_1H)]) {
      const got = drain(aggrChunkIterator(asStore(ms, [Aggr.COUNTER]), [Aggr.COUNTER], 0, 10 * 3_600_000));
      expect(got.length).toBeGreaterThan(10);
      for (const [t, v] of got) expect([t, v]).toEqual([t, totalAt(t)]);
      // The last one is the total of the whole series: 1918 before the reset, then 1439 × 3.
      expect(got[got.length - 1]![1]).toBe(1918 + 1439 * 3);
    }
  });

  test('average across the raw/downsampled boundary: aggregate chunks as sum / count, raw chunks as they are', () => {
    // The first 5h downsampled (as an older block would be), the rest raw (the newer block).
    const cut = 5 * 3_600_000;
    const older = new Downsampler().series(chunks().filter((c) => c.maxTime < cut), 0, R);
    const newer = chunks().filter((c) => c.minTime >= cut);
    const aggrs = [Aggr.COUNT, Aggr.SUM];
    const mixed = [...asStore(older, aggrs), ...newer.map((m): AggrChunk => ({ minTime: m.minTime, maxTime: m.maxTime, raw: { type: 0, data: m.chunk.bytes(), hashHi: 0, hashLo: 0 } }))];
    const got = drain(aggrChunkIterator(mixed, aggrs, 0, 10 * 3_600_000));
    const avg = perWindow((vs) => vs.reduce((a, b) => a + b, 0) / vs.length).filter(([t]) => t < cut);
    avg[avg.length - 1] = [clean.filter(([t]) => t < cut).at(-1)![0], avg[avg.length - 1]![1]];
    expect(got).toEqual([...avg, ...raw.filter(([t]) => t >= cut)]);
  });
});
