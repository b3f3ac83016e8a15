import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DELETION_MARK_FILENAME, uploadBlock } from '../../pkg/block/index.js';
import { ValueType } from '../../pkg/chunkenc/index.js';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { startProcess, waitFor } from '../../pkg/testutil/index.js';
import { BlockReader, BlockWriter, META_FILENAME, UlidGenerator, readBlockMeta, writeBlockMeta, type BlockMeta, type IndexChunkMeta } from '../../pkg/tsdb/index.js';
import { rng } from '../../pkg/datagen/index.js';

/**
 * Crash safety of `tessera compact`: the process is SIGKILLed at random points of its work at
 * least 20 times and restarted; after every kill no block with a meta.json is incomplete (a store
 * would load it), and after a final clean run the live blocks hold every sample exactly once,
 * without overlaps.
 */
const H = 3_600_000;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KILLS = 20;
const SEED = Number(process.env['COMPACT_CRASH_SEED'] ?? 20261207);

const gen = new UlidGenerator();

/** addBlocks uploads 2h blocks [fromH, toH) of three series for clusters a and b, as a sidecar would. */
async function addBlocks(fromH: number, toH: number): Promise<void> {
  const bkt = new FilesystemBucket({ directory: bucketDir });
  for (const cluster of ['a', 'b']) {
    for (let h = fromH; h < toH; h += 2) {
      const dir = await mkdtemp(join(base, 'src-'));
      const w = await BlockWriter.create(dir, { ulid: gen.next(Date.now() - 50 * H), minTime: h * H, maxTime: (h + 2) * H });
      for (let i = 0; i < 3; i++) {
        const ts = Array.from({ length: 24 }, (_, k) => h * H + k * 5 * 60_000 + i * 1000);
        await w.addSeries(Labels.fromRecord({ __name__: 'm', i: String(i) }), ts, ts.map((t) => t / 1000));
        const key = `${cluster}/${i}`;
        expected.set(key, [...(expected.get(key) ?? []), ...ts]);
      }
      const b = await w.flush();
      await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: { cluster }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
      await uploadBlock(bkt, b.dir, { now: () => Date.now() - 40 * H });
      await rm(dir, { recursive: true, force: true });
    }
  }
}

let base: string;
let bucketDir: string;
let config: string;
/** expected: `<cluster>/<series>` → sorted timestamps. */
const expected = new Map<string, number[]>();

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tessera-compact-crash-'));
  bucketDir = join(base, 'bucket');
  config = join(base, 'bucket.yml');
  await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  await addBlocks(0, 26);
}, 120_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function compact(): ReturnType<typeof startProcess> {
  return startProcess(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), 'compact', `--objstore.config-file=${config}`, `--data-dir=${join(base, 'data')}`, '--consistency-delay=0s', '--delete-delay=0s', '--compact.lease-duration=5s', '--downsampling.disable'],
    { cwd: repoRoot },
  );
}

/** Block directories in the bucket with their state. */
async function blocks(): Promise<{ id: string; meta?: BlockMeta; deleted: boolean }[]> {
  const out: { id: string; meta?: BlockMeta; deleted: boolean }[] = [];
  for (const id of await readdir(bucketDir)) {
    if (!/^[0-9A-Z]{26}$/.test(id)) continue;
    const files = await readdir(join(bucketDir, id));
    out.push({ id, deleted: files.includes(DELETION_MARK_FILENAME), ...(files.includes(META_FILENAME) ? { meta: await readBlockMeta(join(bucketDir, id)) } : {}) });
  }
  return out;
}

/** A block a store would load (meta.json present) must have every file its meta lists, at its size. */
async function assertNoIncompleteVisible(): Promise<void> {
  for (const b of await blocks()) {
    if (b.meta === undefined) continue;
    const files = b.meta.thanos?.files ?? [];
    expect(files.some((f) => f.rel_path === 'index'), `block ${b.id} lists its index`).toBe(true);
    for (const f of files) {
      if (f.rel_path === META_FILENAME) continue;
      const st = await stat(join(bucketDir, b.id, f.rel_path));
      expect(st.size, `${b.id}/${f.rel_path}`).toBe(f.size_bytes);
    }
  }
}

describe('tessera compact under SIGKILL', () => {
  test(`killed ${KILLS} times at random points and restarted, the bucket ends with every sample once`, async () => {
    const rnd = rng(SEED);
    let kills = 0;
    let runs = 0;
    let nextH = 26;
    while (kills < KILLS && runs < 2 * KILLS) {
      runs++;
      // New blocks keep arriving, so there is always work to interrupt.
      await addBlocks(nextH, nextH + 4);
      nextH += 4;
      const p = compact();
      // Kill after a random number of work log lines (plan, upload, mark, delete), plus jitter.
      const lines = 1 + Math.floor(rnd() * 8);
      const jitter = Math.floor(rnd() * 40);
      try {
        await waitFor(`compactor to log ${lines} work lines`, async () => {
          if (p.proc.exitCode !== null) return 'exited';
          const n = (p.output().match(/msg="?(compaction planned|compacted and uploaded block|deleted block marked for deletion|marked outdated block)/g) ?? []).length;
          return n >= lines ? 'ready' : undefined;
        }, 60_000, 5);
        if (jitter > 0) await new Promise((r) => setTimeout(r, jitter));
      } finally {
        if (p.proc.exitCode === null && p.proc.signalCode === null) {
          await p.kill();
          kills++;
        } else {
          await p.kill();
        }
      }
      await assertNoIncompleteVisible();
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);

    // A clean run to the end, twice (the second must find nothing to do).
    for (let i = 0; i < 2; i++) {
      const p = compact();
      await waitFor('compactor to finish', async () => (p.proc.exitCode !== null ? true : undefined), 120_000, 20);
      expect(p.proc.exitCode, p.output()).toBe(0);
      if (i === 1) expect(p.output()).not.toMatch(/compacted and uploaded block/);
    }
    await assertNoIncompleteVisible();

    // Live blocks: complete, not marked. Per cluster no overlaps; every sample exactly once.
    const live = (await blocks()).filter((b) => b.meta !== undefined && !b.deleted);
    const got = new Map<string, number[]>();
    for (const cluster of ['a', 'b']) {
      const ms = live.filter((b) => b.meta!.thanos!.labels['cluster'] === cluster).map((b) => b.meta!).sort((x, y) => x.minTime - y.minTime);
      for (let i = 1; i < ms.length; i++) expect(ms[i]!.minTime, `overlap in cluster ${cluster}`).toBeGreaterThanOrEqual(ms[i - 1]!.maxTime);
      // Compacted: everything before the last (incomplete) 8h range is in blocks of 8h or more.
      expect(ms.filter((m) => m.maxTime <= Math.floor((nextH - 2) / 8) * 8 * H).every((m) => m.maxTime - m.minTime >= 8 * H)).toBe(true);
      for (const m of ms) {
        const r = await BlockReader.open(join(bucketDir, m.ulid));
        try {
          const p = r.index.allPostings();
          const metas: IndexChunkMeta[] = [];
          while (p.next()) {
            const lset = r.index.series(p.at(), metas);
            const key = `${cluster}/${lset.get('i')}`;
            const ts = got.get(key) ?? [];
            for (const c of metas) {
              const it = r.chunks.chunk(c.ref).iterator();
              while (it.next() !== ValueType.None) ts.push(it.atT());
            }
            got.set(key, ts);
          }
        } finally {
          r.close();
        }
      }
    }
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, ts] of expected) expect(got.get(k), k).toEqual(ts);
  }, 600_000);
});
