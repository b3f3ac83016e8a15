import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { FilesystemBucket, InMemoryBucket, type Bucket, type UploadOptions } from '../objstore/index.js';
import { waitFor } from '../testutil/index.js';
import { Shipper } from './index.js';

// Distinct ULIDs in time order.
const A = '01HZZZZZZZZZZZZZZZZZZZZZZA';
const B = '01HZZZZZZZZZZZZZZZZZZZZZZB';
const C = '01HZZZZZZZZZZZZZZZZZZZZZZC';
const D = '01HZZZZZZZZZZZZZZZZZZZZZZD';
const ext = Labels.fromStrings('cluster', 'eu1', 'replica', 'a');

interface BlockSpec {
  ulid: string;
  minTime: number;
  level?: number;
  numSamples?: number;
  chunks?: number;
}

async function writeBlock(dir: string, s: BlockSpec, name = s.ulid): Promise<Record<string, Uint8Array>> {
  const bd = join(dir, name);
  await mkdir(join(bd, 'chunks'), { recursive: true });
  const files: Record<string, Uint8Array> = {};
  for (let i = 1; i <= (s.chunks ?? 2); i++) files[`chunks/${String(i).padStart(6, '0')}`] = randomBytes(1000 + i * 17);
  files['index'] = randomBytes(777);
  files['tombstones'] = new Uint8Array([0x01, 0x30, 0xba, 0x30, 0x01]);
  for (const [rel, data] of Object.entries(files)) await writeFile(join(bd, rel), data);
  const meta = {
    ulid: s.ulid,
    minTime: s.minTime,
    maxTime: s.minTime + 7_200_000,
    stats: { numSamples: s.numSamples ?? 100, numSeries: 3, numChunks: 6 },
    compaction: { level: s.level ?? 1, sources: [s.ulid] },
    version: 1,
  };
  await writeFile(join(bd, 'meta.json'), JSON.stringify(meta, null, '\t'));
  return files;
}

/** RecordingBucket wraps a bucket, records uploads in order and can fail or stall chosen uploads. */
class RecordingBucket {
  readonly log: string[] = [];
  failUploads = new Map<string, number>(); // block ULID -> remaining failures
  stall: { ulid: string; release: Promise<void> } | undefined;
  crashAfterChunks = new Set<string>();
  constructor(readonly inner: Bucket) {}

  asBucket(): Bucket {
    const self = this;
    return new Proxy(this.inner, {
      get(target, prop, recv) {
        if (prop === 'upload') {
          return async (name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions) => {
            const ulid = name.split('/')[0]!;
            if (self.stall?.ulid === ulid) await self.stall.release;
            const left = self.failUploads.get(ulid) ?? 0;
            if (left > 0) {
              self.failUploads.set(ulid, left - 1);
              throw new Error(`bucket down (upload of ${name})`);
            }
            if (self.crashAfterChunks.has(ulid) && name.endsWith('/index')) throw new Error('process killed');
            self.log.push(name);
            return target.upload(name, data, opts);
          };
        }
        const v = Reflect.get(target, prop, recv) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-shipper-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newShipper(bucket: Bucket, extra: Partial<ConstructorParameters<typeof Shipper>[0]> = {}): Shipper {
  return new Shipper({ bucket, dir, externalLabels: () => ext, registry: new Registry(), minBackoffMs: 1000, ...extra });
}

describe('Shipper', () => {
  test('ships only completed level-1 blocks with samples, chunks first and meta.json last, with the Thanos section', async () => {
    const filesA = await writeBlock(dir, { ulid: A, minTime: 2000 });
    const filesB = await writeBlock(dir, { ulid: B, minTime: 1000, chunks: 1 });
    await writeBlock(dir, { ulid: C, minTime: 3000, level: 2 }); // compacted
    await writeBlock(dir, { ulid: D, minTime: 4000, numSamples: 0 }); // empty
    await writeBlock(dir, { ulid: '01HZZZZZZZZZZZZZZZZZZZZZZE', minTime: 5000 }, '01HZZZZZZZZZZZZZZZZZZZZZZE.tmp-for-creation');
    await mkdir(join(dir, '01HZZZZZZZZZZZZZZZZZZZZZZF')); // no meta.json yet
    await mkdir(join(dir, '01HZZZZZZZZZZZZZZZZZZZZZZG'));
    await writeFile(join(dir, '01HZZZZZZZZZZZZZZZZZZZZZZG', 'meta.json'), '{"ulid": "01HZZZZZZZZZZZZZZZZZZZZZZG", "minT'); // half-written
    await mkdir(join(dir, 'wal'));
    await mkdir(join(dir, 'chunks_head'));
    const before = (await readdir(dir, { recursive: true })).sort();

    const rec = new RecordingBucket(new InMemoryBucket());
    const s = newShipper(rec.asBucket());
    const now = Date.parse('2026-01-02T03:04:05.678Z');
    const res = await newShipper(rec.asBucket(), { now: () => now, concurrency: 1 }).sync();
    expect(res).toEqual({ uploaded: 2, failed: 0, waiting: 0 });
    // Sorted by minTime (B before A), one block at a time with concurrency 1; per block: chunks, index, meta.json.
    expect(rec.log).toEqual([`${B}/chunks/000001`, `${B}/index`, `${B}/meta.json`, `${A}/chunks/000001`, `${A}/chunks/000002`, `${A}/index`, `${A}/meta.json`]);
    for (const [rel, data] of Object.entries(filesA)) {
      if (rel === 'tombstones') expect(await rec.inner.exists(`${A}/${rel}`)).toBe(false);
      else expect(new Uint8Array(await rec.inner.get(`${A}/${rel}`))).toEqual(new Uint8Array(data));
    }
    const meta = JSON.parse(new TextDecoder().decode(await rec.inner.get(`${B}/meta.json`))) as Record<string, unknown>;
    expect(meta['ulid']).toBe(B);
    expect(meta['compaction']).toEqual({ level: 1, sources: [B] });
    expect(meta['thanos']).toEqual({
      version: 1,
      labels: { cluster: 'eu1', replica: 'a' },
      downsample: { resolution: 0 },
      source: 'sidecar',
      segment_files: ['000001'],
      files: [{ rel_path: 'chunks/000001', size_bytes: filesB['chunks/000001']!.length }, { rel_path: 'index', size_bytes: 777 }, { rel_path: 'meta.json' }],
      index_stats: {},
      upload_time: '2026-01-02T03:04:05.678Z',
    });
    // State file in Thanos's format.
    expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: [A, B] });
    // Nothing of Prometheus's was touched: only the state file is new.
    expect((await readdir(dir, { recursive: true })).sort()).toEqual([...before, 'thanos.shipper.json'].sort());
    // A second pass (same or new shipper) uploads nothing.
    rec.log.length = 0;
    expect(await s.sync()).toEqual({ uploaded: 0, failed: 0, waiting: 0 });
    expect(rec.log).toEqual([]);
  });

  test('--hash-func=SHA256 records file hashes and --shipper.meta-file-name names the state file', async () => {
    const files = await writeBlock(dir, { ulid: A, minTime: 1000, chunks: 1 });
    const bucket = new InMemoryBucket();
    const res = await newShipper(bucket, { hashFunc: 'SHA256', fileConcurrency: 3, stateFile: join(dir, 'custom.shipper.json') }).sync();
    expect(res).toEqual({ uploaded: 1, failed: 0, waiting: 0 });
    const meta = JSON.parse(new TextDecoder().decode(await bucket.get(`${A}/meta.json`))) as { thanos: { files: { rel_path: string; hash?: { hashFunc: string; value: string } }[] } };
    const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
    expect(meta.thanos.files.find((f) => f.rel_path === 'index')?.hash).toEqual({ hashFunc: 'SHA256', value: sha(files['index']!) });
    expect(meta.thanos.files.find((f) => f.rel_path === 'chunks/000001')?.hash).toEqual({ hashFunc: 'SHA256', value: sha(files['chunks/000001']!) });
    expect(JSON.parse(await readFile(join(dir, 'custom.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: [A] });
    await expect(readFile(join(dir, 'thanos.shipper.json'))).rejects.toThrow();
  });

  test('--shipper.upload-compacted ships level > 1 blocks too', async () => {
    await writeBlock(dir, { ulid: C, minTime: 3000, level: 3 });
    const bkt = new InMemoryBucket();
    expect((await newShipper(bkt).sync()).uploaded).toBe(0);
    expect((await newShipper(bkt, { uploadCompacted: true }).sync()).uploaded).toBe(1);
    expect(await bkt.exists(`${C}/meta.json`)).toBe(true);
  });

  test('a failing block is retried with exponential backoff while the others ship', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    await writeBlock(dir, { ulid: B, minTime: 2000 });
    const rec = new RecordingBucket(new InMemoryBucket());
    rec.failUploads.set(A, 3);
    const reg = new Registry();
    let now = 1_000_000;
    const s = newShipper(rec.asBucket(), { now: () => now, registry: reg, minBackoffMs: 1000, maxBackoffMs: 3000 });

    expect(await s.sync()).toEqual({ uploaded: 1, failed: 1, waiting: 0 }); // B shipped, A failed (1)
    expect(await rec.inner.exists(`${B}/meta.json`)).toBe(true);
    expect(await rec.inner.exists(`${A}/meta.json`)).toBe(false);
    expect(await s.sync()).toEqual({ uploaded: 0, failed: 0, waiting: 1 }); // in backoff: not attempted
    now += 1000;
    expect(await s.sync()).toEqual({ uploaded: 0, failed: 1, waiting: 0 }); // failure 2 → backoff 2 s
    now += 1999;
    expect((await s.sync()).waiting).toBe(1);
    now += 1;
    expect((await s.sync()).failed).toBe(1); // failure 3 → backoff min(4 s, max 3 s)
    now += 3000;
    expect(await s.sync()).toEqual({ uploaded: 1, failed: 0, waiting: 0 });
    expect(await rec.inner.exists(`${A}/meta.json`)).toBe(true);
    const metrics = await reg.getMetricsAsJSON();
    const val = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value;
    expect(val('thanos_shipper_uploads_total')).toBe(2);
    expect(val('thanos_shipper_upload_failures_total')).toBe(3);
    expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8')).uploaded).toEqual([A, B]);
  });

  test('a stalled upload does not hold back other blocks', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    await writeBlock(dir, { ulid: B, minTime: 2000 });
    await writeBlock(dir, { ulid: C, minTime: 3000 });
    const rec = new RecordingBucket(new InMemoryBucket());
    let release!: () => void;
    rec.stall = { ulid: A, release: new Promise<void>((r) => (release = r)) };
    const s = newShipper(rec.asBucket(), { concurrency: 2 });
    const ac = new AbortController();
    const loop = s.run(60_000, ac.signal);
    // A is stuck; B and then C (started as soon as B's slot frees) still ship.
    await waitFor('B and C shipped', async () => (await rec.inner.exists(`${C}/meta.json`)) && (await rec.inner.exists(`${B}/meta.json`)), 10_000, 10);
    expect(await rec.inner.exists(`${A}/meta.json`)).toBe(false);
    release();
    await waitFor('A shipped', async () => rec.inner.exists(`${A}/meta.json`), 10_000, 10);
    ac.abort();
    await loop;
    expect(s.uploadedBlocks()).toEqual([A, B, C]);
  });

  test('crash mid-upload: never a visible partial block; restart re-uploads only the incomplete block', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    await writeBlock(dir, { ulid: B, minTime: 2000 });
    const bucketDir = join(dir, '..', `${dir.split('/').pop()}-bucket`);
    const fsb = new FilesystemBucket({ directory: bucketDir });
    try {
      const rec = new RecordingBucket(fsb);
      rec.crashAfterChunks.add(B); // B: chunks uploaded, then the "process dies" before index/meta.json
      expect(await newShipper(rec.asBucket()).sync()).toEqual({ uploaded: 1, failed: 1, waiting: 0 });
      expect(await fsb.exists(`${B}/chunks/000001`)).toBe(true);
      expect(await fsb.exists(`${B}/meta.json`)).toBe(false); // partial block is invisible to readers
      expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8')).uploaded).toEqual([A]);

      // A third block is already complete in the bucket (e.g. shipped before a state-file loss).
      await writeBlock(dir, { ulid: C, minTime: 3000 });
      await fsb.upload(`${C}/meta.json`, new TextEncoder().encode('{}'));

      const rec2 = new RecordingBucket(fsb);
      expect(await newShipper(rec2.asBucket()).sync()).toEqual({ uploaded: 2, failed: 0, waiting: 0 });
      expect(rec2.log).toEqual([`${B}/chunks/000001`, `${B}/chunks/000002`, `${B}/index`, `${B}/meta.json`]);
      expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8')).uploaded).toEqual([A, B, C]);
      expect(await readdir(dir)).not.toContain('thanos.shipper.json.tmp');
    } finally {
      await rm(bucketDir, { recursive: true, force: true });
    }
  });

  test('a corrupt state file is treated as empty and checked against the bucket', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    const rec = new RecordingBucket(new InMemoryBucket());
    await newShipper(rec.asBucket()).sync();
    await writeFile(join(dir, 'thanos.shipper.json'), '{"version":1,"upl');
    rec.log.length = 0;
    expect((await newShipper(rec.asBucket()).sync()).uploaded).toBe(1);
    expect(rec.log).toEqual([]); // recognised via meta.json in the bucket, not re-uploaded
    expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: [A] });
  });

  test('refuses to ship without external labels', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    const bkt = new InMemoryBucket();
    expect(await newShipper(bkt, { externalLabels: () => Labels.EMPTY }).sync()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect(await bkt.exists(`${A}/chunks/000001`)).toBe(false);
  });

  test('blocks deleted by Prometheus retention are dropped from the state file', async () => {
    await writeBlock(dir, { ulid: A, minTime: 1000 });
    await writeBlock(dir, { ulid: B, minTime: 2000 });
    const s = newShipper(new InMemoryBucket());
    await s.sync();
    await rm(join(dir, A), { recursive: true });
    await s.sync();
    expect(JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8')).uploaded).toEqual([B]);
  });
});
