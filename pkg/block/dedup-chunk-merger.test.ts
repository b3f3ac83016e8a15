import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ValueType, type ChunkMeta } from '../chunkenc/index.js';
import { compareForDedup, DedupSeriesSet } from '../dedup/index.js';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import { ArraySeriesSet, compactingChunkSeriesMerger, ListSeries, mergeChunkSeriesSets, type ChunkSeriesMergeFunc, type ChunkSeriesSet, type Series } from '../storage/index.js';
import { requireBinary } from '../testutil/index.js';
import { BlockReader, BlockWriter, StreamingBlockWriter } from '../tsdb/index.js';
import { dedupChunkSeriesMerger, replicaChunkSeriesSet } from './dedup-chunk-merger.js';

const promtool = requireBinary('promtool');

/** promtoolDump runs `promtool tsdb dump` on a directory of blocks: label set → [t, v] samples. */
function promtoolDump(bin: string, dataDir: string): Map<string, [number, number][]> {
  mkdirSync(join(dataDir, 'wal'), { recursive: true });
  const out = new Map<string, [number, number][]>();
  for (const line of execFileSync(bin, ['tsdb', 'dump', dataDir], { maxBuffer: 1 << 30, encoding: 'utf8' }).split('\n')) {
    if (line === '') continue;
    const close = line.lastIndexOf('} ');
    const [v, t] = line.slice(close + 2).split(' ');
    const key = line.slice(0, close + 1);
    let arr = out.get(key);
    if (arr === undefined) out.set(key, (arr = []));
    arr.push([Number(t), Number(v)]);
  }
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dedup-merge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Samples = [number, number][];
interface Replica {
  readonly name: string;
  readonly series: Map<string, { labels: Labels; samples: Samples }>;
}

const T0 = 1_700_000_000_000;
const all = [new Matcher(MatchType.Regexp, '__name__', '.+')];

/** One replica of 12 series over 2h at 15 s: shifted by `shift` ms, missing [gapFrom, gapTo), counters or gauges. */
function replica(name: string, shift: number, gapFrom: number, gapTo: number, jitter: number): Replica {
  const series = new Map<string, { labels: Labels; samples: Samples }>();
  for (let i = 0; i < 12; i++) {
    const labels = Labels.fromStrings('__name__', i % 2 === 0 ? 'requests_total' : 'temperature', 'instance', `host-${String(i).padStart(2, '0')}`);
    const samples: Samples = [];
    let c = 0;
    for (let t = T0 + shift; t < T0 + 7_200_000; t += 15_000 + ((t / 15_000) % 3 === 0 ? jitter : 0)) {
      if (t >= T0 + gapFrom && t < T0 + gapTo) continue;
      c += 1 + (i % 3);
      samples.push([t, i % 2 === 0 ? c : 20 + Math.sin(t / 60_000 + i)]);
    }
    series.set(labels.toString(), { labels, samples });
  }
  return { name, series };
}

async function writeReplicaBlock(r: Replica, from = 0, to = 7_200_000): Promise<BlockReader> {
  const w = await BlockWriter.create(join(dir, r.name), { minTime: T0 + from, maxTime: T0 + to });
  for (const s of [...r.series.values()].sort((a, b) => Labels.compare(a.labels, b.labels))) {
    const part = s.samples.filter((p) => p[0] >= T0 + from && p[0] < T0 + to);
    await w.addSeries(
      s.labels,
      part.map((p) => p[0]),
      part.map((p) => p[1]),
    );
  }
  return BlockReader.open((await w.flush()).dir);
}

async function chunkSet(r: BlockReader): Promise<ChunkSeriesSet> {
  return (await r.chunkQuerier(-Infinity, Infinity)).select(true, undefined, all);
}

/** Merges the replicas' blocks with the merge function, writes the result with StreamingBlockWriter and reads its samples back. */
async function compactAndRead(readers: readonly BlockReader[], merge: ChunkSeriesMergeFunc, ranks?: readonly number[]): Promise<Map<string, Samples>> {
  const w = await StreamingBlockWriter.create(join(dir, 'out'), { level: 2 });
  const sets = await Promise.all(readers.map(chunkSet));
  await w.writeSeriesSet(mergeChunkSeriesSets(ranks === undefined ? sets : sets.map((s, i) => replicaChunkSeriesSet(s, ranks[i]!)), merge));
  const written = await w.flush();
  const r = await BlockReader.open(written.dir);
  const out = new Map<string, Samples>();
  const set = await (await r.chunkQuerier(-Infinity, Infinity)).select(true, undefined, all);
  while (set.next()) {
    const chunks = [...set.at().chunks()];
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.minTime).toBeGreaterThan(chunks[i - 1]!.maxTime);
    out.set(set.at().labels().toString(), samplesOf(chunks));
  }
  await r.close();
  return out;
}

function samplesOf(chunks: Iterable<ChunkMeta>): Samples {
  const out: Samples = [];
  for (const c of chunks) {
    const it = c.chunk.iterator();
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) out.push([it.atT(), it.atF()]);
  }
  return out;
}

/** What the querier's dedup (pkg/dedup DedupSeriesSet, no counter adjustment) returns for the replicas. */
function queryDedup(replicas: readonly Replica[]): Map<string, Samples> {
  const rl = new Set(['replica']);
  const list: Series[] = [];
  for (const r of replicas) {
    for (const s of r.series.values()) {
      list.push(new ListSeries(Labels.fromRecord({ ...s.labels.toRecord(), replica: r.name }), s.samples.map((p) => p[0]), s.samples.map((p) => p[1])));
    }
  }
  const cmp = compareForDedup(rl);
  list.sort((a, b) => cmp(a.labels(), b.labels()));
  const set = new DedupSeriesSet(new ArraySeriesSet(list), rl, { counter: false });
  const out = new Map<string, Samples>();
  while (set.next()) {
    const it = set.at().iterator();
    const pts: Samples = [];
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) pts.push([it.atT(), it.atF()]);
    out.set(set.at().labels().toString(), pts);
  }
  return out;
}

describe('block merge', () => {
  test('dedup merge of two replicas (two blocks each) equals what pkg/dedup returns for the same data, for either preferred replica', async () => {
    const a = replica('a', 0, 1_800_000, 2_400_000, 0);
    const b = replica('b', 250, 4_000_000, 4_300_000, 1000);
    const readers = [await writeReplicaBlock(a, 0, 3_600_000), await writeReplicaBlock(b, 0, 3_600_000), await writeReplicaBlock(a, 3_600_000, 7_200_000), await writeReplicaBlock(b, 3_600_000, 7_200_000)];
    for (const [ranks, preferred] of [
      [[0, 1, 0, 1], [a, b]],
      [[1, 0, 1, 0], [b, a]],
    ] as const) {
      const got = await compactAndRead(readers, dedupChunkSeriesMerger(), ranks);
      // The querier prefers replicas in replica-label order.
      const want = queryDedup([
        { ...preferred[0], name: 'r0' },
        { ...preferred[1], name: 'r1' },
      ]);
      expect([...got.keys()]).toEqual([...want.keys()]);
      for (const [k, v] of want) expect(got.get(k), k).toEqual(v);
      // The gaps of each replica are filled by the other; the sample rate is not doubled.
      const first = want.values().next().value!;
      expect(first.length).toBeGreaterThan(470);
      expect(first.length).toBeLessThan(490);
      await rm(join(dir, 'out'), { recursive: true });
    }
    // The preferred replica comes out unchanged outside its gap.
    const k = [...a.series.keys()][0]!;
    const got = await compactAndRead(readers, dedupChunkSeriesMerger(), [0, 1, 0, 1]);
    const outsideGap = (p: [number, number]): boolean => p[0] < T0 + 1_800_000 || p[0] >= T0 + 2_400_000;
    expect(got.get(k)!.filter(outsideGap)).toEqual(a.series.get(k)!.samples);
    await rm(join(dir, 'out'), { recursive: true });

    // 'chain' keeps every replica's samples, one per timestamp.
    const chained = await compactAndRead(readers, dedupChunkSeriesMerger({ algorithm: 'chain' }), [0, 1, 0, 1]);
    expect(chained.get(k)).toEqual([...a.series.get(k)!.samples, ...b.series.get(k)!.samples].sort((x, y) => x[0] - y[0]));
  });

  test('compacting merge: B duplicating A gives A once; distinct overlapping samples give the union', async () => {
    const a = replica('a', 0, 1_800_000, 2_400_000, 0);
    const dupReaders = [await writeReplicaBlock(a), await writeReplicaBlock({ ...a, name: 'a2' })];
    const once = await compactAndRead(dupReaders, compactingChunkSeriesMerger);
    for (const [k, s] of a.series) expect(once.get(k)).toEqual(s.samples);
    await rm(join(dir, 'out'), { recursive: true });

    const b = replica('b', 7_500, 0, 0, 0);
    const union = await compactAndRead([dupReaders[0]!, await writeReplicaBlock(b)], compactingChunkSeriesMerger);
    for (const [k, s] of a.series) {
      const want = [...s.samples, ...b.series.get(k)!.samples].sort((x, y) => x[0] - y[0]);
      expect(union.get(k)).toEqual(want);
    }
  });

  test.skipIf(!promtool)('compacting merge equals promtool dump of the overlapping source blocks (Prometheus merges them vertically)', async () => {
    const a = replica('a', 0, 1_800_000, 2_400_000, 0);
    const b = replica('b', 7_500, 4_000_000, 4_300_000, 0);
    // The second hour of a again, cut into chunks elsewhere: identical samples that overlap a's chunks.
    // (Equal timestamps with different values have no defined winner in Prometheus's merge either.)
    const readers = [await writeReplicaBlock(a), await writeReplicaBlock(b), await writeReplicaBlock({ ...a, name: 'a-again' }, 3_600_000 + 7_000, 7_200_000)];
    const srcDir = join(dir, 'sources');
    mkdirSync(srcDir);
    for (const r of readers) await rename(r.dir, join(srcDir, r.ulid));
    const want = promtoolDump(promtool!, srcDir);
    const moved = await Promise.all(readers.map((r) => BlockReader.open(join(srcDir, r.ulid))));
    await compactAndRead(moved, compactingChunkSeriesMerger);
    expect(promtoolDump(promtool!, join(dir, 'out'))).toEqual(want);
    expect([...want.values()][0]!.length).toBe(900); // a: 480 − 40 in its gap, b: 480 − 20; a-again adds nothing
  });
});
