import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AggrChunk, staleNaN, type ChunkMeta } from '../chunkenc/index.js';
import { isTesseraError } from '../errors/index.js';
import { Labels, MatchType, Matcher } from '../labels/index.js';
import { BlockReader, BlockWriter, type WrittenBlock } from '../tsdb/index.js';
import { downsampleBlock } from './downsample-block.js';
import { Downsampler } from './downsampler.js';
import { RES_1H, RES_5M } from './resolution.js';

const EXT = { cluster: 'c1', replica: 'a' };
const H = 3_600_000;
const ALL = [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-dsblock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 50h of 15s samples: a counter with a reset and a staleness gap, a gauge, and a series of only staleness markers. */
async function rawBlock(): Promise<WrittenBlock> {
  const w = await BlockWriter.create(join(dir, 'raw'), {
    minTime: 0,
    maxTime: 50 * H,
    level: 3,
    sources: ['01HZZZZZZZZZZZZZZZZZZZZZZ1', '01HZZZZZZZZZZZZZZZZZZZZZZ2'],
    thanos: { labels: EXT, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} },
  });
  const n = (50 * H) / 15_000;
  const ts = Array.from({ length: n }, (_, i) => i * 15_000);
  await w.addSeries(Labels.fromStrings('__name__', 'gauge', 'job', 'x'), ts, ts.map((_, i) => Math.round(100 * Math.sin(i / 50))));
  await w.addSeries(Labels.fromStrings('__name__', 'only_stale'), ts.slice(0, 10), ts.slice(0, 10).map(() => staleNaN()));
  await w.addSeries(
    Labels.fromStrings('__name__', 'requests_total', 'job', 'x'),
    ts,
    ts.map((_, i) => (i >= 3000 && i < 3040 ? staleNaN() : i < 6000 ? i * 2 : i - 6000)),
  );
  return w.flush();
}

async function seriesChunks(blockDir: string): Promise<[string, ChunkMeta[]][]> {
  const r = await BlockReader.open(blockDir);
  try {
    const set = await (await r.chunkQuerier(r.minTime, r.maxTime)).select(true, undefined, ALL);
    const out: [string, ChunkMeta[]][] = [];
    while (set.next()) out.push([set.at().labels().toString(), [...set.at().chunks()]]);
    expect(set.err()).toBeNull();
    return out;
  } finally {
    r.close();
  }
}

const hex = (m: ChunkMeta) => [m.minTime, m.maxTime, m.chunk.encoding(), Buffer.from(m.chunk.bytes()).toString('hex')];

describe('downsampleBlock', () => {
  test('raw → 5m → 1h: series downsampled as Downsampler.series does, meta as Thanos writes it', async () => {
    const raw = await rawBlock();
    const m5 = (await downsampleBlock({ blockDir: raw.dir, outDir: join(dir, 'out'), resolution: RES_5M }))!;
    expect(m5.dir).toBe(join(dir, 'out', m5.ulid));
    expect(m5.meta).toMatchObject({
      minTime: 0,
      maxTime: 50 * H,
      compaction: { level: 3, sources: ['01HZZZZZZZZZZZZZZZZZZZZZZ1', '01HZZZZZZZZZZZZZZZZZZZZZZ2'] },
      thanos: { labels: EXT, downsample: { resolution: RES_5M }, source: 'compactor' },
    });

    const ds = new Downsampler();
    const input = await seriesChunks(raw.dir);
    const got = await seriesChunks(m5.dir);
    // The all-stale series is dropped; the others hold exactly what Downsampler.series makes.
    expect(got.map(([l]) => l)).toEqual(['{__name__="gauge", job="x"}', '{__name__="requests_total", job="x"}']);
    for (const [l, chunks] of got) {
      const want = ds.series(input.find(([k]) => k === l)![1], 0, RES_5M);
      expect(chunks.map(hex)).toEqual(want.map(hex));
      expect(chunks.every((c) => c.chunk instanceof AggrChunk)).toBe(true);
    }
    const windows = got.flatMap(([, cs]) => cs).reduce((n, c) => n + c.chunk.numSamples(), 0);
    // 50h = 600 windows of 5m per series, less the two windows the counter's 10-minute staleness gap empties.
    expect(windows).toBe(1198);
    expect(m5.meta.stats).toMatchObject({ numSeries: 2, numChunks: got.flatMap(([, cs]) => cs).length, numSamples: 1198 });

    const h1 = (await downsampleBlock({ blockDir: m5.dir, outDir: join(dir, 'out'), resolution: RES_1H, downsampler: ds }))!;
    expect(h1.meta.thanos).toMatchObject({ labels: EXT, downsample: { resolution: RES_1H }, source: 'compactor' });
    expect(h1.meta.stats.numSamples).toBe(100);
    for (const [l, chunks] of await seriesChunks(h1.dir)) {
      const want = ds.series(got.find(([k]) => k === l)![1], RES_5M, RES_1H);
      expect(chunks.map(hex)).toEqual(want.map(hex));
    }
  });

  test('a target not coarser than the block is an error naming the block; nothing is written', async () => {
    const raw = await rawBlock();
    const m5 = (await downsampleBlock({ blockDir: raw.dir, outDir: join(dir, 'out'), resolution: RES_5M }))!;
    try {
      await downsampleBlock({ blockDir: m5.dir, outDir: join(dir, 'again'), resolution: RES_5M });
      expect.unreachable();
    } catch (err) {
      expect(isTesseraError(err, 'TESSERA_DOWNSAMPLE_RESOLUTION')).toBe(true);
      expect((err as Error).message).toContain(`downsample block ${m5.ulid}: target resolution 5m is not coarser than its 5m`);
    }
    await expect(readdir(join(dir, 'again'))).rejects.toThrow();
  });

  test('a block with nothing but staleness markers yields no block', async () => {
    const w = await BlockWriter.create(join(dir, 'raw'), { thanos: { labels: EXT, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
    await w.addSeries(Labels.fromStrings('__name__', 'gone'), [1000, 2000], [staleNaN(), staleNaN()]);
    const b = await w.flush();
    expect(await downsampleBlock({ blockDir: b.dir, outDir: join(dir, 'out'), resolution: RES_5M })).toBeUndefined();
    expect(await readdir(join(dir, 'out'))).toEqual([]);
  });
});
