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
});
