import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { crc32c } from '../../encoding/index.js';
import { readSegmentRecords } from './segment-reader.js';
import { FragmentType, PAGE_SIZE, listSegments, segmentName } from './segments.js';
import { Wal } from './wal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(n: number, seed: number): Uint8Array {
  const r = new Uint8Array(n);
  for (let i = 0; i < n; i++) r[i] = (i * 31 + seed * 7) & 0xff;
  return r;
}

async function readAll(walDir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const i of await listSegments(walDir)) {
    const data = new Uint8Array(await readFile(join(walDir, segmentName(i))));
    const d = readSegmentRecords(data, (rec) => out.push(rec.slice()));
    expect(d).toBeUndefined();
  }
  return out;
}

describe('Wal', () => {
  test('records of every size round-trip; fragments never cross pages or segments; segments are page-aligned', async () => {
    const w = await Wal.open(dir, { segmentSize: 4 * PAGE_SIZE });
    const sizes = [0, 1, 100, PAGE_SIZE - 7, PAGE_SIZE - 8, PAGE_SIZE, 3 * PAGE_SIZE, 5, PAGE_SIZE * 2 + 11, 17];
    const recs = sizes.map((n, i) => record(n, i));
    await w.log(recs.slice(0, 3));
    for (const r of recs.slice(3)) await w.log([r]);
    await w.close();
    const got = await readAll(dir);
    expect(got.map((r) => r.length)).toEqual(sizes);
    got.forEach((r, i) => expect(Buffer.from(r).equals(Buffer.from(recs[i]!))).toBe(true));
    const segs = await listSegments(dir);
    expect(segs.length).toBeGreaterThan(1);
    for (const i of segs.slice(0, -1)) {
      const data = await readFile(join(dir, segmentName(i)));
      expect(data.length % PAGE_SIZE).toBe(0);
      expect(data.length).toBeLessThanOrEqual(4 * PAGE_SIZE);
    }
  });

  test('the first fragment header is what Prometheus writes: type, BE16 length, BE32 CRC32-Castagnoli', async () => {
    const w = await Wal.open(dir);
    const rec = new TextEncoder().encode('hello wal');
    await w.log([rec]);
    await w.close();
    const data = new Uint8Array(await readFile(join(dir, '00000000')));
    expect(data.length).toBe(7 + rec.length);
    expect(data[0]).toBe(FragmentType.Full);
    expect((data[1]! << 8) | data[2]!).toBe(rec.length);
    expect(Buffer.from(data.subarray(3, 7)).readUInt32BE(0)).toBe(crc32c(rec));
  });

  test('reopening starts a new segment; a torn or damaged record is reported at its start', async () => {
    let w = await Wal.open(dir);
    await w.log([record(10, 1), record(PAGE_SIZE + 5, 2)]);
    await w.close();
    w = await Wal.open(dir);
    expect(w.segment).toBe(1);
    await w.close();
    const file = join(dir, '00000000');
    const data = new Uint8Array(await readFile(file));
    const good: number[] = [];
    const torn = readSegmentRecords(data.subarray(0, data.length - 3), (r) => good.push(r.length));
    expect(good).toEqual([10]);
    expect(torn).toEqual({ offset: 17, reason: expect.stringContaining('cut off') as unknown as string });
    const flipped = data.slice();
    flipped[30] = flipped[30]! ^ 0xff;
    const bad = readSegmentRecords(flipped, () => undefined);
    expect(bad?.offset).toBe(17);
    expect(bad?.reason).toContain('checksum');
    await writeFile(file, data.subarray(0, 5));
    expect(readSegmentRecords(new Uint8Array(await readFile(file)), () => undefined)?.offset).toBe(0);
  });
});
