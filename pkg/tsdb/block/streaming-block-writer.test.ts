import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AggrChunk, ChunkCutter, Encoding, HistogramAppendResult, HistogramChunk, ValueType, XorChunk, type ChunkMeta } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import { requireBinary } from '../../testutil/index.js';
import { promtoolDump, type DumpedSeries } from '../testutil/promtool-blocks.js';
import { BlockReader } from './block-reader.js';
import { BlockWriter } from './block-writer.js';
import { StreamingBlockWriter, type StreamedChunkSeries } from './streaming-block-writer.js';

const promtool = requireBinary('promtool');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streaming-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TestSeries {
  labels: Labels;
  samples: [number, number][];
  chunks: ChunkMeta[];
}

/** A deterministic data set: 5 metrics × 40 hosts, some series with an extra label, 2h of 15 s samples. */
function dataset(): TestSeries[] {
  const out: TestSeries[] = [];
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let m = 0; m < 5; m++) {
    for (let h = 0; h < 40; h++) {
      const kv: Record<string, string> = { __name__: `metric_${m}`, host: `host-${String(h).padStart(2, '0')}`, job: h % 3 === 0 ? 'node' : 'app' };
      if ((m + h) % 4 === 0) kv['zone'] = `z${h % 5}`;
      const samples: [number, number][] = [];
      const cutter = new ChunkCutter();
      let v = 0;
      for (let t = 1_700_000_000_000 + h * 1000; t < 1_700_000_000_000 + 7_200_000; t += 15_000) {
        v += Math.floor(rnd() * 10);
        samples.push([t, v]);
        cutter.append(t, v);
      }
      out.push({ labels: Labels.fromRecord(kv), samples, chunks: cutter.finish() });
    }
  }
  return out.sort((a, b) => Labels.compare(a.labels, b.labels));
}

async function* asyncChunks(chunks: readonly ChunkMeta[]): AsyncIterable<ChunkMeta> {
  for (const c of chunks) {
    await Promise.resolve();
    yield c;
  }
}

function asStreamed(data: readonly TestSeries[], async: boolean): StreamedChunkSeries[] {
  return data.map((s) => ({ labels: () => s.labels, chunks: () => (async ? asyncChunks(s.chunks) : s.chunks) }));
}

async function blockFiles(blockDir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  out.set('index', await readFile(join(blockDir, 'index')));
  for (const f of (await readdir(join(blockDir, 'chunks'))).sort()) out.set(`chunks/${f}`, await readFile(join(blockDir, 'chunks', f)));
  return out;
}

describe('StreamingBlockWriter', () => {
  test('index and chunk segments are byte-identical to BlockWriter, with given symbols or spooled, any postings batch size', async () => {
    const data = dataset();
    const ref = await BlockWriter.create(join(dir, 'ref'), { segmentSize: 64 * 1024 });
    for (const s of data) await ref.addChunkSeries(s.labels, s.chunks);
    const want = await ref.flush();
    const wantFiles = await blockFiles(want.dir);
    expect([...wantFiles.keys()].length).toBeGreaterThan(2);

    const symbols = new Set<string>();
    for (const s of data) s.labels.forEach((n, v) => (symbols.add(n), symbols.add(v)));
    const variants: { name: string; symbols?: Iterable<string>; postingsBatchRefs?: number; async: boolean }[] = [
      { name: 'symbols given', symbols, async: false },
      { name: 'spooled', async: true },
      { name: 'symbols given, one label name per postings pass', symbols: [...symbols].reverse(), postingsBatchRefs: 1, async: true },
      { name: 'spooled, small postings batches', postingsBatchRefs: 150, async: false },
    ];
    for (const v of variants) {
      const w = await StreamingBlockWriter.create(join(dir, v.name.replaceAll(/\W+/g, '-')), {
        segmentSize: 64 * 1024,
        ...(v.symbols !== undefined ? { symbols: v.symbols } : {}),
        ...(v.postingsBatchRefs !== undefined ? { postingsBatchRefs: v.postingsBatchRefs } : {}),
      });
      await w.writeSeriesSet(asStreamed(data, v.async));
      const got = await w.flush();
      expect(await blockFiles(got.dir), v.name).toEqual(wantFiles);
      expect(got.meta.stats, v.name).toEqual(want.meta.stats);
      expect([got.meta.minTime, got.meta.maxTime]).toEqual([want.meta.minTime, want.meta.maxTime]);
      expect((await readdir(got.dir)).sort()).toEqual(['chunks', 'index', 'meta.json', 'tombstones']);
    }
  });

  test('rejects unsorted series, overlapping chunks and labels missing from the given symbols; abort leaves nothing', async () => {
    const data = dataset();
    const w = await StreamingBlockWriter.create(dir, {});
    await w.addSeries(data[1]!.labels, data[1]!.chunks);
    await expect(w.addSeries(data[0]!.labels, data[0]!.chunks)).rejects.toThrow(/is not after/);
    const c = data[2]!.chunks;
    await expect(w.addSeries(data[2]!.labels, [c[1]!, c[0]!])).rejects.toThrow(/out of order or overlaps/);
    await w.abort();
    expect(await readdir(dir)).toEqual([]);

    const w2 = await StreamingBlockWriter.create(dir, { symbols: ['__name__', 'metric_0'] });
    await expect(w2.addSeries(data[0]!.labels, data[0]!.chunks)).rejects.toThrow(/not a symbol/);
    await w2.abort();
    const w3 = await StreamingBlockWriter.create(dir, {});
    await w3.addSeries(data[0]!.labels, []);
    await expect(w3.flush()).rejects.toThrow(/no samples/);
    expect(await readdir(dir)).toEqual([]);
  });

  test('histogram and aggregate (0xFF) chunks are written as they are and read back by our reader', async () => {
    const hc = new HistogramChunk();
    const app = hc.appender();
    for (let i = 0; i < 10; i++) {
      const h = new FloatHistogram();
      h.count = 3 + i;
      h.sum = 10 + i;
      h.zeroCount = 1;
      h.positiveSpans = [{ offset: 0, length: 2 }];
      h.positiveBuckets = [1, 1 + i];
      expect(app.appendHistogram(1000 + i * 1000, h)).toBe(HistogramAppendResult.Appended);
    }
    const xor = (pts: [number, number][]): XorChunk => {
      const c = new XorChunk();
      const a = c.appender();
      for (const [t, v] of pts) a.append(t, v);
      return c;
    };
    const aggr = AggrChunk.encode([xor([[300_000, 10], [600_000, 10]]), xor([[300_000, 55], [600_000, 70]]), xor([[300_000, 1], [600_000, 2]]), xor([[300_000, 9], [600_000, 12]]), xor([[300_000, 5], [600_000, 9]])]);
    const w = await StreamingBlockWriter.create(dir, { thanos: { labels: { cluster: 'c' }, downsample: { resolution: 300_000 }, source: 'test', index_stats: {} } });
    const aLabels = Labels.fromStrings('__name__', 'a_aggr');
    const hLabels = Labels.fromStrings('__name__', 'h_hist');
    await w.addSeries(aLabels, asyncChunks([{ ref: 0, minTime: 300_000, maxTime: 600_000, chunk: aggr }]));
    await w.addSeries(hLabels, [{ ref: 0, minTime: 1000, maxTime: 10_000, chunk: hc }]);
    const written = await w.flush();
    expect(written.meta.stats).toEqual({ numSamples: 12, numFloatSamples: 2, numHistogramSamples: 10, numSeries: 2, numChunks: 2 });
    expect(written.meta.thanos?.segment_files).toEqual(['000001']);
    expect(written.meta.thanos?.index_stats.chunk_max_size).toBeGreaterThan(0);

    const r = await BlockReader.open(written.dir);
    const set = await (await r.chunkQuerier(0, 1_000_000)).select(true, undefined, [new Matcher(MatchType.Regexp, '__name__', '.+')]);
    const got: { labels: string; enc: number; bytes: Uint8Array }[] = [];
    while (set.next()) for (const c of set.at().chunks()) got.push({ labels: set.at().labels().toString(), enc: c.chunk.encoding(), bytes: c.chunk.bytes() });
    expect(got).toEqual([
      { labels: aLabels.toString(), enc: Encoding.Aggr, bytes: aggr.bytes() },
      { labels: hLabels.toString(), enc: Encoding.Histogram, bytes: hc.bytes() },
    ]);
    await r.close();
  });

  describe.skipIf(!promtool)('with promtool', () => {
    test('promtool tsdb dump and analyze read a streamed block exactly', async () => {
      const data = dataset();
      const w = await StreamingBlockWriter.create(dir, { postingsBatchRefs: 100 });
      await w.writeSeriesSet(asStreamed(data, true));
      const written = await w.flush();
      const want: DumpedSeries = new Map(data.map((s) => [s.labels.toString(), s.samples]));
      expect(promtoolDump(promtool!, dir)).toEqual(want);
      const analyze = execFileSync(promtool!, ['tsdb', 'analyze', dir, written.ulid], { encoding: 'utf8' });
      expect(analyze).toContain(`Series: ${data.length}`);
      expect(analyze).toMatch(/Label names: 4\b/);
      // Our reader agrees too.
      const r = await BlockReader.open(written.dir);
      const set = await (await r.querier(-Infinity, Infinity)).select(true, undefined, [new Matcher(MatchType.Regexp, '__name__', '.+')]);
      const ours: DumpedSeries = new Map();
      while (set.next()) {
        const it = set.at().iterator();
        const pts: [number, number][] = [];
        while (it.next() !== ValueType.None) pts.push([it.atT(), it.atF()]);
        ours.set(set.at().labels().toString(), pts);
      }
      expect(ours).toEqual(want);
      await r.close();
    });
  });
});
