import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { InMemoryBucket, type ReadOptions, type UploadOptions } from '../objstore/index.js';
import { BlockWriter, parseBlockMeta, type WrittenBlock } from '../tsdb/index.js';
import { deleteBlock } from './delete.js';
import { downloadBlock } from './download.js';
import {
  formatMarker,
  markForDeletion,
  markForNoCompact,
  NoCompactReason,
  parseNoCompactMark,
  readDeletionMark,
  readNoCompactMark,
  readNoDownsampleMark,
  markForNoDownsample,
} from './markers.js';
import { uploadBlock } from './upload.js';

/** Records the order of uploads and deletes of an in-memory bucket. */
class RecordingBucket extends InMemoryBucket {
  readonly log: string[] = [];
  override async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void> {
    await super.upload(name, data, opts);
    this.log.push(`upload ${name}`);
  }
  override async delete(name: string, opts?: ReadOptions): Promise<void> {
    await super.delete(name, opts);
    this.log.push(`delete ${name}`);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockio-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeBlock(thanos = true): Promise<WrittenBlock> {
  const w = await BlockWriter.create(dir, {
    segmentSize: 2048,
    ...(thanos ? { thanos: { labels: { cluster: 'c1' }, downsample: { resolution: 0 }, source: 'test', index_stats: {} } } : {}),
  });
  for (let s = 0; s < 20; s++) {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < 300; i++) {
      ts.push(1_000_000 + i * 15_000);
      vs.push(Math.sin(i + s) * 100);
    }
    await w.addSeries(Labels.fromStrings('__name__', 'm', 'i', String(s).padStart(3, '0')), ts, vs);
  }
  return w.flush();
}

describe('uploadBlock', () => {
  test('uploads chunks, then index, then meta.json with the completed thanos section; no tombstones', async () => {
    const b = await writeBlock(false);
    const bkt = new RecordingBucket();
    const meta = await uploadBlock(bkt, b.dir, { labels: { replica: 'a', cluster: 'c1' }, source: 'sidecar', hashFunc: 'SHA256', concurrency: 3, now: () => 1_700_000_000_123 });
    const chunkFiles = (await readdir(join(b.dir, 'chunks'))).sort();
    expect(chunkFiles.length).toBeGreaterThan(1);
    expect(bkt.log.slice(-2)).toEqual([`upload ${b.ulid}/index`, `upload ${b.ulid}/meta.json`]);
    expect(bkt.log.slice(0, -2).sort()).toEqual(chunkFiles.map((f) => `upload ${b.ulid}/chunks/${f}`));
    expect(await bkt.exists(`${b.ulid}/tombstones`)).toBe(false);

    const up = parseBlockMeta(new TextDecoder().decode(await bkt.get(`${b.ulid}/meta.json`)));
    expect(up).toEqual(meta);
    expect(up.thanos?.labels).toEqual({ cluster: 'c1', replica: 'a' });
    expect(up.thanos?.source).toBe('sidecar');
    expect(up.thanos?.version).toBe(1);
    expect(up.thanos?.segment_files).toEqual(chunkFiles);
    expect(up.thanos?.upload_time).toBe('2023-11-14T22:13:20.123Z');
    expect(up.thanos?.files?.map((f) => f.rel_path)).toEqual([...chunkFiles.map((f) => `chunks/${f}`), 'index', 'meta.json']);
    const idx = up.thanos!.files!.find((f) => f.rel_path === 'index')!;
    expect(idx.size_bytes).toBe((await readFile(join(b.dir, 'index'))).length);
    expect(idx.hash?.hashFunc).toBe('SHA256');
    expect(idx.hash?.value).toMatch(/^[0-9a-f]{64}$/);
    expect(up.thanos?.files?.find((f) => f.rel_path === 'meta.json')).toEqual({ rel_path: 'meta.json' });
    // The local meta.json is untouched.
    expect(parseBlockMeta(await readFile(join(b.dir, 'meta.json'), 'utf8')).thanos).toBeUndefined();
  });

  test('keeps the labels of meta.json by default and refuses empty labels', async () => {
    const b = await writeBlock(true);
    const bkt = new InMemoryBucket();
    const meta = await uploadBlock(bkt, b.dir);
    expect(meta.thanos?.labels).toEqual({ cluster: 'c1' });
    expect(meta.thanos?.source).toBe('test');
    const plain = await writeBlock(false);
    await expect(uploadBlock(bkt, plain.dir)).rejects.toMatchObject({ code: 'TESSERA_BLOCK_UPLOAD', message: expect.stringMatching(/empty external labels/) });
    expect(await bkt.exists(`${plain.ulid}/index`)).toBe(false);
    await uploadBlock(bkt, plain.dir, { allowEmptyLabels: true });
    expect(await bkt.exists(`${plain.ulid}/meta.json`)).toBe(true);
  });

  test('a failed upload leaves no meta.json and names the file', async () => {
    const b = await writeBlock();
    class Failing extends InMemoryBucket {
      override async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void> {
        if (name.endsWith('/index')) throw new Error('boom');
        await super.upload(name, data, opts);
      }
    }
    const bkt = new Failing();
    await expect(uploadBlock(bkt, b.dir)).rejects.toThrow(/upload index/);
    expect(await bkt.exists(`${b.ulid}/meta.json`)).toBe(false);
  });
});

describe('downloadBlock', () => {
  test('round trip gives the same files; hashed files already present are not fetched again', async () => {
    const b = await writeBlock();
    const gets: string[] = [];
    class Spy extends InMemoryBucket {
      override get(name: string, o?: ReadOptions): Promise<Uint8Array> {
        gets.push(name);
        return super.get(name, o);
      }
    }
    const bkt = new Spy();
    await uploadBlock(bkt, b.dir, { hashFunc: 'SHA256' });
    const dst = join(dir, 'dl', b.ulid);
    const meta = await downloadBlock(bkt, b.ulid, dst);
    expect(meta.ulid).toBe(b.ulid);
    for (const f of ['index', ...(await readdir(join(b.dir, 'chunks'))).map((c) => `chunks/${c}`)]) {
      expect(await readFile(join(dst, f))).toEqual(await readFile(join(b.dir, f)));
    }
    gets.length = 0;
    await writeFile(join(dst, 'index'), 'corrupted local copy');
    await downloadBlock(bkt, b.ulid, dst);
    expect(gets.sort()).toEqual([`${b.ulid}/index`, `${b.ulid}/meta.json`]);
    expect(await readFile(join(dst, 'index'))).toEqual(await readFile(join(b.dir, 'index')));
  });

  test('a block without meta.json is partial: error, nothing written but the directory', async () => {
    const bkt = new InMemoryBucket();
    await bkt.upload('01HZZZZZZZZZZZZZZZZZZZZZZA/index', new Uint8Array([1]));
    await expect(downloadBlock(bkt, '01HZZZZZZZZZZZZZZZZZZZZZZA', join(dir, 'x'))).rejects.toMatchObject({ code: 'TESSERA_BLOCK_DOWNLOAD', message: expect.stringMatching(/partial block/) });
  });
});

describe('deleteBlock', () => {
  test('deletes meta.json first and the deletion mark last', async () => {
    const b = await writeBlock();
    const bkt = new RecordingBucket();
    await uploadBlock(bkt, b.dir);
    await markForDeletion(bkt, b.ulid, { now: 1_700_000_000_000, details: 'compacted' });
    await bkt.upload('01HZZZZZZZZZZZZZZZZZZZZZZB/meta.json', new Uint8Array([1])); // another block stays
    bkt.log.length = 0;
    await deleteBlock(bkt, b.ulid);
    const deletes = bkt.log.filter((l) => l.startsWith('delete ') && !l.endsWith('/'));
    expect(deletes[0]).toBe(`delete ${b.ulid}/meta.json`);
    expect(deletes[deletes.length - 1]).toBe(`delete ${b.ulid}/deletion-mark.json`);
    const left: string[] = [];
    for await (const n of bkt.iter('', { recursive: true })) left.push(n);
    expect(left).toEqual(['01HZZZZZZZZZZZZZZZZZZZZZZB/meta.json']);
    await deleteBlock(bkt, b.ulid); // idempotent
  });
});

describe('markers', () => {
  const id = '01HZZZZZZZZZZZZZZZZZZZZZZC';
  test('written once, in Thanos JSON, and read back', async () => {
    const bkt = new InMemoryBucket();
    expect(await markForDeletion(bkt, id, { now: 1_700_000_000_999 })).toBe(true);
    expect(await markForDeletion(bkt, id, { now: 1_800_000_000_000 })).toBe(false);
    expect(new TextDecoder().decode(await bkt.get(`${id}/deletion-mark.json`))).toBe(`{"id":"${id}","version":1,"deletion_time":1700000000}`);
    expect(await readDeletionMark(bkt, id)).toEqual({ id, version: 1, deletion_time: 1700000000 });

    expect(await readNoCompactMark(bkt, id)).toBeUndefined();
    expect(await markForNoCompact(bkt, id, NoCompactReason.OutOfOrderChunks, { now: 1_700_000_000_000, details: 'chunk 3 of {a="b"}' })).toBe(true);
    expect(new TextDecoder().decode(await bkt.get(`${id}/no-compact-mark.json`))).toBe(
      `{"id":"${id}","version":1,"details":"chunk 3 of {a=\\"b\\"}","no_compact_time":1700000000,"reason":"block-index-out-of-order-chunk"}`,
    );
    expect(await readNoCompactMark(bkt, id)).toEqual({ id, version: 1, details: 'chunk 3 of {a="b"}', no_compact_time: 1700000000, reason: 'block-index-out-of-order-chunk' });

    await markForNoDownsample(bkt, id, 'manual', { now: 5000 });
    expect(await readNoDownsampleMark(bkt, id)).toEqual({ id, version: 1, no_downsample_time: 5, reason: 'manual' });
  });

  test('corrupt or unknown versions are MarkerCorrupt', async () => {
    expect(() => parseNoCompactMark(`{"id":"${id}","version":2,"no_compact_time":1,"reason":"manual"}`)).toThrow(/version/);
    expect(() => parseNoCompactMark(`{"id":"${id}","version":1,"reason":"manual"}`)).toThrow(/no_compact_time/);
    const bkt = new InMemoryBucket();
    await bkt.upload(`${id}/deletion-mark.json`, new TextEncoder().encode('{"id":'));
    await expect(readDeletionMark(bkt, id)).rejects.toMatchObject({ code: 'TESSERA_BLOCK_MARKER_CORRUPT' });
    expect(formatMarker({ id, version: 1, details: '', deletion_time: 3 })).toBe(`{"id":"${id}","version":1,"deletion_time":3}`);
  });
});
