import { describe, expect, test } from 'vitest';
import { ValueType, XorChunk, type Chunk } from '../chunkenc/index.js';
import { ChunkListIterator } from './chunk-list-iterator.js';

function chunk(ts: number[]): Chunk {
  const c = new XorChunk();
  const app = c.appender();
  for (const t of ts) app.append(t, t * 10);
  return c;
}

function drain(it: ChunkListIterator): number[] {
  const out: number[] = [];
  while (it.next() !== ValueType.None) {
    expect(it.atF()).toBe(it.atT() * 10);
    out.push(it.atT());
  }
  return out;
}

describe('ChunkListIterator', () => {
  const chunks = [chunk([1, 2, 3]), chunk([10, 11]), chunk([20, 21, 22])];

  test('iterates all chunks in order', () => {
    expect(drain(new ChunkListIterator(chunks))).toEqual([1, 2, 3, 10, 11, 20, 21, 22]);
  });

  test('trims to [mint, maxt]', () => {
    expect(drain(new ChunkListIterator(chunks, 3, 20))).toEqual([3, 10, 11, 20]);
    expect(drain(new ChunkListIterator(chunks, 4, 9))).toEqual([]);
  });

  test('seek never moves backwards and crosses chunks', () => {
    const it = new ChunkListIterator(chunks);
    expect(it.seek(5)).toBe(ValueType.Float);
    expect(it.atT()).toBe(10);
    expect(it.seek(2)).toBe(ValueType.Float);
    expect(it.atT()).toBe(10);
    expect(it.seek(22)).toBe(ValueType.Float);
    expect(it.atT()).toBe(22);
    expect(it.seek(23)).toBe(ValueType.None);
    expect(it.next()).toBe(ValueType.None);
  });

  test('reset reuses the iterator', () => {
    const it = new ChunkListIterator(chunks);
    drain(it);
    expect(drain(it.reset([chunks[1]!]))).toEqual([10, 11]);
  });
});
