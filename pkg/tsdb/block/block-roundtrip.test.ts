import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CounterResetHeader, Encoding, FloatHistogramChunk, HistogramAppendResult, HistogramChunk, ValueType, type ChunkMeta } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import { Tombstones, writeTombstones } from '../tombstones/index.js';
import { BlockReader } from './block-reader.js';
import { BlockWriter } from './block-writer.js';

const N = 40;
const STEP = 15_000;
const T0 = 1_700_000_000_000;

function samplesOf(i: number): { ts: number[]; vs: number[] } {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let k = 0; k < 300 + i * 7; k++) {
    ts.push(T0 + k * STEP + (k % 3));
    vs.push(i * 1000 + k * 0.5);
  }
  return { ts, vs };
}

const lsets = Array.from({ length: N }, (_, i) => Labels.fromStrings('__name__', i % 2 ? 'up' : 'down', 'i', String(i).padStart(3, '0'))).sort(Labels.compare);

describe('BlockWriter → BlockReader', () => {
  let dir: string;
  let blockDir: string;
  const deleted = { minTime: T0 + 100 * STEP, maxTime: T0 + 150 * STEP };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-block-rt-'));
    const w = await BlockWriter.create(dir, { thanos: { labels: { replica: 'a' }, downsample: { resolution: 0 }, source: 'test', index_stats: {} } });
    for (const l of lsets) {
      const { ts, vs } = samplesOf(Number(l.get('i')));
      await w.addSeries(l, ts, vs);
    }
    const res = await w.flush();
    blockDir = res.dir;
    expect(res.meta.stats.numSeries).toBe(N);
    expect(res.meta.thanos?.segment_files).toEqual(['000001']);
    expect(res.meta.thanos?.index_stats.series_max_size).toBeGreaterThan(0);
    const b = await BlockReader.open(blockDir);
    const ts = new Tombstones();
    ts.add(b.index.postings('i', '004').next() ? expandOne(b, '004') : -1, deleted);
    b.close();
    await writeTombstones(blockDir, ts);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function expandOne(b: BlockReader, v: string): number {
    const p = b.index.postings('i', v);
    p.next();
    return p.at();
  }

  test('chunks are cut by the head rules (≤ 240 samples) and written in index order', async () => {
    const b = await BlockReader.open(blockDir);
    try {
      const set = await (await b.chunkQuerier(-Infinity, Infinity)).select(true, undefined, [new Matcher(MatchType.Regexp, 'i', '.+')]);
      let prevRef = -1;
      let n = 0;
      while (set.next()) {
        for (const c of set.at().chunks()) {
          expect(c.ref).toBeGreaterThan(prevRef);
          prevRef = c.ref;
          expect(c.chunk.numSamples()).toBeLessThanOrEqual(240);
        }
        n++;
      }
      expect(n).toBe(N);
    } finally {
      b.close();
    }
  });

  test('samples are trimmed to the range, tombstones honoured, seek works', async () => {
    const b = await BlockReader.open(blockDir);
    try {
      const mint = T0 + 50 * STEP + 1;
      const maxt = T0 + 250 * STEP;
      const set = await (await b.querier(mint, maxt)).select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'down')]);
      let seen = 0;
      while (set.next()) {
        const s = set.at();
        const i = Number(s.labels().get('i'));
        const { ts, vs } = samplesOf(i);
        const want: [number, number][] = [];
        for (let k = 0; k < ts.length; k++) {
          const t = ts[k]!;
          if (t < mint || t > maxt) continue;
          if (i === 4 && t >= deleted.minTime && t <= deleted.maxTime) continue;
          want.push([t, vs[k]!]);
        }
        const got: [number, number][] = [];
        const it = s.iterator();
        while (it.next() === ValueType.Float) got.push([it.atT(), it.atF()]);
        expect(got).toEqual(want);
        const it2 = s.iterator(it);
        let pos = -Infinity;
        for (const target of [mint - 5, T0 + 120 * STEP, T0 + 119 * STEP, T0 + 200 * STEP + 2, maxt + 1]) {
          const expected = want.find(([t]) => t >= Math.max(target, pos));
          const vt = it2.seek(target);
          if (expected === undefined) {
            expect(vt).toBe(ValueType.None);
            break;
          }
          expect(vt).toBe(ValueType.Float);
          expect([it2.atT(), it2.atF()]).toEqual(expected);
          pos = it2.atT();
        }
        seen++;
      }
      expect(seen).toBe(N / 2);
      expect(set.err()).toBeNull();
    } finally {
      b.close();
    }
  });

  test('label names and values, with and without matchers', async () => {
    const b = await BlockReader.open(blockDir);
    try {
      const q = await b.querier(-Infinity, Infinity);
      expect((await q.labelNames([])).values).toEqual(['__name__', 'i']);
      expect((await q.labelValues('__name__', [])).values).toEqual(['down', 'up']);
      expect((await q.labelValues('i', [new Matcher(MatchType.Equal, '__name__', 'up')], { limit: 3 })).values).toEqual(['001', '003', '005']);
      expect((await q.labelNames([new Matcher(MatchType.Equal, 'i', 'nope')])).values).toEqual([]);
    } finally {
      b.close();
    }
  });

  test('out-of-order series and samples are rejected', async () => {
    const w = await BlockWriter.create(dir);
    await w.addSeries(Labels.fromStrings('a', 'b'), [1, 2], [1, 2]);
    await expect(w.addSeries(Labels.fromStrings('a', 'a'), [1], [1])).rejects.toThrow(/is not after/);
    await expect(w.addSeries(Labels.fromStrings('a', 'c'), [2, 1], [1, 1])).rejects.toThrow(/not after the previous/);
    await w.abort();
  });
});

describe('histogram chunks through BlockWriter → BlockReader', () => {
  let dir: string;
  const H0 = 1_700_000_000_000;
  /** Sample k of series s: counts grow with k; float series get fractional counts. */
  function histAt(s: number, k: number, float: boolean): FloatHistogram {
    const h = new FloatHistogram();
    const f = float ? 0.25 : 1;
    h.schema = 3;
    h.zeroThreshold = 2 ** -128;
    h.positiveSpans = [{ offset: -2, length: 3 }, { offset: 4, length: 2 }];
    h.negativeSpans = [{ offset: 0, length: 1 }];
    h.positiveBuckets = [1, 2, 3, 4, 5].map((b) => (b * k + s) * f);
    h.negativeBuckets = [k * f];
    h.zeroCount = k * f;
    h.count = h.positiveBuckets.reduce((a, b) => a + b, 0) + h.negativeBuckets[0]! + h.zeroCount;
    h.sum = k * 1.5 - s;
    return h;
  }
  function chunksOf(s: number, float: boolean): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (let c = 0; c < 3; c++) {
      const chunk = float ? new FloatHistogramChunk() : new HistogramChunk();
      const app = chunk.appender();
      for (let k = c * 50; k < c * 50 + 50; k++) expect(app.appendHistogram(H0 + k * 10_000, histAt(s, k, float))).toBe(HistogramAppendResult.Appended);
      if (c > 0) chunk.setCounterResetHeader(CounterResetHeader.NotCounterReset);
      out.push({ ref: 0, minTime: H0 + c * 500_000, maxTime: H0 + (c * 50 + 49) * 10_000, chunk });
    }
    return out;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-block-hist-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('samples, chunk pass-through, stats and tombstones', async () => {
    const ls = [0, 1, 2, 3].map((s) => Labels.fromStrings('__name__', 'h', 's', String(s)));
    const w = await BlockWriter.create(dir);
    for (const [s, l] of ls.entries()) await w.addChunkSeries(l, chunksOf(s, s % 2 === 1));
    const res = await w.flush();
    expect(res.meta.stats.numHistogramSamples).toBe(600);
    expect(res.meta.stats.numFloatSamples).toBeUndefined();
    const b = await BlockReader.open(res.dir);
    const ts = new Tombstones();
    const ref2 = (() => {
      const p = b.index.postings('s', '2');
      p.next();
      return p.at();
    })();
    // Deletes the second half of chunk 0 and the first half of chunk 1 of series 2.
    ts.add(ref2, { minTime: H0 + 25 * 10_000, maxTime: H0 + 74 * 10_000 });
    b.close();
    await writeTombstones(res.dir, ts);

    const r = await BlockReader.open(res.dir);
    try {
      const q = await r.querier(H0, H0 + 10_000_000);
      const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'h')]);
      let it;
      const h = new FloatHistogram();
      let series = 0;
      while (set.next()) {
        const s = Number(set.at().labels().get('s'));
        const float = s % 2 === 1;
        it = set.at().iterator(it);
        let k = 0;
        let vt: ValueType;
        while ((vt = it.next()) !== ValueType.None) {
          if (s === 2 && k === 25) k = 75;
          expect(vt).toBe(float ? ValueType.FloatHistogram : ValueType.Histogram);
          expect(it.atT()).toBe(H0 + k * 10_000);
          const want = histAt(s, k, float);
          it.atFloatHistogram(h);
          expect([h.count, h.zeroCount, h.sum, h.positiveBuckets, h.negativeBuckets, h.positiveSpans, h.schema]).toEqual([want.count, want.zeroCount, want.sum, want.positiveBuckets, want.negativeBuckets, want.positiveSpans, 3]);
          k++;
        }
        expect(it.err()).toBeNull();
        expect(k).toBe(150);
        series++;
      }
      expect(series).toBe(4);

      const cq = await r.chunkQuerier(H0, H0 + 10_000_000);
      const cs = await cq.select(true, undefined, [new Matcher(MatchType.Equal, 's', '2')]);
      expect(cs.next()).toBe(true);
      const chunks = [...cs.at().chunks()];
      expect(chunks.map((c) => [c.chunk.encoding(), c.chunk.numSamples(), c.minTime, c.maxTime])).toEqual([
        [Encoding.Histogram, 25, H0, H0 + 24 * 10_000],
        [Encoding.Histogram, 25, H0 + 75 * 10_000, H0 + 99 * 10_000],
        [Encoding.Histogram, 50, H0 + 100 * 10_000, H0 + 149 * 10_000],
      ]);
      expect((chunks[1]!.chunk as HistogramChunk).counterResetHeader()).toBe(CounterResetHeader.NotCounterReset);
      // The untouched chunk is passed through byte for byte.
      expect(Buffer.from(chunks[2]!.chunk.bytes()).equals(Buffer.from(chunksOf(2, false)[2]!.chunk.bytes()))).toBe(true);
    } finally {
      r.close();
    }
  });
});
