import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { XorChunk, ValueType } from '../../pkg/chunkenc/index.js';
import { formatDeletionMark } from '../../pkg/block/index.js';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket, S3Bucket, parseS3Config, uploadDir, type Bucket } from '../../pkg/objstore/index.js';
import { xxhash64, type SeriesRequest, type SeriesResponse } from '../../pkg/storepb/index.js';
import { GrpcStoreClient } from '../../pkg/store/index.js';
import { formatBlockMeta, newUlid, parseBlockMeta } from '../../pkg/tsdb/index.js';
import { makePromtoolBlocks, promtoolDump, type DumpedSeries } from '../../pkg/tsdb/testutil/promtool-blocks.js';
import { freePort, requireBinary, startMinio, startProcess, waitForHttp, type ManagedProcess, type MinioServer } from '../../pkg/testutil/index.js';

/**
 * End to end: real promtool blocks in a bucket (FILESYSTEM and MinIO), a real `tessera store`
 * process, queried over gRPC. Every sample must equal `promtool tsdb dump` of the same blocks;
 * label names/values must equal what the blocks hold; broken blocks in the bucket are skipped
 * and reported without affecting the others.
 */
const promtool = requireBinary('promtool');
const minioBin = requireBinary('minio');
const repo = join(import.meta.dirname, '..', '..');
const EXT = { cluster: 'e2e', replica: 'r0' };

let work: string;
let dataDir: string;
let ulids: string[];
let dump: DumpedSeries;

/** Uploads every promtool block with a Thanos section, plus the broken blocks. Returns the corrupt block's ULID. */
async function fill(bkt: Bucket): Promise<{ corrupt: string; deleted: string }> {
  for (const id of ulids) {
    const dir = join(work, 'upload', id);
    await cp(join(dataDir, id), dir, { recursive: true });
    const meta = parseBlockMeta(await readFile(join(dir, 'meta.json'), 'utf8'));
    meta.thanos = { labels: EXT, downsample: { resolution: 0 }, source: 'test', index_stats: {} };
    await writeFile(join(dir, 'meta.json'), formatBlockMeta(meta));
    await uploadDir(bkt, dir, id);
  }
  const src = ulids[0]!;
  const meta0 = parseBlockMeta(new TextDecoder().decode(await bkt.get(`${src}/meta.json`)));
  // A block whose index is garbage (same time range as the first one, other external labels).
  const corrupt = newUlid();
  const idx = await bkt.get(`${src}/index`);
  const bad = idx.slice();
  bad.fill(0x42, bad.length - 200);
  await bkt.upload(`${corrupt}/index`, bad);
  await bkt.upload(`${corrupt}/chunks/000001`, await bkt.get(`${src}/chunks/000001`));
  await bkt.upload(`${corrupt}/meta.json`, new TextEncoder().encode(formatBlockMeta({ ...meta0, ulid: corrupt, thanos: { ...meta0.thanos!, labels: { ...EXT, replica: 'corrupt' } } })));
  // A block without meta.json (upload in progress) and one with a corrupt meta.json.
  await bkt.upload(`${newUlid()}/index`, idx);
  const badMeta = newUlid();
  await bkt.upload(`${badMeta}/index`, idx);
  await bkt.upload(`${badMeta}/meta.json`, new TextEncoder().encode('{"ulid": "nope",'));
  // A valid block with an old deletion mark: must not be served.
  const deleted = newUlid();
  for (const f of ['index', 'chunks/000001']) await bkt.upload(`${deleted}/${f}`, await bkt.get(`${src}/${f}`));
  await bkt.upload(`${deleted}/meta.json`, new TextEncoder().encode(formatBlockMeta({ ...meta0, ulid: deleted, thanos: { ...meta0.thanos!, labels: { ...EXT, replica: 'deleted' } } })));
  await bkt.upload(`${deleted}/deletion-mark.json`, new TextEncoder().encode(formatDeletionMark({ id: deleted, version: 1, deletion_time: Math.floor(Date.now() / 1000) - 3 * 86400 })));
  return { corrupt, deleted };
}

async function series(client: GrpcStoreClient, req: Partial<SeriesRequest>): Promise<{ got: Map<string, [number, number][]>; warnings: string[]; labels: Labels[] }> {
  const got = new Map<string, [number, number][]>();
  const warnings: string[] = [];
  const labels: Labels[] = [];
  const full: SeriesRequest = { minTime: -1e15, maxTime: 1e15, matchers: [{ type: 2, name: '__name__', value: '.+' }], ...req };
  for await (const batch of client.series(full)) {
    for (const f of batch as SeriesResponse[]) {
      if (f.kind === 'warning') warnings.push(f.warning);
      const ss = f.kind === 'series' ? [f.series] : f.kind === 'batch' ? f.batch : [];
      for (const s of ss) {
        labels.push(s.labels);
        const key = s.labels.without(Object.keys(EXT)).toString();
        let arr = got.get(key);
        if (arr === undefined) got.set(key, (arr = []));
        for (const c of s.chunks) {
          // Chunk.hash is filled (xxHash64 of the data), as queriers use it to drop identical chunks.
          const h = xxhash64(c.raw!.data);
          expect([c.raw!.hashHi, c.raw!.hashLo]).toEqual([h.hi, h.lo]);
          const it = XorChunk.fromBytes(c.raw!.data).iterator();
          while (it.next() !== ValueType.None) arr.push([it.atT(), it.atF()]);
          expect(it.err()).toBeNull();
        }
      }
    }
  }
  return { got, warnings, labels };
}

async function startStore(objstore: string, name: string, extra: readonly string[] = []): Promise<{ proc: ManagedProcess; client: GrpcStoreClient; http: string; stop: () => Promise<void> }> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const dir = join(work, `store-data-${name}`);
  const proc = startProcess(process.execPath, [
    join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    join(repo, 'cmd', 'tessera.ts'),
    'store',
    `--objstore.config=${objstore}`,
    `--data-dir=${dir}`,
    `--grpc-address=127.0.0.1:${grpcPort}`,
    `--http-address=127.0.0.1:${httpPort}`,
    '--sync-block-duration=1s',
    ...extra,
  ]);
  const http = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForHttp(`${http}/-/ready`, 60_000);
  } catch (err) {
    await proc.kill();
    throw new Error(`tessera store did not become ready: ${(err as Error).message}\n${proc.output()}`);
  }
  const client = new GrpcStoreClient(`127.0.0.1:${grpcPort}`);
  return {
    proc,
    client,
    http,
    stop: async () => {
      client.close();
      await proc.stop();
    },
  };
}

function sortedDump(): Map<string, [number, number][]> {
  return new Map([...dump].map(([k, v]) => [k, [...v].sort((a, b) => a[0] - b[0])]));
}

beforeAll(async () => {
  if (promtool === undefined) return;
  work = await mkdtemp(join(tmpdir(), 'tessera-e2e-store-'));
  const made = makePromtoolBlocks(promtool, work, { hosts: 2, hours: 5 });
  dataDir = made.dataDir;
  ulids = made.blocks;
  dump = promtoolDump(promtool, dataDir);
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

const backends: [string, boolean][] = [
  ['FILESYSTEM', promtool !== undefined],
  ['S3 (MinIO)', promtool !== undefined && minioBin !== undefined],
];

describe.each(backends)('tessera store over a %s bucket', (kind, enabled) => {
  let store: Awaited<ReturnType<typeof startStore>> | undefined;
  let minio: MinioServer | undefined;
  let broken: { corrupt: string; deleted: string };

  beforeAll(async () => {
    if (!enabled) return;
    let objstore: string;
    let bkt: Bucket;
    if (kind === 'FILESYSTEM') {
      const dir = join(work, 'bucket');
      bkt = new FilesystemBucket({ directory: dir });
      objstore = `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`;
    } else {
      minio = await startMinio(minioBin!);
      await minio.createBucket('blocks');
      const cfg = minio.s3Config('blocks');
      bkt = new S3Bucket(parseS3Config(cfg));
      objstore = `type: S3\nconfig:\n${Object.entries(cfg).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
    }
    broken = await fill(bkt);
    await bkt.close();
    store = await startStore(objstore, kind === 'FILESYSTEM' ? 'fs' : 's3');
  });

  afterAll(async () => {
    await store?.stop();
    await minio?.stop();
  });

  test.skipIf(!enabled)('every sample equals promtool tsdb dump; the corrupt block is reported as a warning', async () => {
    const { got, warnings, labels } = await series(store!.client, {});
    const want = sortedDump();
    expect(got.size).toBe(want.size);
    for (const [k, v] of want) expect(got.get(k), k).toEqual(v);
    for (const l of labels) expect(l.get('cluster')).toBe('e2e');
    expect(labels.some((l) => l.get('replica') === 'deleted')).toBe(false);
    expect(warnings.some((w) => w.includes(broken.corrupt))).toBe(true);
    // Sorted by labels, as queriers need.
    for (let i = 1; i < labels.length; i++) expect(Labels.compare(labels[i - 1]!, labels[i]!)).toBeLessThan(0);
  });

  test.skipIf(!enabled)('a narrow query returns the same samples as the dump for that series', async () => {
    const want = sortedDump();
    const key = [...want.keys()].find((k) => k.includes('node_memory_MemAvailable_bytes'))!;
    const lbls = /instance="([^"]+)"/.exec(key)![1]!;
    const { got } = await series(store!.client, { matchers: [{ type: 0, name: '__name__', value: 'node_memory_MemAvailable_bytes' }, { type: 0, name: 'instance', value: lbls }, { type: 0, name: 'replica', value: 'r0' }] });
    expect([...got.keys()]).toEqual([key]);
    expect(got.get(key)).toEqual(want.get(key));
  });

  test.skipIf(!enabled)('label names and values equal what the blocks hold', async () => {
    const names = new Set<string>(Object.keys(EXT));
    const values = new Map<string, Set<string>>();
    for (const k of dump.keys()) {
      for (const m of k.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        names.add(m[1]!);
        let s = values.get(m[1]!);
        if (s === undefined) values.set(m[1]!, (s = new Set()));
        s.add(JSON.parse(`"${m[2]!}"`) as string);
      }
    }
    const res = await store!.client.labelNames({ start: -1e15, end: 1e15, matchers: [{ type: 0, name: 'replica', value: 'r0' }] });
    expect([...res.names]).toEqual([...names].sort());
    for (const n of ['__name__', 'instance', 'job']) {
      const v = await store!.client.labelValues({ label: n, start: -1e15, end: 1e15, matchers: [{ type: 0, name: 'replica', value: 'r0' }] });
      expect([...v.values]).toEqual([...values.get(n)!].sort());
    }
  });

  test.skipIf(!enabled)('broken blocks are skipped and counted in /metrics; Info advertises the served label sets', async () => {
    const metrics = await (await fetch(`${store!.http}/metrics`)).text();
    expect(metrics).toMatch(/thanos_blocks_meta_synced\{state="corrupted-meta-json"\} 1/);
    expect(metrics).toMatch(/thanos_blocks_meta_synced\{state="no-meta-json"\} 1/);
    expect(metrics).toMatch(/thanos_blocks_meta_synced\{state="marked-for-deletion"\} 1/);
    expect(metrics).toMatch(/thanos_blocks_meta_synced\{state="loaded"\} \d+/);
    expect(metrics).toMatch(/thanos_bucket_store_block_load_failures_total [1-9]/);
    const info = await store!.client.info();
    const sets = info.labelSets.map((l) => l.get('replica')).sort();
    expect(sets).toEqual(['corrupt', 'r0']);
    expect(store!.proc.proc.exitCode).toBeNull();
    // How fast it gets ready is measured by `npm run bench -- store`, not asserted here.
  });

  test.skipIf(!enabled)('/api/v1/blocks lists the served blocks with their thanos section; the bucket UI page is served', async () => {
    const res = (await (await fetch(`${store!.http}/api/v1/blocks?view=loaded`)).json()) as { status: string; data: { blocks: { ulid: string; thanos: { labels: Record<string, string> } }[]; err: unknown } };
    expect(res.status).toBe('success');
    expect(res.data.err).toBeNull();
    const ids = res.data.blocks.map((b) => b.ulid);
    expect(ids.sort()).toEqual([...ulids, broken.corrupt].sort());
    expect(ids).not.toContain(broken.deleted);
    expect(res.data.blocks.find((b) => b.ulid === ulids[0])?.thanos.labels).toEqual(EXT);
    const page = await fetch(`${store!.http}/loaded`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<meta name="tessera-ui" content="bucket">');
  });
});

describe('tessera store with a small per-request memory limit', () => {
  let store: Awaited<ReturnType<typeof startStore>> | undefined;
  const enabled = promtool !== undefined;

  beforeAll(async () => {
    if (!enabled) return;
    const dir = join(work, 'bucket-limit');
    const bkt = new FilesystemBucket({ directory: dir });
    await fill(bkt);
    await bkt.close();
    store = await startStore(`type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`, 'limit', ['--store.grpc.series-memory-limit=2KB']);
  });

  afterAll(async () => {
    await store?.stop();
  });

  test.skipIf(!enabled)('a query that needs more fails with RESOURCE_EXHAUSTED naming the limit; the store keeps running', async () => {
    await expect(series(store!.client, {})).rejects.toMatchObject({ grpcCode: 8, message: expect.stringMatching(/exceeded memory limit: limit 2048 bytes/) });
    const metrics = await (await fetch(`${store!.http}/metrics`)).text();
    expect(metrics).toMatch(/thanos_bucket_store_queries_dropped_total\{reason="memory"\} [1-9]/);
    // The process is unharmed and keeps answering.
    expect((await store!.client.info()).labelSets.length).toBeGreaterThan(0);
    expect(store!.proc.proc.exitCode).toBeNull();
  });
});
