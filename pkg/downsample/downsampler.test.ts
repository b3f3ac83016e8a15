import { describe, expect, test } from 'vitest';
import { AggrChunk, AggrType, AGGR_TYPES, Encoding, OpaqueChunk, ValueType, XorChunk, staleNaN, type ChunkMeta } from '../chunkenc/index.js';
import { isTesseraError } from '../errors/index.js';
import { Downsampler } from './downsampler.js';
import { RES_1H, RES_5M } from './resolution.js';

type S = [number, number];
type Aggrs = Partial<Record<AggrType, S[]>>;

function xor(points: readonly S[]): XorChunk {
  const c = new XorChunk();
  const app = c.appender();
  for (const [t, v] of points) app.append(t, v);
  return c;
}

function rawChunk(points: readonly S[]): ChunkMeta {
  return { ref: 0, minTime: points[0]![0], maxTime: points[points.length - 1]![0], chunk: xor(points) };
}

function aggrChunk(a: Aggrs): ChunkMeta {
  const ts = Object.values(a).flatMap((s) => s.map(([t]) => t));
  const subs = AGGR_TYPES.map((t) => (a[t] === undefined ? null : xor(a[t])));
  return { ref: 0, minTime: Math.min(...ts), maxTime: Math.max(...ts), chunk: AggrChunk.encode(subs) };
}

/** Decodes every sub-chunk as stored (Thanos's expandChunkIterator drops stale markers only). */
function decode(m: ChunkMeta): Aggrs {
  const c = m.chunk as AggrChunk;
  const out: Aggrs = {};
  for (const t of AGGR_TYPES) {
    const sub = c.get(t);
    if (sub === null) continue;
    const it = sub.iterator();
    const s: S[] = [];
    while (it.next() !== ValueType.None) s.push([it.atT(), it.atF()]);
    expect(it.err()).toBeNull();
    out[t] = s;
  }
  return out;
}

const { Count, Sum, Min, Max, Counter } = AggrType;
const NaN_ = Number.NaN;

// Inputs and expected outputs are the cases of Thanos's TestDownsample (pkg/compact/downsample).
describe('Downsampler matches Thanos on its own test cases', () => {
  const ds = new Downsampler();

  test('raw: single chunk', () => {
    const out = ds.series([rawChunk([[20, 1], [40, 2], [60, 3], [80, 1], [100, 2], [101, staleNaN()], [120, 5], [180, 10], [250, 1]])], 0, 100);
    expect(out.map(decode)).toEqual([
      {
        [Count]: [[99, 4], [199, 3], [250, 1]],
        [Sum]: [[99, 7], [199, 17], [250, 1]],
        [Min]: [[99, 1], [199, 2], [250, 1]],
        [Max]: [[99, 3], [199, 10], [250, 1]],
        [Counter]: [[20, 1], [99, 4], [199, 13], [250, 14], [250, 1]],
      },
    ]);
    expect([out[0]!.minTime, out[0]!.maxTime]).toEqual([99, 250]);
  });

  test('raw: three chunks', () => {
    const out = ds.series(
      [
        rawChunk([[20, 1], [40, 2], [60, 3], [80, 1], [100, 2], [101, staleNaN()], [120, 5], [180, 10], [250, 2]]),
        rawChunk([[260, 1], [300, 10], [340, 15], [380, 25], [420, 35]]),
        rawChunk([[460, staleNaN()], [500, 10], [540, 3]]),
      ],
      0,
      100,
    );
    expect(out.map(decode)).toEqual([
      {
        [Count]: [[99, 4], [199, 3], [299, 2], [399, 3], [499, 1], [540, 2]],
        [Sum]: [[99, 7], [199, 17], [299, 3], [399, 50], [499, 35], [540, 13]],
        [Min]: [[99, 1], [199, 2], [299, 1], [399, 10], [499, 35], [540, 3]],
        [Max]: [[99, 3], [199, 10], [299, 2], [399, 25], [499, 35], [540, 10]],
        [Counter]: [[20, 1], [99, 4], [199, 13], [299, 16], [399, 40], [499, 50], [540, 63], [540, 3]],
      },
    ]);
  });

  test('raw: overlapping chunks are an error', () => {
    const a = rawChunk([[20, 1], [250, 2]]);
    try {
      ds.series([a, a], 0, 100, '{__name__="a"}');
      expect.unreachable();
    } catch (err) {
      expect(isTesseraError(err, 'TESSERA_DOWNSAMPLE_OVERLAP')).toBe(true);
      expect((err as Error).message).toMatch(/downsample \{__name__="a"\}: chunk 0 \[20, 250\] overlaps chunk 1/);
    }
  });

  test('raw: the first chunk holds only NaN', () => {
    const out = ds.series(
      [
        rawChunk([[20, NaN_], [40, NaN_], [60, NaN_], [80, NaN_], [100, NaN_], [101, staleNaN()], [120, NaN_], [180, NaN_], [250, NaN_]]),
        rawChunk([[260, 1], [300, 10], [340, 15], [380, 25], [420, 35]]),
        rawChunk([[460, staleNaN()], [500, 10], [540, 3]]),
      ],
      0,
      100,
    );
    expect(out.map(decode)).toEqual([
      {
        [Count]: [[299, 1], [399, 3], [499, 1], [540, 2]],
        [Sum]: [[299, 1], [399, 50], [499, 35], [540, 13]],
        [Min]: [[299, 1], [399, 10], [499, 35], [540, 3]],
        [Max]: [[299, 1], [399, 25], [499, 35], [540, 10]],
        [Counter]: [[260, 1], [299, 1], [399, 25], [499, 35], [540, 48], [540, 3]],
      },
    ]);
  });

  const single: Aggrs = {
    [Count]: [[199, 5], [299, 1], [399, 10], [400, 3], [499, 10], [699, 0], [999, 100]],
    [Sum]: [[199, 5], [299, 1], [399, 10], [400, 3], [499, 10], [699, 0], [999, 100]],
    [Min]: [[199, 5], [299, 1], [399, 10], [400, -3], [499, 10], [699, 0], [999, 100]],
    [Max]: [[199, 5], [299, 1], [399, 10], [400, -3], [499, 10], [699, 0], [999, 100]],
    [Counter]: [[99, 100], [299, 150], [499, 210], [499, 10], [599, 20], [799, 50], [999, 120], [999, 50], [1099, 40], [1199, 80], [1299, 110]],
  };
  const singleOut: Aggrs = {
    [Count]: [[499, 29], [999, 100]],
    [Sum]: [[499, 29], [999, 100]],
    [Min]: [[499, -3], [999, 0]],
    [Max]: [[499, 10], [999, 100]],
    [Counter]: [[99, 100], [499, 210], [999, 320], [1299, 430], [1299, 110]],
  };

  test('aggregated: single chunk, and again at the same resolution', () => {
    expect(ds.series([aggrChunk(single)], 499, 500).map(decode)).toEqual([singleOut]);
    expect(ds.series([aggrChunk(singleOut)], 499, 500).map(decode)).toEqual([singleOut]);
  });

  test('aggregated: two chunks', () => {
    const second: Aggrs = {
      [Count]: [[1399, 10], [1400, 3], [1499, 10], [1699, 0], [1999, 100]],
      [Sum]: [[1399, 10], [1400, 3], [1499, 10], [1699, 0], [1999, 100]],
      [Min]: [[1399, 10], [1400, -3], [1499, 10], [1699, 0], [1999, 100]],
      [Max]: [[1399, 10], [1400, -3], [1499, 10], [1699, 0], [1999, 100]],
      [Counter]: [[1499, 210], [1499, 10], [1599, 20], [1799, 50], [1999, 120], [1999, 50], [2099, 40], [2199, 80], [2299, 110]],
    };
    expect(ds.series([aggrChunk(single), aggrChunk(second)], 499, 500).map(decode)).toEqual([
      {
        [Count]: [[499, 29], [999, 100], [1499, 23], [1999, 100]],
        [Sum]: [[499, 29], [999, 100], [1499, 23], [1999, 100]],
        [Min]: [[499, -3], [999, 0], [1499, -3], [1999, 0]],
        [Max]: [[499, 10], [999, 100], [1499, 10], [1999, 100]],
        [Counter]: [[99, 100], [499, 210], [999, 320], [1499, 530], [1999, 640], [2299, 750], [2299, 110]],
      },
    ]);
  });

  test('aggregated: realistic 5m chunk with a counter reset to 1h', () => {
    const in5m: Aggrs = {
      [Count]: [[1587690299999, 20], [1587690599999, 20], [1587690899999, 20], [1587691199999, 20], [1587691499999, 20], [1587691799999, 20], [1587692099999, 20], [1587692399999, 20], [1587692699999, 16], [1587692999999, 20], [1587693299999, 20], [1587693590791, 20]],
      [Sum]: [[1587690299999, 9.276972e6], [1587690599999, 9.359861e6], [1587690899999, 9.447457e6], [1587691199999, 9.542732e6], [1587691499999, 9.630379e6], [1587691799999, 9.715631e6], [1587692099999, 9.799808e6], [1587692399999, 9.888117e6], [1587692699999, 2.98928e6], [1587692999999, 81592], [1587693299999, 163711], [1587693590791, 255746]],
      [Min]: [[1587690299999, 461968], [1587690599999, 466070], [1587690899999, 470131], [1587691199999, 474913], [1587691499999, 479625], [1587691799999, 483709], [1587692099999, 488036], [1587692399999, 492223], [1587692699999, 75], [1587692999999, 2261], [1587693299999, 6210], [1587693590791, 10464]],
      [Max]: [[1587690299999, 465870], [1587690599999, 469951], [1587690899999, 474726], [1587691199999, 479368], [1587691499999, 483566], [1587691799999, 487787], [1587692099999, 492065], [1587692399999, 496245], [1587692699999, 496544], [1587692999999, 6010], [1587693299999, 10242], [1587693590791, 14956]],
      [Counter]: [[1587690005791, 461968], [1587690299999, 465870], [1587690599999, 469951], [1587690899999, 474726], [1587691199999, 479368], [1587691499999, 483566], [1587691799999, 487787], [1587692099999, 492065], [1587692399999, 496245], [1587692699999, 498647], [1587692999999, 502554], [1587693299999, 506786], [1587693590791, 511500], [1587693590791, 14956]],
    };
    expect(ds.series([aggrChunk(in5m)], RES_5M, RES_1H).map(decode)).toEqual([
      {
        [Count]: [[1587693590791, 236]],
        [Sum]: [[1587693590791, 8.0151286e7]],
        [Min]: [[1587693590791, 75]],
        [Max]: [[1587693590791, 496544]],
        [Counter]: [[1587690005791, 461968], [1587693590791, 511500], [1587693590791, 14956]],
      },
    ]);
  });

  test('aggregated: four counter-only chunks of 120 samples make one chunk', () => {
    const ins = [0, 1, 2, 3].map((k) => aggrChunk({ [Counter]: Array.from({ length: 120 }, (_, i) => [k * 120 + i, k * 120 + i] as S) }));
    const want: S[] = [[0, 0]];
    for (let i = 0; i < 480; i += 2) want.push([1 + i, 1 + i]);
    want.push([479, 479]);
    expect(ds.series(ins, 1, 2).map(decode)).toEqual([{ [Counter]: want }]);
  });

  test('48h of 15s raw samples make 5 chunks of about 116 windows (targetChunkCount 5, batches of 2305)', () => {
    const pts: S[] = Array.from({ length: 11_520 }, (_, i) => [i * 15_000, i] as S);
    const chunks: ChunkMeta[] = [];
    for (let i = 0; i < pts.length; i += 120) chunks.push(rawChunk(pts.slice(i, i + 120)));
    const out = ds.series(chunks, 0, RES_5M);
    // Batch k covers raw samples [2305k, 2305(k+1)) extended to the end of the window: 2320 samples
    // (116 windows of 20) for the first four, the remaining 2240 (112 windows) for the last.
    expect(out.map((m) => m.chunk.numSamples())).toEqual([116, 116, 116, 116, 112]);
    expect(out[0]!.minTime).toBe(299_999);
    expect(out[4]!.maxTime).toBe(pts[pts.length - 1]![0]);
  });

  test('target resolution must be coarser', () => {
    expect(() => ds.series([], RES_5M, RES_5M)).toThrow(/target resolution 5m is not coarser than 5m/);
  });
});

describe('Downsampler and native histograms', () => {
  const pts = (from: number, to: number): S[] => Array.from({ length: (to - from) / 15_000 }, (_, i) => [from + i * 15_000, i] as S);
  const a = rawChunk(pts(0, 3_600_000));
  const b = rawChunk(pts(7_200_000, 10_800_000));
  // Never decoded: only its encoding and sample count are looked at.
  const hist: ChunkMeta = { ref: 0, minTime: 3_600_000, maxTime: 7_000_000, chunk: new OpaqueChunk(Encoding.FloatHistogram, Uint8Array.of(0, 5, 0)) };
  const hex = (ms: ChunkMeta[]) => ms.map((m) => [m.minTime, m.maxTime, Buffer.from(m.chunk.bytes()).toString('hex')]);

  test('are an error by default', () => {
    expect(() => new Downsampler().series([a, hist, b], 0, RES_5M, 's')).toThrow(/downsample s: chunk 1 holds native histograms/);
  });

  test("with histograms: 'skip' are left out, the float runs around them downsampled separately", () => {
    const ds = new Downsampler({ histograms: 'skip' });
    const m5 = ds.series([a, hist, b], 0, RES_5M);
    expect(hex(m5)).toEqual(hex([...ds.series([a], 0, RES_5M), ...ds.series([b], 0, RES_5M)]));
    const [a5, b5] = [ds.series([a], 0, RES_5M), ds.series([b], 0, RES_5M)];
    const h1 = ds.series([...a5, hist, ...b5], RES_5M, RES_1H);
    expect(hex(h1)).toEqual(hex([...ds.series(a5, RES_5M, RES_1H), ...ds.series(b5, RES_5M, RES_1H)]));
    expect(ds.skippedHistogramChunks).toBe(2);
  });
});
