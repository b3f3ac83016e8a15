import { describe, expect, test } from 'vitest';
import { lowerBound, upperBound } from './sorted-bounds.js';

describe('lowerBound / upperBound', () => {
  const a = new Float64Array([10, 20, 20, 30, 99]);
  test('find the first index at or after, and after, t within a[0..n)', () => {
    expect([5, 10, 15, 20, 25, 30, 31].map((t) => lowerBound(a, 4, t))).toEqual([0, 0, 1, 1, 3, 3, 4]);
    expect([5, 10, 15, 20, 25, 30, 31].map((t) => upperBound(a, 4, t))).toEqual([0, 1, 1, 3, 3, 4, 4]);
  });
  test('an empty prefix gives 0', () => {
    expect(lowerBound(a, 0, 10)).toBe(0);
    expect(upperBound(a, 0, 10)).toBe(0);
  });
});
