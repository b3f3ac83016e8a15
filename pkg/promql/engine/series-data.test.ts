import { describe, expect, test } from 'vitest';
import { DecodedFloatChunk, STALE_NAN_HI, STALE_NAN_LO, XorChunk, type ChunkMeta } from '../../chunkenc/index.js';
import { Labels } from '../../labels/index.js';
import type { ChunkSeries, ChunkSeriesSet } from '../../storage/index.js';
import { loadChunkSeriesSet, type SeriesData } from './series-data.js';

const ts = Array.from({ length: 100 }, (_, i) => 1000 + i * 10);

/** xor holds the samples (value i * 2; a staleness marker at i = 50) as one XOR chunk. */
function xor(): XorChunk {
  const c = new XorChunk();
  const app = c.appender();
  ts.forEach((t, i) => (i === 50 ? app.appendBits(t, STALE_NAN_HI, STALE_NAN_LO) : app.append(t, i * 2)));
  return c;
}

/** decoded holds the same samples as a DecodedFloatChunk over [1000, 1990]. */
function decoded(valid: boolean, iterated: { n: number }): DecodedFloatChunk {
  const keep = ts.flatMap((t, i) => (i === 50 ? [] : [i]));
  const fts = Float64Array.from(keep.map((i) => ts[i]!));
  const fvs = Float64Array.from(keep.map((i) => (valid ? i * 2 : -1)));
  const samples = { fts, fvs, sts: Float64Array.of(ts[50]!), valid: () => valid };
  return new DecodedFloatChunk(1000, 1990, samples, {
    iterator: () => {
      iterated.n++;
      return xor().iterator();
    },
  });
}

function load(chunks: ChunkMeta[], mint: number, maxt: number): SeriesData {
  const series: ChunkSeries = { labels: () => Labels.fromStrings('__name__', 'x'), chunks: () => chunks };
  let i = -1;
  const set: ChunkSeriesSet = { next: () => ++i < 1, at: () => series, err: () => null, warnings: () => [] };
  const out = loadChunkSeriesSet(set, mint, maxt, () => {});
  expect(out).toHaveLength(1);
  return out![0]!;
}

const pick = (d: SeriesData) => ({ fts: Array.from(d.fts.subarray(0, d.fn)), fvs: Array.from(d.fvs.subarray(0, d.fn)), sts: Array.from(d.sts.subarray(0, d.sn)) });

describe('loadChunkSeriesSet', () => {
  test('takes a DecodedFloatChunk as it is, bounded to the range, equal to decoding the XOR chunk', () => {
    for (const [mint, maxt] of [
      [1000, 1990],
      [1205, 1700],
      [1500, 1500],
    ] as const) {
      const iterated = { n: 0 };
      const want = pick(load([{ ref: 0, minTime: 1000, maxTime: 1990, chunk: xor() }], mint, maxt));
      const got = pick(load([{ ref: 0, minTime: 1000, maxTime: 1990, chunk: decoded(true, iterated) }], mint, maxt));
      expect(got).toEqual(want);
      expect(iterated.n).toBe(0);
      expect(want.sts.length + want.fts.length).toBeGreaterThan(0);
    }
  });

  test('reads a DecodedFloatChunk whose arrays no longer hold, or that does not cover the range, through its iterator', () => {
    for (const [valid, mint, maxt] of [
      [false, 1200, 1700],
      [true, 900, 1700],
    ] as const) {
      const iterated = { n: 0 };
      const want = pick(load([{ ref: 0, minTime: 1000, maxTime: 1990, chunk: xor() }], mint, maxt));
      const got = pick(load([{ ref: 0, minTime: 1000, maxTime: 1990, chunk: decoded(valid, iterated) }], mint, maxt));
      expect(got).toEqual(want);
      expect(iterated.n).toBe(1);
    }
  });
});
