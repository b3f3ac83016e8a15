import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { XorChunk, type ChunkMeta } from '../../chunkenc/index.js';
import { ChunkSegmentError } from './chunk-segment-error.js';
import { ChunkSegmentReader } from './segment-reader.js';
import { ChunkSegmentWriter } from './segment-writer.js';
import { chunkRefOffset, chunkRefSegment } from './segment-format.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function mkChunk(seed: number, n: number): ChunkMeta {
  const c = new XorChunk();
  const app = c.appender();
  for (let i = 0; i < n; i++) app.append(1000 * i + seed, Math.sin(seed + i) * 1000);
  return { ref: 0, minTime: seed, maxTime: 1000 * (n - 1) + seed, chunk: c };
}

async function writeSeries(dir: string, series: ChunkMeta[][], segmentSize?: number): Promise<string[]> {
  const w = await ChunkSegmentWriter.create(dir, segmentSize === undefined ? {} : { segmentSize });
  for (const s of series) await w.writeChunks(s);
  await w.close();
  return [...w.segmentFiles];
}

describe('chunk segments', () => {
  test('write then read back every chunk by ref', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-seg-'));
    dirs.push(dir);
    const series = Array.from({ length: 20 }, (_, s) => Array.from({ length: 3 }, (_, k) => mkChunk(s * 10 + k, 1 + ((s * 7 + k) % 130))));
    const files = await writeSeries(dir, series, 4096);
    expect(files.length).toBeGreaterThan(1);
    expect((await readdir(dir)).sort()).toEqual(files);
    const r = await ChunkSegmentReader.open(dir);
    let prev = -1;
    for (const s of series) {
      for (const m of s) {
        expect(m.ref).toBeGreaterThan(prev);
        prev = m.ref;
        expect(Buffer.from(r.chunk(m.ref).bytes()).equals(Buffer.from(m.chunk.bytes()))).toBe(true);
      }
    }
    expect(chunkRefOffset(series[0]![0]!.ref)).toBe(8);
    expect(chunkRefSegment(series[19]![2]!.ref)).toBe(files.length - 1);
    // records() walks the same chunks in order
    let n = 0;
    for (let i = 0; i < r.segments.length; i++) for (const _ of r.records(i)) n++;
    expect(n).toBe(60);
    // header bytes
    const head = await readFile(join(dir, '000001'));
    expect(head.subarray(0, 8).toString('hex')).toBe('85bd40dd01000000');
  });

  test('corruption is reported with file and offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-seg-'));
    dirs.push(dir);
    const s = [mkChunk(1, 50), mkChunk(2, 60)];
    await writeSeries(dir, [s]);
    const file = join(dir, '000001');
    const good = await readFile(file);
    const second = chunkRefOffset(s[1]!.ref);

    const flipped = Buffer.from(good);
    flipped[second + 10]! ^= 0x04;
    const r1 = new ChunkSegmentReader([{ file, data: flipped }]);
    expect(r1.chunk(s[0]!.ref).numSamples()).toBe(50);
    expect(() => r1.chunk(s[1]!.ref)).toThrow(new RegExp(`000001 at offset ${second}: checksum mismatch`));

    const truncated = good.subarray(0, good.length - 3);
    const r2 = new ChunkSegmentReader([{ file, data: truncated }]);
    expect(() => r2.chunk(s[1]!.ref)).toThrow(/runs past the end/);

    const magic = Buffer.from(good);
    magic[0] = 0;
    expect(() => new ChunkSegmentReader([{ file, data: magic }])).toThrow(/000001 at offset 0: invalid magic number 00bd40dd/);
    const version = Buffer.from(good);
    version[4] = 2;
    expect(() => new ChunkSegmentReader([{ file, data: version }])).toThrow(ChunkSegmentError);

    await writeFile(file, good.subarray(0, 5));
    await expect(ChunkSegmentReader.open(dir)).rejects.toThrow(/header needs 8/);
    const r3 = new ChunkSegmentReader([{ file, data: good }]);
    expect(() => r3.chunk(2 * 0x100000000 + 8)).toThrow(/segment index 2 does not exist/);
    expect(() => r3.chunk(good.length + 5)).toThrow(/offset outside/);
  });

  test.each([
    ['in-order reads served from a 64 KiB window', 1024, undefined],
    ['one read per record', 1024, 1024],
    ['a second read for most records', 16, 16],
    ['a first read that ends inside the length field', 1, 1],
  ])('positional reader returns the same records as the in-memory one (%s)', async (_name, readAhead, sequentialWindow) => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-seg-'));
    dirs.push(dir);
    // Chunk sizes from 1 sample (~17 bytes) to 2000 samples (several KiB, beyond any read-ahead).
    const series = Array.from({ length: 12 }, (_, s) => Array.from({ length: 3 }, (_, k) => mkChunk(s * 10 + k, [1, 7, 120, 400, 2000][(s + k) % 5]!)));
    const files = await writeSeries(dir, series, 16384);
    expect(files.length).toBeGreaterThan(1);
    const mem = await ChunkSegmentReader.open(dir);
    const pos = await ChunkSegmentReader.openFiles(dir, sequentialWindow === undefined ? { readAhead } : { readAhead, sequentialWindow });
    try {
      expect(pos.positional).toBe(true);
      expect(mem.positional).toBe(false);
      expect(pos.segmentCount).toBe(files.length);
      expect(pos.segmentFiles).toEqual(files.map((f) => join(dir, f)));
      expect(pos.size).toBe(mem.size);
      expect(() => pos.segments).toThrow(TypeError);
      for (const s of series) {
        for (const m of s) {
          const a = pos.record(m.ref);
          const b = mem.record(m.ref);
          expect(a.encoding).toBe(1);
          expect(a.size).toBe(b.size);
          expect(Buffer.from(a.data).equals(Buffer.from(m.chunk.bytes()))).toBe(true);
          expect(pos.chunk(m.ref).numSamples()).toBe(m.chunk.numSamples());
        }
      }
      // Random order (no window reuse), then reverse order.
      const all = series.flat();
      for (const m of [...all].sort((a, b) => ((a.ref * 7919) % 97) - ((b.ref * 7919) % 97)).concat([...all].reverse())) {
        expect(Buffer.from(pos.record(m.ref).data).equals(Buffer.from(m.chunk.bytes()))).toBe(true);
      }
      const walked = Array.from({ length: pos.segmentCount }, (_, i) => [...pos.records(i)].map((r) => r.ref)).flat();
      expect(walked).toEqual(series.flat().map((m) => m.ref));
    } finally {
      pos.close();
    }
    expect(() => pos.chunk(series[0]![0]!.ref)).toThrow(/000001 at offset 8: reader is closed/);
  });

  test('positional reader reports corruption with file and offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-seg-'));
    dirs.push(dir);
    const s = [mkChunk(1, 50), mkChunk(2, 60), mkChunk(3, 1500)];
    await writeSeries(dir, [s]);
    const file = join(dir, '000001');
    const good = await readFile(file);
    const second = chunkRefOffset(s[1]!.ref);
    const third = chunkRefOffset(s[2]!.ref);

    // Bad CRC: a flipped bit inside the second chunk's data, and one in the long third chunk's tail
    // (which only the second read fetches).
    const flipped = Buffer.from(good);
    flipped[second + 10]! ^= 0x04;
    flipped[good.length - 20]! ^= 0x80;
    await writeFile(file, flipped);
    let r = await ChunkSegmentReader.openFiles(dir, { readAhead: 256 });
    expect(r.chunk(s[0]!.ref).numSamples()).toBe(50);
    const crcErr = (() => {
      try {
        r.chunk(s[1]!.ref);
      } catch (e) {
        return e as ChunkSegmentError;
      }
      return undefined;
    })();
    expect(crcErr).toBeInstanceOf(ChunkSegmentError);
    expect(crcErr!.code).toBe('TESSERA_CHUNK_CHECKSUM');
    expect(crcErr!.file).toBe(file);
    expect(crcErr!.offset).toBe(second);
    expect(crcErr!.message).toMatch(new RegExp(`000001 at offset ${second}: checksum mismatch: stored [0-9a-f]{8}, computed [0-9a-f]{8}`));
    expect(() => r.chunk(s[2]!.ref)).toThrow(new RegExp(`000001 at offset ${third}: checksum mismatch`));
    r.close();

    // Truncated file: the last record runs past the end; a ref past the end is outside the records.
    await writeFile(file, good.subarray(0, good.length - 3));
    r = await ChunkSegmentReader.openFiles(dir);
    expect(r.chunk(s[1]!.ref).numSamples()).toBe(60);
    expect(() => r.chunk(s[2]!.ref)).toThrow(new RegExp(`000001 at offset ${third}: chunk of \\d+ bytes runs past the end of the ${good.length - 3}-byte file`));
    expect(() => r.chunk(good.length + 5)).toThrow(/offset outside the records/);
    expect(() => r.chunk(3 * 0x100000000 + 8)).toThrow(/segment index 3 does not exist/);
    expect(() => [...r.records(0)]).toThrow(new RegExp(`offset ${third}: chunk of`));
    r.close();

    // Truncated inside the length field of the last record.
    await writeFile(file, good.subarray(0, third + 1));
    r = await ChunkSegmentReader.openFiles(dir);
    expect(() => r.chunk(s[2]!.ref)).toThrow(new RegExp(`000001 at offset ${third}: truncated length field`));
    r.close();

    // Headers are checked at open; descriptors opened so far are released on error.
    await writeFile(file, good.subarray(0, 5));
    await expect(ChunkSegmentReader.openFiles(dir)).rejects.toThrow(/000001 at offset 0: file has 5 bytes, header needs 8/);
    const magic = Buffer.from(good);
    magic[0] = 0;
    await writeFile(file, magic);
    await expect(ChunkSegmentReader.openFiles(dir)).rejects.toThrow(/000001 at offset 0: invalid magic number 00bd40dd/);
    await expect(ChunkSegmentReader.openFiles(join(dir, 'nope'))).rejects.toThrow(/list chunk segment files in .*nope/);
  });
});
