import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCaptured, type CapturedRun } from './run-captured.js';
import { toolsBucketCommand } from './tools-bucket.js';
import { DELETION_MARK_FILENAME, NO_COMPACT_MARK_FILENAME, readNoCompactMark, uploadBlock } from '../pkg/block/index.js';
import { BucketLease } from '../pkg/compactor/index.js';
import { Labels } from '../pkg/labels/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import { writeOutOfOrderBlock } from '../pkg/testutil/index.js';
import { BlockWriter, META_FILENAME, UlidGenerator, writeBlockMeta } from '../pkg/tsdb/index.js';

const H = 3_600_000;
let base: string;
let bkt: FilesystemBucket;
let cfg: string[];
const gen = new UlidGenerator();

const cli = (argv: string[]): Promise<CapturedRun> => runCaptured(toolsBucketCommand, argv);

async function put(ext: Record<string, string>, minT: number, maxT: number): Promise<string> {
  const dir = await mkdtemp(join(base, 'src-'));
  const w = await BlockWriter.create(dir, { ulid: gen.next(Date.now() - 10 * H), minTime: minT, maxTime: maxT });
  await w.addSeries(Labels.fromRecord({ __name__: 'up' }), [minT, maxT - 1], [1, 2]);
  const b = await w.flush();
  await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: ext, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
  return (await uploadBlock(bkt, b.dir, { now: () => Date.now() - 5 * H })).ulid;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tessera-bucket-tools-'));
  const config = join(base, 'bucket.yml');
  await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${join(base, 'bucket')}\n`);
  bkt = new FilesystemBucket({ directory: join(base, 'bucket') });
  cfg = ['--objstore.config-file', config];
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('tools bucket mark, inspect, retention, cleanup, verify', () => {
  test('mark adds and removes markers; inspect shows them', async () => {
    const id = await put({ c: 'mark' }, 0, 2 * H);
    const r = await cli(['mark', ...cfg, '--id', id, '--marker', NO_COMPACT_MARK_FILENAME, '--details', 'looks odd']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/marked/);
    const m = await readNoCompactMark(bkt, id);
    expect([m?.reason, m?.details]).toEqual(['manual', 'looks odd']);
    expect((await cli(['mark', ...cfg, '--id', id, '--marker', NO_COMPACT_MARK_FILENAME])).out).toMatch(/already exists/);
    const ins = await cli(['inspect', ...cfg, '-l', 'c=mark']);
    expect(ins.out.split('\n')[0]).toMatch(/\|\s+MARKS\s+\|$/);
    expect(ins.out).toMatch(/no-compact\(manual\)/);
    expect((await cli(['mark', ...cfg, '--id', id, '--marker', NO_COMPACT_MARK_FILENAME, '--remove'])).code).toBe(0);
    expect(await bkt.exists(`${id}/${NO_COMPACT_MARK_FILENAME}`)).toBe(false);
    const bad = await cli(['mark', ...cfg, '--id', id, '--marker', 'what.json']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--marker/);
    const missing = await cli(['mark', ...cfg, '--id', gen.next(), '--marker', DELETION_MARK_FILENAME]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/not found/);
    await cli(['mark', ...cfg, '--id', id, '--marker', DELETION_MARK_FILENAME]);
  });

  test('retention marks exactly the blocks past it, cleanup deletes them', async () => {
    const now = Date.now();
    const old = await put({ c: 'ret' }, now - 30 * H, now - 28 * H);
    const young = await put({ c: 'ret' }, now - 20 * H, now - 18 * H);
    const r = await cli(['retention', ...cfg, '--retention.resolution-raw=1d', '--consistency-delay=0s']);
    expect(r.code, r.err).toBe(0);
    expect(await bkt.exists(`${old}/${DELETION_MARK_FILENAME}`)).toBe(true);
    expect(await bkt.exists(`${young}/${DELETION_MARK_FILENAME}`)).toBe(false);
    const c = await cli(['cleanup', ...cfg, '--delete-delay=0s', '--consistency-delay=0s']);
    expect(c.code, c.err).toBe(0);
    expect(await bkt.exists(`${old}/${META_FILENAME}`)).toBe(false);
    expect(await bkt.exists(`${young}/${META_FILENAME}`)).toBe(true);
  });

  test('cleanup refuses to run while a compactor holds the lease', async () => {
    const lease = new BucketLease({ bucket: bkt, owner: 'compactor-1', ttlMs: 60_000, settleMs: 0 });
    await lease.acquire({ wait: false });
    try {
      const r = await cli(['cleanup', ...cfg]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/leased by compactor "compactor-1"/);
    } finally {
      await lease.release();
    }
  });

  test('downsample writes a 5m copy of a 48h raw block, once', async () => {
    const id = await put({ c: 'ds' }, 0, 48 * H);
    const r = await cli(['downsample', ...cfg, '--consistency-delay=0s']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/downsampled 1 blocks/);
    const again = await cli(['downsample', ...cfg, '--consistency-delay=0s']);
    expect(again.out).toMatch(/downsampled 0 blocks/);
    expect(await bkt.exists(`${id}/${META_FILENAME}`)).toBe(true);
  });

  test('verify --repair rewrites a block with out-of-order chunks and marks the original', async () => {
    const b = await writeOutOfOrderBlock(await mkdtemp(join(base, 'ooo-')), { ulid: gen.next(Date.now() - 10 * H) });
    await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: { c: 'ooo' }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
    const id = (await uploadBlock(bkt, b.dir)).ulid;
    const found = await cli(['verify', ...cfg, '--id', id]);
    expect(found.code).toBe(1);
    expect(found.out).toMatch(/out-of-order-chunks: 1/);
    const fixed = await cli(['verify', ...cfg, '--id', id, '--repair']);
    expect(fixed.out, fixed.err).toMatch(new RegExp(`repaired ${id} into ([0-9A-Z]{26})`));
    expect(fixed.code).toBe(0);
    const into = /into ([0-9A-Z]{26})/.exec(fixed.out)![1]!;
    expect(await bkt.exists(`${id}/${DELETION_MARK_FILENAME}`)).toBe(true);
    expect((await cli(['verify', ...cfg, '--id', into])).out).toMatch(/no issues found/);
  });

  test('verify finds overlaps and corrupt indexes, and passes clean blocks', async () => {
    const a = await put({ c: 'v' }, 100 * H, 102 * H);
    const ok = await cli(['verify', ...cfg, '--id', a]);
    expect(ok.out).toMatch(/no issues found/);
    expect(ok.code).toBe(0);
    const b = await put({ c: 'v' }, 101 * H, 103 * H);
    const ov = await cli(['verify', ...cfg, '--id', a, '--id', b, '--index.skip']);
    expect(ov.code).toBe(1);
    expect(ov.out).toContain(`overlap: ${a}`);
    // Thanos's --issues: the same with -i overlapped_blocks; index_known_issues alone does not look for overlaps.
    const ovIssues = await cli(['verify', ...cfg, '--id', a, '--id', b, '-i', 'overlapped_blocks']);
    expect(ovIssues.code).toBe(1);
    expect(ovIssues.out).toContain(`overlap: ${a}`);
    const indexOnly = await cli(['verify', ...cfg, '--id', a, '--id', b, '--issues=index_known_issues']);
    expect(indexOnly.out).toMatch(/no issues found/);
    expect(indexOnly.code).toBe(0);
    const dup = await cli(['verify', ...cfg, '--issues=duplicated_compaction']);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/--issues: duplicated_compaction is not supported/);
    await bkt.upload(`${b}/index`, new Uint8Array(64));
    const bad = await cli(['verify', ...cfg, '--id', b]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(new RegExp(`block ${b}: corrupt`));
    expect((await cli(['verify', ...cfg, '--id', b, '-i', 'overlapped_blocks'])).code).toBe(0);
  });
});
