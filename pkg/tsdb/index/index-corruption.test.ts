import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../../testutil/index.js';
import { makePromtoolBlocks } from '../testutil/promtool-blocks.js';
import { BufferByteSource, FileByteSource } from './byte-source.js';
import type { IndexChunkMeta } from './format.js';
import { IndexCorruptError } from './index-corrupt-error.js';
import { IndexReader } from './index-reader.js';

const promtool = requireBinary('promtool');

/** Reads everything an index offers; returns the first error (or null when all decoded). */
function exercise(bytes: Uint8Array, name = 'index'): unknown {
  let r: IndexReader;
  try {
    r = IndexReader.open(new BufferByteSource(bytes, name));
  } catch (err) {
    return err;
  }
  try {
    const chunks: IndexChunkMeta[] = [];
    for (const n of ['', ...r.labelNames()]) {
      for (const v of n === '' ? [''] : r.labelValues(n)) {
        const p = r.postings(n, v);
        while (p.next()) r.series(p.at(), chunks);
        if (p.err() !== null) return p.err();
      }
    }
    for (let i = 0; i < r.symbolCount; i++) r.symbol(i);
    return null;
  } catch (err) {
    return err;
  } finally {
    r.close();
  }
}

function expectCorrupt(err: unknown, offset?: number): IndexCorruptError {
  expect(err).toBeInstanceOf(IndexCorruptError);
  const e = err as IndexCorruptError;
  expect(e.message).toContain('read index corrupt-index');
  expect(e.message).toMatch(/offset \d+/);
  if (offset !== undefined) expect(e.offset).toBe(offset);
  return e;
}

describe.skipIf(!promtool)('index reader on corrupted promtool-written indexes', () => {
  let dir: string;
  let orig: Uint8Array;
  let r: IndexReader;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-idx-corrupt-'));
    const { dataDir, blocks } = makePromtoolBlocks(promtool!, dir, { hosts: 2, hours: 2 });
    orig = new Uint8Array(readFileSync(join(dataDir, blocks[0]!, 'index')));
    r = IndexReader.open(new BufferByteSource(orig, 'corrupt-index'));
  });
  afterAll(() => {
    r?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const flip = (off: number, bit = 0): Uint8Array => {
    const b = orig.slice();
    b[off] = b[off]! ^ (1 << bit);
    return b;
  };

  test('the pristine index decodes fully, from memory and from the file', () => {
    expect(exercise(orig)).toBeNull();
    const path = join(dir, 'index-copy');
    writeFileSync(path, orig);
    const fr = IndexReader.open(FileByteSource.open(path));
    expect(fr.labelNames()).toEqual(r.labelNames());
    fr.close();
  });

  test('wrong magic and unsupported version', () => {
    expectCorrupt(exercise(flip(0, 3), 'corrupt-index'), 0);
    const v1 = orig.slice();
    v1[4] = 1;
    expect(String(expectCorrupt(exercise(v1, 'corrupt-index'), 4).message)).toMatch(/version 1/);
  });

  test('truncation anywhere is reported, never a crash', () => {
    for (const len of [0, 3, 5, 56, 57, orig.length >> 2, orig.length >> 1, orig.length - 53, orig.length - 1]) {
      expectCorrupt(exercise(orig.subarray(0, len), 'corrupt-index'));
    }
  });

  test('bit flips in the TOC, symbol table, postings offset table, a postings list and a series', () => {
    const tocOff = orig.length - 52;
    expectCorrupt(exercise(flip(tocOff + 7), 'corrupt-index'), tocOff);
    expectCorrupt(exercise(flip(r.toc.symbols + 12), 'corrupt-index'), r.toc.symbols + 4);
    expectCorrupt(exercise(flip(r.toc.postingsTable + 20), 'corrupt-index'), r.toc.postingsTable + 4);
    const rg = r.postingsRange('job', r.labelValues('job')[0]!)!;
    expectCorrupt(exercise(flip(rg.start + 9), 'corrupt-index'), rg.start + 4);
    const firstSeries = Math.ceil(r.toc.series / 16) * 16;
    expectCorrupt(exercise(flip(firstSeries + 3), 'corrupt-index'), firstSeries + 1);
  });

  test('huge length fields are rejected before allocating', () => {
    const b = orig.slice();
    new DataView(b.buffer).setUint32(r.toc.symbols, 0xfffffff0);
    expect(expectCorrupt(exercise(b, 'corrupt-index')).message).toMatch(/runs beyond end/);
    const p = orig.slice();
    const rg = r.postingsRange('', '')!;
    new DataView(p.buffer).setUint32(rg.start, 0x7ffffffc);
    expect(expectCorrupt(exercise(p, 'corrupt-index'), rg.start).message).toMatch(/invalid length/);
  });

  test('random single-bit flips across the whole file: IndexCorruptError or a clean read', () => {
    let seed = 1234;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let detected = 0;
    for (let i = 0; i < 400; i++) {
      const off = Math.floor(rnd() * orig.length);
      const err = exercise(flip(off, Math.floor(rnd() * 8)), 'corrupt-index');
      if (err !== null) {
        expectCorrupt(err);
        detected++;
      }
    }
    // Only padding bytes can flip undetected; nearly everything is checksummed.
    expect(detected).toBeGreaterThan(300);
  });
});
