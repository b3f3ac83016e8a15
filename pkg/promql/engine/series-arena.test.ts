import { describe, expect, test } from 'vitest';
import { SeriesArena } from './series-arena.js';

describe('SeriesArena', () => {
  test('released blocks are reused by the next arena; views are exact and blocks are paired', () => {
    const a = new SeriesArena();
    const k = a.reserve(10);
    const at = k.fn;
    k.fts.set([1, 2, 3], at);
    k.fvs.set([4, 5, 6], at);
    const ts = k.fts.subarray(at, at + 3);
    a.commit(at + 3);
    expect(a.reserve(5).fn).toBe(at + 3);
    expect(k.fts).not.toBe(k.fvs);
    const blocks = new Set([k.fts.buffer, k.fvs.buffer]);
    a.release();
    const b = new SeriesArena();
    const k2 = b.reserve(10);
    expect(k2.fn).toBe(0);
    expect(blocks.has(k2.fts.buffer) && blocks.has(k2.fvs.buffer)).toBe(true);
    expect(Array.from(ts)).toEqual([1, 2, 3]); // still there until overwritten: hence no view may outlive release
    b.release();
  });

  test('a series longer than a block gets its own block, not pooled', () => {
    const a = new SeriesArena();
    const k = a.reserve((1 << 16) + 1);
    expect(k.fts.length).toBe((1 << 16) + 1);
    const big = k.fts.buffer;
    a.release();
    const b = new SeriesArena();
    expect(b.reserve((1 << 16) + 1).fts.buffer).not.toBe(big);
    b.release();
  });

  test('a second release returns nothing: no block is handed to two arenas', () => {
    const a = new SeriesArena();
    a.reserve(10);
    a.reserve(1 << 16); // a second pair of standard blocks
    a.release();
    a.release();
    const seen = new Set<ArrayBufferLike>();
    const arenas: SeriesArena[] = [];
    for (let i = 0; i < 4; i++) {
      const b = new SeriesArena();
      arenas.push(b);
      const k = b.reserve(1 << 16);
      expect(seen.has(k.fts.buffer) || seen.has(k.fvs.buffer)).toBe(false);
      seen.add(k.fts.buffer);
      seen.add(k.fvs.buffer);
    }
    for (const b of arenas) b.release();
  });
});
