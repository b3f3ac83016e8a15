import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCommand } from './command.js';
import { compactCommand } from './compact.js';
import { runCaptured } from './run-captured.js';
import { THANOS_GLOBAL_DEFAULTS, testThanosDefaults, type ThanosDefaults } from './thanos-defaults.js';
import { toolsBucketCommand } from './tools-bucket.js';
import { DELETION_MARK_FILENAME, uploadBlock } from '../pkg/block/index.js';
import { BucketLease } from '../pkg/compactor/index.js';
import { Labels } from '../pkg/labels/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import { freePort, startProcess, waitFor, waitForHttp } from '../pkg/testutil/index.js';
import { BlockWriter, META_FILENAME, UlidGenerator, parseBlockMeta, writeBlockMeta } from '../pkg/tsdb/index.js';

const H = 3_600_000;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const sink = { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream;
  const code = await runCommand(compactCommand, argv, { stdout: sink, stderr: sink });
  return { code, err };
}

let base: string;
let bucketDir: string;
let config: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tessera-compact-cmd-'));
  bucketDir = join(base, 'bucket');
  config = join(base, 'bucket.yml');
  await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Uploads five 2h blocks [0,10h) of two series, old enough to pass the consistency delay. */
async function seed(bkt: FilesystemBucket, ext: Record<string, string>): Promise<string[]> {
  const gen = new UlidGenerator();
  const ids: string[] = [];
  for (let h = 0; h < 10; h += 2) {
    const dir = await mkdtemp(join(base, 'src-'));
    const w = await BlockWriter.create(dir, { ulid: gen.next(Date.now() - 10 * H), minTime: h * H, maxTime: (h + 2) * H });
    for (const i of ['0', '1']) {
      const ts = Array.from({ length: 8 }, (_, k) => h * H + k * 15 * 60_000);
      await w.addSeries(Labels.fromRecord({ __name__: 'up', i }), ts, ts.map((t) => t / 1000));
    }
    const b = await w.flush();
    await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: ext, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
    ids.push((await uploadBlock(bkt, b.dir, { now: () => Date.now() - 5 * H })).ulid);
  }
  return ids;
}

describe('tessera compact flags', () => {
  test.each([
    [['--deduplication.func=foo'], /--deduplication.func: unsupported/],
    [['--deduplication.func=penalty'], /needs at least one --deduplication.replica-label/],
    [['--retention.resolution-raw=1d'], /--retention.resolution-raw: raw resolution must be higher .*40 hours/],
    [['--retention.resolution-5m=2d'], /--retention.resolution-5m: 5m resolution retention/],
    [['--retention.resolution-1h=7d'], /--retention.resolution-1h: 1h resolution retention .*14 days/],
    [['--delete-delay=soon'], /--delete-delay: invalid duration "soon"/],
    [['--http-grace-period=later'], /--http-grace-period: invalid duration "later"/],
    [['--compact.concurrency=0'], /--compact.concurrency: "0" is not a positive integer/],
    [['--debug.max-compaction-level=9'], /--debug.max-compaction-level/],
    [['--log.level=loud'], /--log.level/],
    [['--hash-func=MD5'], /--hash-func/],
    [['--block-discovery-strategy=guess'], /--block-discovery-strategy/],
    [['--min-time=yesterday'], /--min-time/],
    [['--no-such-flag'], /no-such-flag/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    const r = await cli(['--objstore.config-file', config, ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  // Thanos's `thanos compact` flags with their defaults (docs/components/compact.md of Thanos);
  // undefined: no default (a path, YAML, or a repeated flag).
  const THANOS_DEFAULTS: ThanosDefaults = [
    ['objstore.config-file', undefined], ['objstore.config', undefined], ['data-dir', './data'],
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''],
    ['consistency-delay', '30m'], ['retention.resolution-raw', '0d'], ['retention.resolution-5m', '0d'], ['retention.resolution-1h', '0d'],
    ['wait', false], ['wait-interval', '5m'], ['downsampling.disable', false],
    ['block-discovery-strategy', 'concurrent'], ['block-meta-fetch-concurrency', '32'], ['block-files-concurrency', '1'],
    ['block-viewer.global.sync-block-interval', '1m'], ['block-viewer.global.sync-block-timeout', '5m'],
    ['compact.cleanup-interval', '5m'], ['compact.progress-interval', '5m'], ['compact.concurrency', '1'], ['compact.blocks-fetch-concurrency', '1'],
    ['downsample.concurrency', '1'], ['delete-delay', '48h'], ['deduplication.func', ''], ['deduplication.replica-label', undefined], ['hash-func', ''],
    ['selector.relabel-config-file', undefined], ['selector.relabel-config', undefined],
    ['web.route-prefix', ''], ['web.external-prefix', ''], ['web.prefix-header', ''], ['web.disable', false], ['web.disable-cors', false],
    ['bucket-web-label', ''], ['disable-admin-operations', false],
  ];

  testThanosDefaults(compactCommand, THANOS_DEFAULTS);

  test("a pass with every Thanos default given explicitly (Thanos's --min-time/--max-time spelling too) exits 0", async () => {
    const argv = [...THANOS_DEFAULTS, ...THANOS_GLOBAL_DEFAULTS].filter(([n, d]) => d !== undefined && d !== '' && n !== 'data-dir').map(([n, d]) => (typeof d === 'boolean' ? `--${d ? '' : 'no-'}${n}` : `--${n}=${d}`));
    const r = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'd-defaults'), '--min-time=0000-01-01T00:00:00Z', '--max-time=9999-12-31T23:59:59Z', ...argv.filter((a) => !a.startsWith('--no-'))]);
    expect(r.code, r.err).toBe(0);
  });

  test('raw retention below 40h is fine with downsampling disabled', async () => {
    const r = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'd0'), '--retention.resolution-raw=1d', '--downsampling.disable']);
    expect(r.err).not.toMatch(/retention/);
    expect(r.code).toBe(0);
  });

  test('a missing or bad relabel config file and a missing --http.config exit 1 naming flag and file', async () => {
    const missing = join(base, 'no-relabel.yml');
    const r1 = await cli(['--objstore.config-file', config, '--selector.relabel-config-file', missing]);
    expect(r1.code).toBe(1);
    expect(r1.err).toContain('selector.relabel-config-file');
    expect(r1.err).toContain(missing);
    const bad = join(base, 'bad-relabel.yml');
    await writeFile(bad, '- action: explode\n  source_labels: [a]\n');
    const r2 = await cli(['--objstore.config-file', config, '--selector.relabel-config-file', bad]);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain(bad);
    expect(r2.err).toMatch(/explode/);
    const web = join(base, 'no-web.yml');
    const r3 = await cli(['--objstore.config-file', config, '--http.config', web]);
    expect(r3.code).toBe(1);
    expect(r3.err).toContain(web);
  });

  test('a missing or bad objstore config exits 1 naming the file', async () => {
    const missing = await cli(['--objstore.config-file', join(base, 'nope.yml')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(join(base, 'nope.yml'));
    const bad = join(base, 'bad.yml');
    await writeFile(bad, 'type: FILESYSTEM\nconfig: {}\n');
    const r = await cli(['--objstore.config-file', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(bad);
    expect(r.err).toMatch(/directory/);
    const none = await cli([]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/one of --objstore.config-file or --objstore.config is required/);
  });
});

describe('tessera compact', () => {
  test('one pass compacts, marks the inputs and exits 0; a held lease makes a second compactor exit 1', async () => {
    const bkt = new FilesystemBucket({ directory: bucketDir });
    const ids = await seed(bkt, { cluster: 'one' });
    const r = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'd1')]);
    expect(r.err).toMatch(/compacted and uploaded block/);
    expect(r.code).toBe(0);
    for (const id of ids.slice(0, 4)) expect(await bkt.exists(`${id}/${DELETION_MARK_FILENAME}`)).toBe(true);
    let compacted = 0;
    for await (const d of bkt.iter('')) {
      const id = d.replace(/\/$/, '');
      if (ids.includes(id) || !(await bkt.exists(`${id}/${META_FILENAME}`))) continue;
      const m = parseBlockMeta(new TextDecoder().decode(await bkt.get(`${id}/${META_FILENAME}`)));
      expect([m.minTime, m.maxTime, m.compaction.level, m.stats.numSamples, m.thanos?.source]).toEqual([0, 8 * H, 2, 2 * 8 * 4, 'compactor']);
      compacted++;
    }
    expect(compacted).toBe(1);

    const other = new BucketLease({ bucket: bkt, owner: 'elsewhere:/data', ttlMs: 60_000, settleMs: 0 });
    await other.acquire({ wait: false });
    try {
      const second = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'd2')]);
      expect(second.code).toBe(1);
      expect(second.err).toMatch(/leased by compactor \\?"elsewhere:\/data\\?".*another tessera compact is running/);
    } finally {
      await other.release();
    }
  });

  test('a corrupt block is quarantined, logged and shown by tools bucket inspect; the other group compacts and the pass exits 0', async () => {
    const dir = join(base, 'bucket-quarantine');
    const cfg = join(base, 'bucket-quarantine.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
    const bkt = new FilesystemBucket({ directory: dir });
    const bad = await seed(bkt, { cluster: 'bad' });
    const good = await seed(bkt, { cluster: 'good' });
    await bkt.upload(`${bad[1]!}/index`, new Uint8Array([1, 2, 3]));
    const r = await cli(['--objstore.config-file', cfg, '--data-dir', join(base, 'dq')]);
    expect(r.code, r.err).toBe(0);
    const line = r.err.split('\n').find((l) => l.includes('quarantining faulty blocks'));
    expect(line, r.err).toBeDefined();
    expect(line).toContain(`blocks=${bad[1]!}`);
    expect(line).toContain('reason=block-corrupt');
    expect(r.err).toMatch(/msg="compaction pass done".* quarantined=1/);
    for (const id of good.slice(0, 4)) expect(await bkt.exists(`${id}/${DELETION_MARK_FILENAME}`)).toBe(true);
    const ins = await runCaptured(toolsBucketCommand, ['inspect', '--objstore.config-file', cfg, '-l', 'cluster=bad']);
    expect(ins.code, ins.err).toBe(0);
    const row = ins.out.split('\n').find((l) => l.includes(bad[1]!));
    expect(row, ins.out).toMatch(/no-compact\(block-corrupt\)/);
    expect(ins.out.split('\n').filter((l) => l.includes('no-compact('))).toHaveLength(1);
  });

  test('an aborted upload is deleted once older than both --consistency-delay and 48h', async () => {
    const dir = join(base, 'bucket-partial');
    const cfg = join(base, 'bucket-partial.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
    const bkt = new FilesystemBucket({ directory: dir });
    const id = new UlidGenerator().next(Date.now() - 60 * H);
    await bkt.upload(`${id}/chunks/000001`, new Uint8Array(16));
    const old = new Date(Date.now() - 60 * H);
    await utimes(join(dir, id, 'chunks', '000001'), old, old);
    // 60h old but the consistency delay is 72h: it may still be uploading.
    const kept = await cli(['--objstore.config-file', cfg, '--data-dir', join(base, 'dp1'), '--consistency-delay=72h']);
    expect(kept.code).toBe(0);
    expect(await bkt.exists(`${id}/chunks/000001`)).toBe(true);
    // Default 30m: older than max(30m, 48h), so it is an aborted upload.
    const cleaned = await cli(['--objstore.config-file', cfg, '--data-dir', join(base, 'dp2')]);
    expect(cleaned.code).toBe(0);
    expect(await bkt.exists(`${id}/chunks/000001`)).toBe(false);
  });

  test('--wait runs a pass every --wait-interval: blocks uploaded after the first pass are compacted by a later one', async () => {
    const dir = join(base, 'bucket-loop');
    const cfg = join(base, 'bucket-loop.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
    const bkt = new FilesystemBucket({ directory: dir });
    await seed(bkt, { cluster: 'loop' });
    const port = await freePort();
    const p = startProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), 'compact', '--wait', '--wait-interval=1s', '--consistency-delay=0s', `--objstore.config-file=${cfg}`, `--data-dir=${join(base, 'd-loop')}`, `--http-address=127.0.0.1:${port}`], { cwd: repoRoot });
    const count = (re: RegExp) => (p.output().match(re) ?? []).length;
    try {
      await waitFor('the first pass', async () => count(/msg="?compaction pass done/g) >= 1 || undefined, 60_000);
      expect(count(/compacted and uploaded block/g)).toBe(1);
      // Four more 2h blocks [10h, 18h): [8h, 16h) is complete once [16h, 18h) exists.
      const gen = new UlidGenerator();
      for (let h = 10; h < 18; h += 2) {
        const src = await mkdtemp(join(base, 'loop-src-'));
        const w = await BlockWriter.create(src, { ulid: gen.next(Date.now() - 10 * H), minTime: h * H, maxTime: (h + 2) * H });
        await w.addSeries(Labels.fromRecord({ __name__: 'up', i: '0' }), [h * H], [1]);
        const b = await w.flush();
        await writeBlockMeta(b.dir, { ...b.meta, thanos: { labels: { cluster: 'loop' }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
        await uploadBlock(bkt, b.dir, { now: () => Date.now() - 5 * H });
      }
      await waitFor('a later pass to compact the new blocks', async () => count(/compacted and uploaded block/g) >= 2 || undefined, 60_000);
      await waitFor('that pass to end', async () => count(/msg="?compaction pass done/g) >= 2 || undefined, 60_000);
    } finally {
      await p.stop();
    }
    expect(p.proc.exitCode).toBe(0);
  }, 150_000);

  test('two tessera compact processes on one bucket: a second one-pass run exits 1 naming the first, a second --wait run waits unready until the first stops', async () => {
    const dir = join(base, 'bucket-lease');
    const cfg = join(base, 'bucket-lease.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
    await seed(new FilesystemBucket({ directory: dir }), { cluster: 'lease' });
    const start = (name: string, port: number) =>
      startProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), 'compact', '--wait', '--wait-interval=1h', '--compact.lease-duration=4s', `--objstore.config-file=${cfg}`, `--data-dir=${join(base, name)}`, `--http-address=127.0.0.1:${port}`], { cwd: repoRoot });
    const [pa, pb] = [await freePort(), await freePort()];
    const a = start('lease-a', pa);
    let b: ReturnType<typeof start> | undefined;
    try {
      await waitForHttp(`http://127.0.0.1:${pa}/-/ready`, 60_000);
      // A compacted under its lease.
      await waitFor('the first compactor to finish a pass', async () => /msg="?compaction pass done/.test(a.output()) || undefined, 60_000);
      expect(a.output()).toMatch(/compacted and uploaded block/);
      const once = await cli(['--objstore.config-file', cfg, '--data-dir', join(base, 'lease-once')]);
      expect(once.code).toBe(1);
      expect(once.err).toContain(`leased by compactor \\"${hostname()}:${join(base, 'lease-a')}\\"`);
      expect(once.err).toMatch(/another tessera compact is running on this bucket/);
      expect(once.err).not.toMatch(/compacted and uploaded block/);
      b = start('lease-b', pb);
      await waitFor('the second compactor to wait for the lease', async () => /another tessera compact is running on this bucket; waiting/.test(b!.output()) || undefined, 60_000);
      expect((await fetch(`http://127.0.0.1:${pb}/-/ready`)).status).toBe(503);
      expect(b.output()).not.toMatch(/compaction pass done/);
      await a.stop();
      expect(a.proc.exitCode).toBe(0);
      // A released the lease on SIGTERM: B takes it within a poll (lease-duration / 4) and runs.
      await waitForHttp(`http://127.0.0.1:${pb}/-/ready`, 30_000);
      await waitFor('the second compactor to finish a pass', async () => /msg="?compaction pass done/.test(b!.output()) || undefined, 60_000);
      expect(b.output()).toMatch(/acquired compactor lease/);
      // Nothing left to do after A's pass.
      expect(b.output()).not.toMatch(/compacted and uploaded block/);
    } finally {
      await a.stop();
      await b?.stop();
    }
    expect(b?.proc.exitCode).toBe(0);
  }, 180_000);

  test('--wait serves /-/ready, /metrics, /api/v1/blocks and the bucket UI, and stops on SIGTERM', async () => {
    const port = await freePort();
    const p = startProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), 'compact', '--wait', '--wait-interval=1h', `--objstore.config-file=${config}`, `--data-dir=${join(base, 'd3')}`, `--http-address=127.0.0.1:${port}`], { cwd: repoRoot });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 60_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/thanos_compact_halted 0/);
      expect(metrics).toMatch(/thanos_blocks_meta_syncs_total/);
      // The block viewer: /api/v1/blocks lists the bucket's blocks (seeded by the tests above).
      const blocks = async () => ((await (await fetch(`http://127.0.0.1:${port}/api/v1/blocks`)).json()) as { data: { blocks: { ulid: string; thanos: { labels: Record<string, string> } }[]; refreshedAt: string } }).data;
      await expect.poll(async () => (await blocks()).refreshedAt, { timeout: 30_000 }).not.toMatch(/^0001-/);
      const data = await blocks();
      expect(data.blocks.length).toBeGreaterThan(0);
      for (const b of data.blocks) expect(b.thanos.labels['cluster']).toBe('one');
      expect(await (await fetch(`http://127.0.0.1:${port}/blocks`)).text()).toContain('content="bucket"');
    } finally {
      await p.stop();
    }
    expect(p.proc.exitCode).toBe(0);
    expect(p.output()).toMatch(/shutting down/);
  }, 90_000);
});
