import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AggrChunk, AggrType, ChunkCutter, Encoding, HistogramAppendResult, HistogramChunk, ValueType, XorChunk, type ChunkMeta } from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { compactingChunkSeriesMerger, overlappingChunkGroups } from './chunk-series-merge.js';
import type { ChunkSeries } from './interface.js';
import { mergeChunkSeriesSets } from './merge-series-set.js';
import { SampleChunkEncoder } from './sample-chunk-encoder.js';
import { ArraySeriesSet } from './series-sets.js';

const lset = Labels.fromStrings('__name__', 'up', 'job', 'a');

function chunked(samples: readonly [number, number][], samplesPerChunk = 120): ChunkMeta[] {
  const c = new ChunkCutter({ samplesPerChunk, chunkRange: 1e15 });
  for (const [t, v] of samples) c.append(t, v);
  return c.finish();
}

function series(chunks: readonly ChunkMeta[], l = lset): ChunkSeries {
  return { labels: () => l, chunks: () => chunks };
}

function samplesOf(chunks: Iterable<ChunkMeta>): [number, number][] {
  const out: [number, number][] = [];
  for (const c of chunks) {
    const it = c.chunk.iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) out.push([it.atT(), it.atF()]);
    expect(it.err()).toBeNull();
  }
  return out;
}

/** Chunks must be ordered, must not overlap, must report their true time range and hold at most 120 samples when re-encoded. */
function checkChunks(chunks: readonly ChunkMeta[]): void {
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    const s = samplesOf([c]);
    if (c.chunk.encoding() === Encoding.XOR) {
      expect(c.minTime).toBe(s[0]![0]);
      expect(c.maxTime).toBe(s[s.length - 1]![0]);
    }
    if (i > 0) expect(c.minTime).toBeGreaterThan(chunks[i - 1]!.maxTime);
  }
}

function range(from: number, to: number, step: number, v: (t: number) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = from; t < to; t += step) out.push([t, v(t)]);
  return out;
}

describe('compactingChunkSeriesMerger', () => {
  test('B duplicating A (same chunks) gives A once, its chunks passed through byte for byte', () => {
    const a = chunked(range(0, 3_600_000, 15_000, (t) => t / 1000));
    const b = chunked(range(0, 3_600_000, 15_000, (t) => t / 1000));
    const merged = [...compactingChunkSeriesMerger([series(a), series(b)]).chunks()];
    expect(merged).toHaveLength(a.length);
    for (let i = 0; i < a.length; i++) expect(merged[i]).toBe(a[i]);
  });

  test('B duplicating A with different chunk boundaries gives A samples once, re-encoded', () => {
    const want = range(0, 3_600_000, 15_000, (t) => Math.sin(t));
    const merged = [...compactingChunkSeriesMerger([series(chunked(want, 120)), series(chunked(want, 77))]).chunks()];
    expect(samplesOf(merged)).toEqual(want);
    checkChunks(merged);
    expect(merged.every((c) => c.chunk.numSamples() <= 120)).toBe(true);
  });

  test('overlapping distinct samples give the union; equal timestamps keep the first input; non-overlapping chunks pass through', () => {
    const a = range(0, 1_800_000, 30_000, (t) => t);
    const b = range(15_000, 1_800_000, 30_000, (t) => -t);
    const late = chunked(range(7_200_000, 7_500_000, 30_000, (t) => t));
    const aChunks = chunked(a);
    const bChunks = [...chunked(b), ...late];
    const merged = [...compactingChunkSeriesMerger([series(aChunks), series(bChunks)]).chunks()];
    const want = [...a, ...b].sort((x, y) => x[0] - y[0]).concat(samplesOf(late));
    expect(samplesOf(merged)).toEqual(want);
    checkChunks(merged);
    expect(merged[merged.length - 1]).toBe(late[late.length - 1]);

    // Equal timestamps with different values: the first input's value wins.
    const x = chunked([[1, 10], [2, 20], [3, 30]]);
    const y = chunked([[2, 99], [4, 40]]);
    expect(samplesOf(compactingChunkSeriesMerger([series(x), series(y)]).chunks())).toEqual([[1, 10], [2, 20], [3, 30], [4, 40]]);
  });

  test('property: the merge of random overlapping inputs is their timestamp-union, in valid chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 130 }), (inputs, spc) => {
        const ss = inputs.map((ts) => series(chunked([...ts].sort((p, q) => p - q).map((t) => [t, t * 10] as [number, number]), spc)));
        const merged = [...compactingChunkSeriesMerger(ss).chunks()];
        const want = [...new Set(inputs.flat())].sort((p, q) => p - q).map((t) => [t, t * 10]);
        expect(samplesOf(merged)).toEqual(want);
        checkChunks(merged);
      }),
    );
  });

  test('overlapping histogram chunks are merged and re-encoded as histograms', () => {
    const mk = (ts: number[]): ChunkMeta => {
      const c = new HistogramChunk();
      const app = c.appender();
      for (const t of ts) {
        const h = new FloatHistogram();
        h.count = t;
        h.sum = t * 2;
        h.positiveSpans = [{ offset: 0, length: 1 }];
        h.positiveBuckets = [t];
        expect(app.appendHistogram(t, h)).toBe(HistogramAppendResult.Appended);
      }
      return { ref: 0, minTime: ts[0]!, maxTime: ts[ts.length - 1]!, chunk: c };
    };
    const merged = [...compactingChunkSeriesMerger([series([mk([10, 20, 30])]), series([mk([15, 20, 25, 40])])]).chunks()];
    expect(merged.map((c) => c.chunk.encoding())).toEqual([Encoding.Histogram]);
    const it = merged[0]!.chunk.iterator();
    const got: [number, number][] = [];
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
      expect(vt).toBe(ValueType.Histogram);
      got.push([it.atT(), it.atFloatHistogram().count]);
    }
    expect(got).toEqual([[10, 10], [15, 15], [20, 20], [25, 25], [30, 30], [40, 40]]);
  });

  test('overlapping aggregate chunks are merged per aggregate', () => {
    const xor = (pts: [number, number][]): XorChunk => {
      const c = new XorChunk();
      const app = c.appender();
      for (const [t, v] of pts) app.append(t, v);
      return c;
    };
    const aggr = (ts: number[], base: number): ChunkMeta => ({
      ref: 0,
      minTime: ts[0]!,
      maxTime: ts[ts.length - 1]!,
      chunk: AggrChunk.encode([0, 1, 2, 3, 4].map((k) => xor(ts.map((t) => [t, base + k])))),
    });
    const merged = [...compactingChunkSeriesMerger([series([aggr([300, 900], 10)]), series([aggr([600, 900, 1200], 20)])]).chunks()];
    expect(merged).toHaveLength(1);
    const m = merged[0]!;
    expect([m.minTime, m.maxTime]).toEqual([300, 1200]);
    const sum = (m.chunk as AggrChunk).get(AggrType.Sum)!;
    expect(samplesOf([{ ref: 0, minTime: 0, maxTime: 0, chunk: sum }])).toEqual([[300, 11], [600, 21], [900, 11], [1200, 21]]);
  });

  test('mergeChunkSeriesSets applies the merge function to equal-labelled series only', () => {
    const other = Labels.fromStrings('__name__', 'up', 'job', 'b');
    const a = chunked(range(0, 600_000, 15_000, () => 1));
    const b = chunked(range(7_500, 600_000, 15_000, () => 2));
    const set = mergeChunkSeriesSets([new ArraySeriesSet<ChunkSeries>([series(a)]), new ArraySeriesSet<ChunkSeries>([series(b), series(b, other)])], compactingChunkSeriesMerger);
    const got: [string, number][] = [];
    while (set.next()) got.push([set.at().labels().toString(), samplesOf(set.at().chunks()).length]);
    expect(got).toEqual([
      [lset.toString(), 80],
      [other.toString(), 40],
    ]);
  });
});

test('overlappingChunkGroups drops identical chunks and groups transitive overlaps', () => {
  const c = (min: number, max: number, v = 0): ChunkMeta => ({ ref: 0, minTime: min, maxTime: max, chunk: chunked([[min, v], [max, v]])[0]!.chunk });
  const groups = [...overlappingChunkGroups([series([c(0, 10), c(20, 30), c(50, 60)]), series([c(0, 10), c(25, 40), c(35, 45), c(70, 80)])])];
  expect(groups.map((g) => g.map((x) => [x.meta.minTime, x.source]))).toEqual([[[0, 0]], [[20, 0], [25, 1], [35, 1]], [[50, 0]], [[70, 1]]]);
});

test('SampleChunkEncoder cuts every 120 samples and on a value type change', () => {
  const enc = new SampleChunkEncoder();
  for (let t = 0; t < 250; t++) enc.appendFloat(t, t);
  const h = new FloatHistogram();
  h.count = 1;
  enc.appendHistogram(300, h, ValueType.FloatHistogram);
  enc.appendFloat(301, 1);
  const chunks = enc.finish();
  expect(chunks.map((c) => [c.chunk.encoding(), c.chunk.numSamples(), c.minTime, c.maxTime])).toEqual([
    [Encoding.XOR, 120, 0, 119],
    [Encoding.XOR, 120, 120, 239],
    [Encoding.XOR, 10, 240, 249],
    [Encoding.FloatHistogram, 1, 300, 300],
    [Encoding.XOR, 1, 301, 301],
  ]);
});
