import { describe, expect, test } from 'vitest';
import { DecodedFloatChunk, HistogramChunk, ValueType, XorChunk, floatBits, staleNaN, type Chunk, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import type { AggrChunk } from '../storepb/index.js';
import { StoreSeriesView } from './store-series-view.js';

// A deduplicated series reaches the engine either as replica 0's raw chunks (when firstCovers
// shows that dedup yields exactly them) or as one chunk over the dedup iterator: both must give
// the same samples, bit for bit (staleness markers included), for floats and histograms, with
// one-sample chunks and markers in the window. Float chunks that firstCovers decoded come as one
// DecodedFloatChunk (its arrays read as the engine reads them).

const T0 = 1_767_225_600_000;
const STEP = 15_000;

function aggr(c: Chunk, minTime: number, maxTime: number): AggrChunk {
  return { minTime, maxTime, raw: { type: (c.encoding() - 1) as 0, data: c.bytes(), hashHi: 0, hashLo: 0 } };
}

/** chunked builds chunks (each from open()) of samples i in [0, n) at T0 + i·STEP + shift, cut before each index in cuts. */
function chunked(n: number, shift: number, cuts: ReadonlySet<number>, open: () => { chunk: Chunk; append: (t: number, i: number) => void }): AggrChunk[] {
  const out: AggrChunk[] = [];
  let cur: ReturnType<typeof open> | undefined;
  let min = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const t = T0 + i * STEP + shift;
    if (cur !== undefined && cuts.has(i)) {
      out.push(aggr(cur.chunk, min, max));
      cur = undefined;
    }
    if (cur === undefined) {
      cur = open();
      min = t;
    }
    cur.append(t, i);
    max = t;
  }
  if (cur !== undefined) out.push(aggr(cur.chunk, min, max));
  return out;
}

/** floats builds XOR chunks of samples i in [0, n) at T0 + i·STEP + shift, cut before each index in cuts. */
function floats(n: number, shift: number, value: (i: number) => number, cuts: ReadonlySet<number>): AggrChunk[] {
  return chunked(n, shift, cuts, () => {
    const c = new XorChunk();
    const app = c.appender();
    return { chunk: c, append: (t, i) => app.append(t, value(i)) };
  });
}

function histograms(n: number, shift: number, cuts: ReadonlySet<number>): AggrChunk[] {
  return chunked(n, shift, cuts, () => {
    const c = new HistogramChunk();
    return {
      chunk: c,
      append: (t, i) => {
        const h = new FloatHistogram();
        Object.assign(h, { schema: 0, zeroThreshold: 2 ** -128, count: 3 * i, zeroCount: 0, sum: 4 * i, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [i, 2 * i] });
        c.appender().appendHistogram(t, h);
      },
    };
  });
}

function bits(v: number): string {
  floatBits.f64[0] = v;
  return `${floatBits.u32[floatBits.HI]!.toString(16)}:${floatBits.u32[floatBits.LO]!.toString(16)}`;
}

function sample(it: SampleIterator, ty: ValueType): string {
  if (ty === ValueType.Float) return `${it.atT()} f ${bits(it.atF())}`;
  const h = it.atFloatHistogram();
  return `${it.atT()} h ${h.count} ${h.sum} ${h.positiveBuckets.join(',')}`;
}

/** read is the engine's view of chunk metas: every chunk's samples in [mint, maxt], in order. */
function read(metas: readonly ChunkMeta[], mint: number, maxt: number): string[] {
  const out: string[] = [];
  for (const m of metas) {
    if (m.chunk instanceof DecodedFloatChunk) {
      out.push(...readDecoded(m.chunk, mint, maxt));
      continue;
    }
    const it = m.chunk.iterator();
    for (let ty = it.seek(mint); ty !== ValueType.None && it.atT() <= maxt; ty = it.next()) out.push(sample(it, ty));
    expect(it.err()).toBeNull();
  }
  return out;
}

/** readDecoded lists a DecodedFloatChunk's arrays in [mint, maxt], markers merged in as StaleNaN. */
function readDecoded(c: DecodedFloatChunk, mint: number, maxt: number): string[] {
  expect(c.valid()).toBe(true);
  const all: [number, string][] = [];
  c.fts.forEach((t, i) => all.push([t, `${t} f ${bits(c.fvs[i]!)}`]));
  c.sts.forEach((t) => all.push([t, `${t} f ${bits(staleNaN())}`]));
  all.sort((a, b) => a[0] - b[0]);
  return all.filter(([t]) => t >= mint && t <= maxt).map(([, s]) => s);
}

function readIterator(it: SampleIterator, mint: number, maxt: number): string[] {
  const out: string[] = [];
  for (let ty = it.seek(mint); ty !== ValueType.None && it.atT() <= maxt; ty = it.next()) out.push(sample(it, ty));
  expect(it.err()).toBeNull();
  return out;
}

describe('StoreSeriesView.chunks', () => {
  const L = Labels.fromStrings('__name__', 'x_total');
  const mint = T0 + 20 * STEP + 7000;
  const maxt = T0 + 150 * STEP;
  const ctx = 5 * 60_000;
  const stale = staleNaN();
  const value = (i: number) => (i === 90 ? stale : 1000 + 3 * i);
  // One-sample chunks at 60, 61 and 62; a staleness marker at 90 (the target flapped).
  const cuts = new Set([30, 60, 61, 62, 63, 120]);

  test.each([
    ['floats, counter', true, () => [floats(200, 0, value, cuts), floats(200, 300, value, new Set([50, 100]))]],
    ['floats, gauge', false, () => [floats(200, 0, value, cuts), floats(200, 300, value, new Set([50, 100]))]],
    ['histograms, counter', true, () => [histograms(200, 0, cuts), histograms(200, 300, new Set([50, 100]))]],
    ['histograms, gauge', false, () => [histograms(200, 0, cuts), histograms(200, 300, new Set([50, 100]))]],
  ] as const)('%s: raw chunks of replica 0 and the dedup iterator agree', (_name, counter, runs) => {
    const view = new StoreSeriesView(L, runs(), [], mint, maxt, ctx, counter);
    const metas = view.chunks();
    const viaChunks = read(metas, mint, maxt);
    const viaIterator = readIterator(view.iterator(), mint, maxt);
    expect(viaChunks.length).toBeGreaterThan(100);
    expect(viaChunks).toEqual(viaIterator);
    // The raw path was taken (replica 0 covers the window): its chunks, or for floats its samples decoded once.
    if (String(_name).startsWith('histograms')) expect(metas.length).toBeGreaterThan(1);
    else expect(metas.length === 1 && metas[0]!.chunk instanceof DecodedFloatChunk).toBe(true);
    if (!String(_name).startsWith('histograms')) expect(viaChunks).toContain(`${T0 + 90 * STEP} f ${bits(stale)}`);
  });

  test('series ending inside the window: staleness markers output by the dedup iterator stay markers', () => {
    // Replica 0 ends (marker at 100), replica 1 goes on and ends with its own marker at 120.
    const end = (last: number) => (i: number) => (i === last ? stale : 1000 + 3 * i);
    for (const counter of [false, true]) {
      const view = new StoreSeriesView(L, [floats(101, 0, end(100), cuts), floats(121, 300, end(120), new Set([50, 100]))], [], mint, maxt, ctx, counter);
      const got = read(view.chunks(), mint, maxt);
      expect(got, `counter ${counter}`).toContain(`${T0 + 100 * STEP} f ${bits(stale)}`);
      expect(got, `counter ${counter}`).toContain(`${T0 + 120 * STEP + 300} f ${bits(stale)}`);
      expect(got.filter((s) => s.includes(' f 7ff8')), `counter ${counter}`).toEqual([]);
    }
  });
});
