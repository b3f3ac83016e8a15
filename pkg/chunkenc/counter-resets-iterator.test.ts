import { describe, expect, test } from 'vitest';
import { CounterResetsIterator } from './counter-resets-iterator.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';
import { XorChunk } from './xor-chunk.js';

function xor(points: readonly (readonly [number, number])[]): XorChunk {
  const c = new XorChunk();
  const app = c.appender();
  for (const [t, v] of points) app.append(t, v);
  return c;
}

function drain(it: SampleIterator): [number, number][] {
  const out: [number, number][] = [];
  while (it.next() !== ValueType.None) out.push([it.atT(), it.atF()]);
  expect(it.err()).toBeNull();
  return out;
}

describe('CounterResetsIterator', () => {
  test('resets add the new value; NaN is skipped; repeated timestamps only update the last raw value', () => {
    const it = new CounterResetsIterator(xor([[1, 5], [2, 7], [3, NaN], [4, 2], [5, 3], [5, 1], [6, 4]]).iterator());
    expect(drain(it)).toEqual([[1, 5], [2, 7], [4, 9], [5, 10], [6, 13]]);
    expect(it.lastRaw()).toBe(4);
  });

  test('bounds: samples before mint count but are not emitted; seek does not skip samples', () => {
    const c = xor([[1, 5], [2, 1], [3, 2], [4, 3], [5, 4]]);
    expect(drain(new CounterResetsIterator(c.iterator(), 3, 4))).toEqual([[3, 7], [4, 8]]);
    const it = new CounterResetsIterator(c.iterator());
    expect(it.seek(4)).toBe(ValueType.Float);
    expect([it.atT(), it.atF()]).toEqual([4, 8]);
    expect(it.seek(2)).toBe(ValueType.Float);
    expect(it.atT()).toBe(4);
    expect(it.next()).toBe(ValueType.Float);
    expect([it.atT(), it.atF()]).toEqual([5, 9]);
    expect(it.next()).toBe(ValueType.None);
    expect(it.next()).toBe(ValueType.None);
  });

  test('reset reuses the iterator', () => {
    const it = new CounterResetsIterator(xor([[1, 1]]).iterator());
    expect(drain(it)).toEqual([[1, 1]]);
    expect(drain(it.reset(xor([[1, 3], [2, 1]]).iterator()))).toEqual([[1, 3], [2, 4]]);
  });
});
