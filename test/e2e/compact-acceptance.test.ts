import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCommand } from '../../cmd/command.js';
import { compactCommand } from '../../cmd/compact.js';
import { DELETION_MARK_FILENAME, downloadBlock, uploadBlock } from '../../pkg/block/index.js';
import { ValueType } from '../../pkg/chunkenc/index.js';
import { DataSet, openMetricsText } from '../../pkg/datagen/index.js';
import { compareForDedup, DedupSeriesSet } from '../../pkg/dedup/index.js';
import { Labels, MatchType, Matcher } from '../../pkg/labels/index.js';
import { MetaFetcher } from '../../pkg/block/index.js';
import { S3Bucket, parseS3Config, type Bucket } from '../../pkg/objstore/index.js';
import { ArraySeriesSet, ListSeries, type Series } from '../../pkg/storage/index.js';
import { requireBinary, startMinio, type MinioServer } from '../../pkg/testutil/index.js';
import { BlockReader, readBlockMeta, writeBlockMeta, type BlockMeta } from '../../pkg/tsdb/index.js';

/**
 * Acceptance of `tessera compact` (issue 9): 48h of two-replica 2h blocks made by promtool from the
 * project's generator, in MinIO. Without dedup, `promtool tsdb dump` of each replica's compacted
 * blocks equals the dump of its sources; with --deduplication.replica-label (penalty), the dump of
 * the merged blocks equals what the querier's dedup returns for the same data.
 */
const promtool = requireBinary('promtool');
const minioBin = requireBinary('minio');
type Dump = Map<string, [number, number][]>;

let base: string;
let minio: MinioServer;
let bkt: Bucket;
let config: string;
const srcDirs: Record<string, string> = {};

async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const sink = { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream;
  const code = await runCommand(compactCommand, argv, { stdout: sink, stderr: sink });
  return { code, err };
}

function dump(dataDir: string): Dump {
  mkdirSync(join(dataDir, 'wal'), { recursive: true });
  const out = execFileSync(promtool!, ['tsdb', 'dump', dataDir], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const res: Dump = new Map();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const close = line.lastIndexOf('} ');
    const [v, t] = line.slice(close + 2).split(' ');
    const k = line.slice(0, close + 1);
    let arr = res.get(k);
    if (arr === undefined) res.set(k, (arr = []));
    arr.push([Number(t), Number(v)]);
  }
  return res;
}

/** Downloads the live (complete, unmarked) blocks whose labels match into a fresh data dir. */
async function liveBlocks(match: (m: BlockMeta) => boolean): Promise<{ dir: string; metas: BlockMeta[] }> {
  const dir = await mkdtemp(join(base, 'live-'));
  const res = await new MetaFetcher({ bucket: bkt }).fetch();
  const metas: BlockMeta[] = [];
  for (const m of res.metas.values()) {
    if (!match(m) || (await bkt.exists(`${m.ulid}/${DELETION_MARK_FILENAME}`))) continue;
    await downloadBlock(bkt, m.ulid, join(dir, m.ulid));
    metas.push(m);
  }
  return { dir, metas: metas.sort((a, b) => a.minTime - b.minTime) };
}

describe.skipIf(promtool === undefined || minioBin === undefined)('tessera compact acceptance: 48h of two replicas in MinIO', () => {
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tessera-compact-acc-'));
    minio = await startMinio(minioBin!);
    await minio.createBucket('acc');
    const cfg = minio.s3Config('acc');
    config = join(base, 'bucket.yml');
    await writeFile(config, `type: S3\nconfig:\n${Object.entries(cfg).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`);
    bkt = new S3Bucket(parseS3Config(cfg));
    for (const replica of ['a', 'b']) {
      const om = join(base, `${replica}.om`);
      let text = '';
      for (const piece of openMetricsText(new DataSet({ hosts: 1, hours: 48, intervalSec: 60, replica }))) text += piece;
      await writeFile(om, text);
      const dir = join(base, `src-${replica}`);
      execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, dir], { stdio: 'pipe' });
      srcDirs[replica] = dir;
      for (const id of (await readdir(dir)).filter((n) => /^[0-9A-Z]{26}$/.test(n))) {
        const m = await readBlockMeta(join(dir, id));
        const up = join(base, `up-${id}`);
        await mkdir(up);
        await cp(join(dir, id), join(up, id), { recursive: true });
        await writeBlockMeta(join(up, id), { ...m, thanos: { labels: { cluster: 'c1', replica }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
        await uploadBlock(bkt, join(up, id));
        await rm(up, { recursive: true });
      }
    }
  }, 300_000);

  afterAll(async () => {
    await bkt?.close();
    await minio?.stop();
    await rm(base, { recursive: true, force: true });
  });

  test('without dedup each replica compacts into larger blocks whose dump equals its sources', async () => {
    const before = (await new MetaFetcher({ bucket: bkt }).fetch()).metas.size;
    expect(before).toBe(48);
    const r = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'data1'), '--consistency-delay=0s', '--delete-delay=0s', '--downsampling.disable']);
    expect(r.code, r.err).toBe(0);
    for (const replica of ['a', 'b']) {
      const live = await liveBlocks((m) => m.thanos?.labels['replica'] === replica);
      // promtool's blocks end at their last sample + 1 ms, so 4 × 2h become 7h59m blocks of level 2.
      expect(live.metas.filter((m) => m.compaction.level === 2 && m.maxTime - m.minTime > 7 * 3_600_000)).toHaveLength(5);
      expect(live.metas.length).toBe(9);
      for (let i = 1; i < live.metas.length; i++) expect(live.metas[i]!.minTime).toBeGreaterThanOrEqual(live.metas[i - 1]!.maxTime);
      const got = dump(live.dir);
      const want = dump(srcDirs[replica]!);
      expect(got.size).toBe(want.size);
      for (const [k, v] of want) expect(got.get(k), k).toEqual(v);
    }
  }, 600_000);

  test('with --deduplication.replica-label the dump equals the querier dedup of the sources', async () => {
    const r = await cli(['--objstore.config-file', config, '--data-dir', join(base, 'data2'), '--consistency-delay=0s', '--delete-delay=0s', '--downsampling.disable', '--deduplication.replica-label=replica', '--deduplication.func=penalty']);
    expect(r.code, r.err).toBe(0);
    const live = await liveBlocks(() => true);
    for (const m of live.metas) expect(m.thanos?.labels).toEqual({ cluster: 'c1' });
    for (let i = 1; i < live.metas.length; i++) expect(live.metas[i]!.minTime).toBeGreaterThanOrEqual(live.metas[i - 1]!.maxTime);
    const got = dump(live.dir);

    // The querier's answer: every replica's series (with its replica label) through DedupSeriesSet.
    const rl = new Set(['replica']);
    const list: Series[] = [];
    for (const replica of ['a', 'b']) {
      const per = new Map<string, { lset: Labels; ts: number[]; vs: number[] }>();
      const ids = (await readdir(srcDirs[replica]!)).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
      for (const id of ids) {
        const br = await BlockReader.open(join(srcDirs[replica]!, id));
        const set = await (await br.querier(br.minTime, br.maxTime)).select(true, undefined, [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')]);
        while (set.next()) {
          const s = set.at();
          const k = s.labels().toString();
          let e = per.get(k);
          if (e === undefined) per.set(k, (e = { lset: s.labels(), ts: [], vs: [] }));
          const it = s.iterator();
          while (it.next() !== ValueType.None) {
            e.ts.push(it.atT());
            e.vs.push(it.atF());
          }
        }
        br.close();
      }
      for (const e of per.values()) list.push(new ListSeries(Labels.fromRecord({ ...e.lset.toRecord(), replica }), e.ts, e.vs));
    }
    const cmp = compareForDedup(rl);
    list.sort((x, y) => cmp(x.labels(), y.labels()));
    const set = new DedupSeriesSet(new ArraySeriesSet(list), rl, { counter: false });
    const want: Dump = new Map();
    while (set.next()) {
      const it = set.at().iterator();
      const pts: [number, number][] = [];
      while (it.next() !== ValueType.None) pts.push([it.atT(), it.atF()]);
      want.set(set.at().labels().toString().replace(/, /g, ', '), pts);
    }
    expect(got.size).toBe(want.size);
    let differing = 0;
    let samples = 0;
    for (const [k, v] of want) {
      const g = got.get(k);
      expect(g, k).toBeDefined();
      samples += v.length;
      if (JSON.stringify(g) !== JSON.stringify(v)) differing++;
    }
    expect(samples).toBeGreaterThan(0);
    expect(differing, `${differing} of ${want.size} series differ from the querier's dedup`).toBe(0);
  }, 600_000);
});
