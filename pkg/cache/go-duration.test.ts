import { describe, expect, test } from 'vitest';
import { formatGoDuration, parseGoDuration } from './go-duration.js';

describe('formatGoDuration', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [999, '999ms'],
    [1500, '1.5s'],
    [7_200_000, '2h0m0s'],
    [5_400_000, '1h30m0s'],
    [-1_800_000, '-30m0s'],
    [144_000_000, '40h0m0s'],
    [7_185_001, '1h59m45.001s'],
    [3_585_044, '59m45.044s'],
  ])('%i ms = %s', (ms, want) => {
    expect(formatGoDuration(ms)).toBe(want);
    expect(parseGoDuration(want)).toBe(ms);
  });
});
