import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ValueType } from '../../chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import type { ChunkSeriesSet, SeriesSet } from '../../storage/index.js';
import { requireBinary } from '../../testutil/index.js';
import { readBlockMeta } from '../meta/index.js';
import { makePromtoolBlocks, promtoolDump, type DumpedSeries } from '../testutil/promtool-blocks.js';
import { Tombstones, writeTombstones } from '../tombstones/index.js';
import { BlockReader } from './block-reader.js';
import { BlockWriter } from './block-writer.js';
import { openDB } from './open-db.js';

const promtool = requireBinary('promtool');
const all = [new Matcher(MatchType.Regexp, '__name__', '.+')];
const MIN = -(2 ** 53) + 1;
const MAX = 2 ** 53 - 1;

function drain(set: SeriesSet): DumpedSeries {
  const out: DumpedSeries = new Map();
  let prev: Labels | undefined;
  while (set.next()) {
    const s = set.at();
    if (prev !== undefined) expect(Labels.compare(prev, s.labels())).toBeLessThan(0);
    prev = s.labels();
    const it = s.iterator();
    const samples: [number, number][] = [];
    while (it.next() === ValueType.Float) samples.push([it.atT(), it.atF()]);
    if (it.err() !== null) throw it.err();
    out.set(s.labels().toString(), samples);
  }
  if (set.err() !== null) throw set.err();
  return out;
}

/** Copies the series of a source (our reader) into a new block with BlockWriter, as samples or chunks. */
async function rewrite(src: BlockReader, outDir: string, mode: 'samples' | 'chunks'): Promise<string> {
  const w = await BlockWriter.create(outDir, { minTime: src.minTime, maxTime: src.maxTime, cutter: { chunkRange: 4 * 3600 * 1000 } });
  if (mode === 'chunks') {
    const set: ChunkSeriesSet = await (await src.chunkQuerier(MIN, MAX)).select(true, undefined, all);
    while (set.next()) await w.addChunkSeries(set.at().labels(), [...set.at().chunks()]);
    if (set.err() !== null) throw set.err();
  } else {
    const set = await (await src.querier(MIN, MAX)).select(true, undefined, all);
    while (set.next()) {
      const ts: number[] = [];
      const vs: number[] = [];
      const it = set.at().iterator();
      while (it.next() !== ValueType.None) (ts.push(it.atT()), vs.push(it.atF()));
      await w.addSeries(set.at().labels(), ts, vs);
    }
  }
  return (await w.flush()).ulid;
}

describe.skipIf(!promtool)('blocks: promtool ⇄ tessera', () => {
  let dir: string;
  let dataDir: string;
  let blocks: string[];
  let want: DumpedSeries;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-block-'));
    ({ dataDir, blocks } = makePromtoolBlocks(promtool!, dir, { hosts: 3, hours: 5 }));
    want = promtoolDump(promtool!, dataDir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('openDB reads every series and sample of promtool-made blocks exactly as promtool dump', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    mkdirSync(join(dataDir, 'chunks_head'), { recursive: true });
    mkdirSync(join(dataDir, '01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp-for-creation'), { recursive: true });
    const db = await openDB(dataDir);
    try {
      expect(db.blocks.map((b) => b.ulid).sort()).toEqual(blocks);
      const got = drain(await (await db.querier(MIN, MAX)).select(true, undefined, all));
      expect(got.size).toBe(want.size);
      expect(got).toEqual(want);
    } finally {
      db.close();
    }
  });

  test('range trimming and matchers agree with promtool dump --min-time/--max-time/--match', async () => {
    const db = await openDB(dataDir);
    try {
      const b0 = db.blocks[0]!;
      const mint = b0.minTime + 3_600_000 + 7;
      const maxt = db.blocks[1]!.minTime + 1_800_000;
      const ms = [new Matcher(MatchType.Equal, '__name__', 'node_cpu_seconds_total'), new Matcher(MatchType.NotRegexp, 'mode', 'idle|user'), new Matcher(MatchType.NotEqual, 'cpu', '1')];
      const expected = promtoolDump(promtool!, dataDir, [`--min-time=${mint}`, `--max-time=${maxt}`, `--match={__name__="node_cpu_seconds_total",mode!~"idle|user",cpu!="1"}`]);
      const got = drain(await (await db.querier(mint, maxt)).select(true, undefined, ms));
      expect(expected.size).toBeGreaterThan(0);
      expect(got).toEqual(expected);
      const q = await db.querier(MIN, MAX);
      expect((await q.labelValues('mode', ms)).values).toEqual(['iowait', 'system']);
      expect((await q.labelNames([new Matcher(MatchType.Equal, 'job', 'api')])).values).toEqual(
        [...new Set([...want.keys()].filter((k) => k.includes('job="api"')).flatMap((k) => [...k.matchAll(/(\w+)="/g)].map((m) => m[1]!)))].sort(),
      );
    } finally {
      db.close();
    }
  });

  test('tombstones are honoured like promtool does', async () => {
    const tdir = join(dir, 'tomb');
    mkdirSync(tdir);
    cpSync(join(dataDir, blocks[0]!), join(tdir, blocks[0]!), { recursive: true });
    const b = await BlockReader.open(join(tdir, blocks[0]!));
    const refs: number[] = [];
    const p = b.index.postings('mode', 'idle');
    while (p.next()) refs.push(p.at());
    b.close();
    const ts = new Tombstones();
    for (const r of refs) ts.add(r, { minTime: b.minTime + 600_000, maxTime: b.minTime + 4_000_000 });
    ts.add(refs[0]!, { minTime: b.minTime - 1000, maxTime: b.maxTime + 1000 });
    // "Delete everything" bounds: written as MinInt64/MaxInt64, which promtool must read the same way.
    ts.add(refs[1]!, { minTime: -Infinity, maxTime: Infinity });
    ts.add(refs[2]!, { minTime: -Infinity, maxTime: b.minTime + 1_000_000 });
    ts.add(refs[3]!, { minTime: b.minTime + 5_000_000, maxTime: Infinity });
    await writeTombstones(join(tdir, blocks[0]!), ts);
    const expected = promtoolDump(promtool!, tdir);
    let n = 0;
    for (const v of expected.values()) n += v.length;
    expect(n).toBeLessThan((await readBlockMeta(join(tdir, blocks[0]!))).stats.numSamples!);
    const db = await openDB(tdir);
    try {
      expect(drain(await (await db.querier(MIN, MAX)).select(true, undefined, all))).toEqual(expected);
      // The chunk path re-encodes chunks touched by tombstones.
      const cs = await (await db.chunkQuerier(MIN, MAX)).select(true, undefined, all);
      const fromChunks: DumpedSeries = new Map();
      while (cs.next()) {
        const samples: [number, number][] = [];
        for (const c of cs.at().chunks()) {
          const it = c.chunk.iterator();
          while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
        }
        fromChunks.set(cs.at().labels().toString(), samples);
      }
      expect(fromChunks).toEqual(expected);
    } finally {
      db.close();
    }
  });

  for (const mode of ['samples', 'chunks'] as const) {
    test(`blocks written by BlockWriter (${mode}) are read by promtool dump/analyze/list with identical content`, async () => {
      const out = join(dir, `out-${mode}`);
      mkdirSync(out);
      const db = await openDB(dataDir);
      const written: string[] = [];
      try {
        for (const b of db.blocks) written.push(await rewrite(b, out, mode));
      } finally {
        db.close();
      }
      expect(readdirSync(out).sort()).toEqual([...written].sort());
      expect(promtoolDump(promtool!, out)).toEqual(want);
      const list = execFileSync(promtool!, ['tsdb', 'list', out], { encoding: 'utf8' });
      for (const ulid of written) {
        const meta = await readBlockMeta(join(out, ulid));
        const row = list.split('\n').find((l) => l.startsWith(ulid))!.split(/\s+/);
        expect(row.slice(4, 7).map(Number)).toEqual([meta.stats.numSamples, meta.stats.numChunks, meta.stats.numSeries]);
        const analyze = execFileSync(promtool!, ['tsdb', 'analyze', out, ulid], { encoding: 'utf8' });
        expect(analyze).toContain(`Series: ${meta.stats.numSeries}`);
      }
      const reread = await openDB(out);
      try {
        expect(drain(await (await reread.querier(MIN, MAX)).select(true, undefined, all))).toEqual(want);
      } finally {
        reread.close();
      }
    });
  }

  test('overlapping blocks are merged vertically like promtool dump does', async () => {
    const odir = join(dir, 'overlap');
    mkdirSync(odir);
    const db = await openDB(dataDir);
    const parts: [Labels, number[], number[]][][] = [[], []];
    try {
      const set = await (await db.querier(MIN, MAX)).select(true, undefined, all);
      let k = 0;
      while (set.next()) {
        const it = set.at().iterator();
        const a: [number[], number[]] = [[], []];
        const b: [number[], number[]] = [[], []];
        for (let i = 0; it.next() !== ValueType.None; i++) {
          // Block A gets 2 of every 3 samples, block B 2 of 3 shifted: every sample is in at least one, many in both.
          if (i % 3 !== 2) (a[0].push(it.atT()), a[1].push(it.atF()));
          if (i % 3 !== (k % 3)) (b[0].push(it.atT()), b[1].push(it.atF()));
        }
        parts[0]!.push([set.at().labels(), ...a]);
        if (k++ % 4 !== 0) parts[1]!.push([set.at().labels(), ...b]);
      }
    } finally {
      db.close();
    }
    for (const p of parts) {
      const w = await BlockWriter.create(odir);
      for (const [l, ts, vs] of p) if (ts.length > 0) await w.addSeries(l, ts, vs);
      await w.flush();
    }
    const expected = promtoolDump(promtool!, odir);
    const odb = await openDB(odir);
    try {
      expect(odb.blocks.length).toBe(2);
      expect(drain(await (await odb.querier(MIN, MAX)).select(true, undefined, all))).toEqual(expected);
    } finally {
      odb.close();
    }
  });

  test('a corrupted chunk surfaces as an iterator error naming the segment file', async () => {
    const cdir = join(dir, 'badchunk');
    cpSync(join(dataDir, blocks[0]!), join(cdir, blocks[0]!), { recursive: true });
    const seg = join(cdir, blocks[0]!, 'chunks', '000001');
    const bytes = readFileSync(seg);
    bytes[200] = bytes[200]! ^ 0x10;
    writeFileSync(seg, bytes);
    const b = await BlockReader.open(join(cdir, blocks[0]!));
    try {
      const set = await (await b.querier(MIN, MAX)).select(true, undefined, all);
      let err: Error | null = null;
      while (set.next() && err === null) {
        const it = set.at().iterator();
        while (it.next() !== ValueType.None);
        err = it.err();
      }
      expect(err?.message).toContain(seg);
    } finally {
      b.close();
    }
  });

  test('opening broken blocks names the file', async () => {
    const bdir = join(dir, 'broken');
    cpSync(join(dataDir, blocks[0]!), join(bdir, blocks[0]!), { recursive: true });
    const blockDir = join(bdir, blocks[0]!);
    writeFileSync(join(blockDir, 'meta.json'), '{"ulid": 1');
    await expect(BlockReader.open(blockDir)).rejects.toThrow(/meta\.json/);
    cpSync(join(dataDir, blocks[0]!, 'meta.json'), join(blockDir, 'meta.json'));
    rmSync(join(blockDir, 'index'));
    await expect(BlockReader.open(blockDir)).rejects.toThrow(/index/);
    writeFileSync(join(blockDir, 'index'), new Uint8Array(100));
    await expect(BlockReader.open(blockDir)).rejects.toThrow(new RegExp(`read index ${join(blockDir, 'index')}.*offset 0`));
  });
});
