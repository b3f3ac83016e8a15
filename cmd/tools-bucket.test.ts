import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCaptured, type CapturedRun } from './run-captured.js';
import { testThanosDefaults, type ThanosDefaults } from './thanos-defaults.js';
import { parseLabelFlags, toolsBucketCommand, uploadBlock } from './tools-bucket.js';
import { FilesystemBucket, InMemoryBucket, type UploadOptions } from '../pkg/objstore/index.js';
import { requireBinary } from '../pkg/testutil/index.js';
import { formatGoDuration } from '../pkg/cache/index.js';

const run = promisify(execFile);
const promtool = requireBinary('promtool');

const cli = (argv: string[]): Promise<CapturedRun> => runCaptured(toolsBucketCommand, argv);

describe.skipIf(promtool === undefined)('tessera tools bucket on promtool-made blocks', () => {
  let base: string;
  let blocksDir: string;
  let bucketDir: string;
  let ulids: string[];
  let objstore: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tessera-tools-bucket-'));
    blocksDir = join(base, 'blocks');
    bucketDir = join(base, 'bucket');
    // 5 hours of samples for 3 series: promtool cuts several 2h-aligned blocks.
    let om = '# HELP req_total Requests.\n# TYPE req_total counter\n';
    const t0 = 1_700_000_000;
    for (const code of ['200', '404', '500']) {
      for (let t = 0; t < 5 * 3600; t += 60) om += `req_total{code="${code}"} ${t / 60} ${t0 + t}\n`;
    }
    om += '# EOF\n';
    await writeFile(join(base, 'input.om'), om);
    await run(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', join(base, 'input.om'), blocksDir]);
    ulids = (await readdir(blocksDir)).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
    objstore = `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`;
  });
  afterAll(async () => {
    if (base !== undefined) await rm(base, { recursive: true, force: true });
  });

  test('upload puts chunks, index and a Thanos meta.json for every block; local meta.json untouched', async () => {
    expect(ulids.length).toBeGreaterThanOrEqual(2);
    const localMetas = await Promise.all(ulids.map((u) => readFile(join(blocksDir, u, 'meta.json'), 'utf8')));
    const r = await cli(['upload', '--objstore.config', objstore, '--label', 'cluster=eu1', '--label', 'replica="a"', blocksDir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`uploaded ${ulids.length} of ${ulids.length} blocks`);
    const bkt = new FilesystemBucket({ directory: bucketDir });
    for (const [i, u] of ulids.entries()) {
      expect(await readFile(join(blocksDir, u, 'meta.json'), 'utf8')).toBe(localMetas[i]);
      const local = JSON.parse(localMetas[i]!) as { stats: Record<string, number>; minTime: number };
      const meta = JSON.parse(new TextDecoder().decode(await bkt.get(`${u}/meta.json`))) as {
        minTime: number;
        stats: Record<string, number>;
        thanos: { labels: Record<string, string>; source: string; downsample: { resolution: number }; files: { rel_path: string; size_bytes?: number }[]; upload_time: string; segment_files: string[] };
      };
      expect(meta.minTime).toBe(local.minTime);
      expect(meta.stats).toEqual(local.stats);
      expect(meta.thanos.labels).toEqual({ cluster: 'eu1', replica: 'a' });
      expect(meta.thanos.source).toBe('bucket.upload');
      expect(meta.thanos.downsample).toEqual({ resolution: 0 });
      expect(Number.isNaN(Date.parse(meta.thanos.upload_time))).toBe(false);
      const chunkFiles = (await readdir(join(blocksDir, u, 'chunks'))).sort();
      expect(meta.thanos.segment_files).toEqual(chunkFiles);
      const want = [...chunkFiles.map((c) => `chunks/${c}`), 'index', 'meta.json'].sort();
      expect(meta.thanos.files.map((f) => f.rel_path)).toEqual(want);
      for (const f of meta.thanos.files) {
        if (f.rel_path === 'meta.json') {
          expect(f.size_bytes).toBeUndefined();
          continue;
        }
        expect(f.size_bytes).toBe((await stat(join(blocksDir, u, f.rel_path))).size);
        expect((await bkt.attributes(`${u}/${f.rel_path}`)).size).toBe(f.size_bytes);
      }
    }
    const listed: string[] = [];
    for await (const n of bkt.iter('', { recursive: true })) listed.push(n);
    expect(listed.some((n) => n.endsWith('tombstones'))).toBe(false);

    const again = await cli(['upload', '--objstore.config', objstore, '--label', 'cluster=eu1', blocksDir]);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`uploaded 0 of ${ulids.length} blocks`);
    expect(again.out).toContain('already in bucket, skipped');
  });

  test('promtool reads the uploaded FILESYSTEM bucket as a TSDB with the same blocks', async () => {
    const { stdout } = await run(promtool!, ['tsdb', 'list', bucketDir]);
    for (const u of ulids) expect(stdout).toContain(u);
    const { stdout: src } = await run(promtool!, ['tsdb', 'list', blocksDir]);
    const rows = (s: string) =>
      s
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s{2,}|\t+/).slice(0, 7).join(' '))
        .sort();
    expect(rows(stdout)).toEqual(rows(src));
  });

  test('ls lists block ULIDs; -o wide adds time range and labels', async () => {
    const r = await cli(['ls', '--objstore.config', objstore]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual(ulids);
    const w = await cli(['ls', '-o', 'wide', '--objstore.config', objstore]);
    const lines = w.out.trim().split('\n');
    expect(lines).toHaveLength(ulids.length);
    for (const [i, u] of ulids.entries()) {
      const meta = JSON.parse(await readFile(join(blocksDir, u, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number };
      const from = new Date(meta.minTime).toISOString().slice(0, 16).replace('T', ' ');
      expect(lines[i]).toContain(`${u} -- ${from} - `);
      expect(lines[i]).toContain('Labels: {cluster=eu1,replica=a}');
      expect(lines[i]).toContain('Source: bucket.upload');
    }
  });

  test('inspect prints one table row per block with stats from meta.json', async () => {
    const r = await cli(['inspect', '--objstore.config', objstore, '-l', 'cluster=eu1']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\|\s+ULID\s+\|\s+FROM\s+\|/);
    expect(lines[1]).toMatch(/^\|-+\|/);
    expect(lines).toHaveLength(2 + ulids.length);
    for (const [i, u] of ulids.entries()) {
      const meta = JSON.parse(await readFile(join(blocksDir, u, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number; stats: { numSamples: number; numSeries: number } };
      const cells = lines[2 + i]!.split('|').map((c) => c.trim());
      expect(cells[1]).toBe(u); // sorted by FROM = ULID order here
      expect(cells[4]).toBe(formatGoDuration(meta.maxTime - meta.minTime));
      expect(cells[6]).toBe(meta.stats.numSeries.toLocaleString('en-US'));
      expect(cells[7]).toBe(meta.stats.numSamples.toLocaleString('en-US'));
      expect(cells[11]).toBe('cluster=eu1,replica=a');
      expect(cells[12]).toBe('0s');
      expect(cells[13]).toBe('bucket.upload');
    }
    const none = await cli(['inspect', '--objstore.config', objstore, '-l', 'cluster=us1']);
    expect(none.out.trimEnd().split('\n')).toHaveLength(2);
  });

  test('uploadBlock writes chunks, then index, then meta.json last', async () => {
    const order: string[] = [];
    class Recording extends InMemoryBucket {
      override async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void> {
        await super.upload(name, data, opts);
        order.push(name);
      }
    }
    const bkt = new Recording();
    const u = ulids[0]!;
    expect(await uploadBlock(bkt, join(blocksDir, u), { labels: { a: 'b' }, now: () => new Date(1_700_000_000_123) })).toBe('uploaded');
    expect(order[order.length - 1]).toBe(`${u}/meta.json`);
    expect(order[order.length - 2]).toBe(`${u}/index`);
    expect(order.slice(0, -2).every((n) => n.startsWith(`${u}/chunks/`))).toBe(true);
    const meta = JSON.parse(new TextDecoder().decode(await bkt.get(`${u}/meta.json`))) as { thanos: { upload_time: string } };
    expect(meta.thanos.upload_time).toBe('2023-11-14T22:13:20.123Z');
  });

  test('errors: no labels, bad config, both config flags', async () => {
    const noLabels = await cli(['upload', '--objstore.config', objstore, blocksDir]);
    expect(noLabels.code).toBe(2);
    expect(noLabels.err).toMatch(/external labels/);
    const badCfg = await cli(['ls', '--objstore.config', 'type: FILESYSTEM\nconfig: {}\n']);
    expect(badCfg.code).toBe(1);
    expect(badCfg.err).toMatch(/missing directory for filesystem bucket/);
    const both = await cli(['ls', '--objstore.config', objstore, '--objstore.config-file', '/x.yml']);
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/both/);
  });
});

test('parseLabelFlags accepts quoted and bare values and rejects bad names', () => {
  expect(parseLabelFlags(['a=b', 'c="d e"', 'f="x\\"y"'])).toEqual({ a: 'b', c: 'd e', f: 'x"y' });
  expect(() => parseLabelFlags(['1a=b'])).toThrow(/label name/);
  expect(() => parseLabelFlags(['novalue'])).toThrow(/name=value/);
});

test('ls errors name the command (as usage errors do), not `error:`', async () => {
  const r = await cli(['ls', '--objstore.config', 'type: FILESYSTEM\nconfig: {}\n']);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^bucket ls: \S/);
  expect(r.err).not.toMatch(/^error:/m);
});

describe('tessera tools bucket flags', () => {
  // `thanos tools bucket <sub> --help` of Thanos v0.42; left out on purpose: --min-time/--max-time
  // ('' here: no bound, as Thanos's 0000-01-01T00:00:00Z/9999-12-31T23:59:59Z, which are accepted too).
  const THANOS: [string, ThanosDefaults][] = [
  ['ls', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['selector.relabel-config-file', undefined],
      ['selector.relabel-config', undefined], ['output', ''], ['exclude-delete', false], ['timeout', '5m'],
    ]],
  ['inspect', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['selector', undefined], ['sort-by', undefined], ['timeout', '5m'],
      ['output', 'table'],
    ]],
  ['web', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'],
      ['http.config', ''], ['web.route-prefix', ''], ['web.external-prefix', ''], ['web.prefix-header', ''], ['web.disable-cors', false],
      ['refresh', '30m'], ['timeout', '5m'], ['label', undefined], ['disable-admin-operations', false], ['selector.relabel-config-file', undefined],
      ['selector.relabel-config', undefined],
    ]],
  ['mark', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['id', undefined], ['marker', undefined], ['details', undefined],
      ['remove', false],
    ]],
  ['cleanup', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['delete-delay', '48h'], ['consistency-delay', '30m'],
      ['block-sync-concurrency', '20'], ['selector.relabel-config-file', undefined], ['selector.relabel-config', undefined],
    ]],
  ['retention', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['delete-delay', '48h'], ['consistency-delay', '30m'],
      ['block-sync-concurrency', '20'], ['selector.relabel-config-file', undefined], ['selector.relabel-config', undefined],
      ['retention.resolution-raw', '0d'], ['retention.resolution-5m', '0d'], ['retention.resolution-1h', '0d'],
    ]],
  ['verify', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['repair', false], ['issues', 'index_known_issues,overlapped_blocks'], ['id', undefined],
    ]],
  ['downsample', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['downsample.concurrency', '1'],
    ]],
  ['upload-blocks', [
      ['objstore.config-file', undefined], ['objstore.config', undefined], ['path', './data'], ['shipper.upload-compacted', false],
      ['shipper.upload-concurrency', '5'],
    ]],
  ];
  for (const [sub, defaults] of THANOS) {
    const cmd = toolsBucketCommand.subcommands?.find((c) => c.name === sub);
    test(`tools bucket ${sub} exists`, () => expect(cmd).toBeDefined());
    if (cmd !== undefined) describe(sub, () => testThanosDefaults(cmd, defaults));
  }
});

/** writeFakeBlock writes a block directory with a meta.json (labels, level) and random chunk and index files. */
async function writeFakeBlock(dir: string, ulid: string, minTime: number, level = 1): Promise<void> {
  await mkdir(join(dir, ulid, 'chunks'), { recursive: true });
  await writeFile(join(dir, ulid, 'chunks', '000001'), randomBytes(500));
  await writeFile(join(dir, ulid, 'index'), randomBytes(300));
  const meta = { ulid, minTime, maxTime: minTime + 7_200_000, stats: { numSamples: 10, numSeries: 2, numChunks: 2 }, compaction: { level, sources: [ulid] }, version: 1 };
  await writeFile(join(dir, ulid, 'meta.json'), JSON.stringify(meta));
}

describe('tools bucket ls, inspect and upload-blocks with Thanos flags', () => {
  const H = 3_600_000;
  const [A, B, C] = ['01HZZZZZZZZZZZZZZZZZZZZZZA', '01HZZZZZZZZZZZZZZZZZZZZZZB', '01HZZZZZZZZZZZZZZZZZZZZZZC'];
  let base: string;
  let objstore: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tessera-tools-bucket-flags-'));
    objstore = `type: FILESYSTEM\nconfig:\n  directory: ${join(base, 'bucket')}\n`;
    const bkt = new FilesystemBucket({ directory: join(base, 'bucket') });
    // A: [0, 2h) cluster a; B: [10h, 12h) cluster b; C: [20h, 22h) cluster a, marked for deletion.
    for (const [u, t, cluster] of [[A, 0, 'a'], [B, 10 * H, 'b'], [C, 20 * H, 'a']] as const) {
      const meta = { ulid: u, minTime: t, maxTime: t + 2 * H, stats: { numSamples: 10, numSeries: 2, numChunks: 2 }, compaction: { level: 1, sources: [u] }, version: 1, thanos: { labels: { cluster }, downsample: { resolution: 0 }, source: 'sidecar' } };
      await bkt.upload(`${u}/meta.json`, new TextEncoder().encode(JSON.stringify(meta)));
    }
    await bkt.upload(`${C}/deletion-mark.json`, new TextEncoder().encode(JSON.stringify({ id: C, deletion_time: 1, version: 1 })));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test.each([
    [[], [A, B, C]],
    [['--min-time=0000-01-01T00:00:00Z', '--max-time=9999-12-31T23:59:59Z'], [A, B, C]],
    [[`--min-time=${11 * H}`], [B, C]],
    [[`--max-time=${2 * H - 1}`], [A]],
    [['--exclude-delete'], [A, B]],
    [['--selector.relabel-config=- action: keep\n  source_labels: [cluster]\n  regex: a\n'], [A, C]],
    [['--selector.relabel-config=- action: drop\n  source_labels: [__block_id]\n  regex: ' + A + '\n', '--exclude-delete'], [B]],
  ])('ls %j lists %j', async (args, want) => {
    const r = await cli(['ls', '--objstore.config', objstore, ...args]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual(want);
  });

  test('inspect --output csv and tsv print a header and one row per block; another output is a usage error', async () => {
    const csv = await cli(['inspect', '--objstore.config', objstore, '--output=csv']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ULID,FROM,UNTIL,RANGE,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([A, B, C]);
    const tsv = await cli(['inspect', '--objstore.config', objstore, '--output', 'tsv']);
    expect(tsv.out.split('\n')[0]).toMatch(/^ULID\tFROM\tUNTIL\t/);
    expect(tsv.out.trimEnd().split('\n')).toHaveLength(4);
    const bad = await cli(['inspect', '--objstore.config', objstore, '--output=yaml']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--output: "yaml"/);
  });

  test('upload-blocks ships level-1 blocks of --path once (compacted ones with --shipper.upload-compacted), as Thanos', async () => {
    const dir = join(base, 'prom');
    const [X, Y] = ['01HZZZZZZZZZZZZZZZZZZZZZZX', '01HZZZZZZZZZZZZZZZZZZZZZZY'];
    await writeFakeBlock(dir, X, 0);
    await writeFakeBlock(dir, Y, 2 * H, 2);
    const cfg = `type: FILESYSTEM\nconfig:\n  directory: ${join(base, 'up')}\n`;
    const bkt = new FilesystemBucket({ directory: join(base, 'up') });
    expect((await cli(['upload-blocks', '--objstore.config', cfg, `--path=${dir}`])).code).toBe(2); // no --label
    const r = await cli(['upload-blocks', '--objstore.config', cfg, `--path=${dir}`, '--label=cluster="eu1"']);
    expect(r.code, r.err).toBe(0);
    expect(await bkt.exists(`${X}/meta.json`)).toBe(true);
    expect(await bkt.exists(`${Y}/meta.json`)).toBe(false);
    const meta = JSON.parse(new TextDecoder().decode(await bkt.get(`${X}/meta.json`))) as { thanos: { labels: Record<string, string>; source: string } };
    expect(meta.thanos).toMatchObject({ labels: { cluster: 'eu1' }, source: 'bucket.upload' });
    expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8'))).toMatchObject({ uploaded: [X] });
    const c = await cli(['upload-blocks', '--objstore.config', cfg, `--path=${dir}`, '--label=cluster=eu1', '--shipper.upload-compacted']);
    expect(c.code, c.err).toBe(0);
    expect(await bkt.exists(`${Y}/meta.json`)).toBe(true);
    const missing = await cli(['upload-blocks', '--objstore.config', cfg, `--path=${join(base, 'nope')}`, '--label=a=b']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(join(base, 'nope'));
  });
});
