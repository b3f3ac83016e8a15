import { describe, expect, test } from 'vitest';
import { formatPromDuration, formatPromTime, parsePromDuration } from './index.js';

describe('Prometheus durations and times', () => {
  test.each([
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['15d', 1_296_000_000],
    ['500ms', 500],
    ['1y2w', 31_536_000_000 + 1_209_600_000],
    ['0s', 0],
    ['0', 0],
    ['', undefined],
    ['2', undefined],
    ['h', undefined],
    ['1.5h', undefined],
    ['2h ', undefined],
  ])('parsePromDuration(%j) = %j', (s, want) => {
    expect(parsePromDuration(s)).toBe(want);
  });

  test.each([[7_200_000, '2h'], [5_400_500, '1h30m500ms'], [0, '0s'], [1_296_000_000, '2w1d']])('formatPromDuration(%j) = %j', (ms, want) => {
    expect(formatPromDuration(ms)).toBe(want);
    expect(parsePromDuration(want)).toBe(ms);
  });

  test.each([
    [1_700_000_000_123, '1700000000.123'],
    [1_700_000_000_000, '1700000000'],
    [-1500, '-1.500'],
    [-(2 ** 63), '-62135596801'],
    [2 ** 63, '253402300799'],
  ])('formatPromTime(%j) = %j', (ms, want) => {
    expect(formatPromTime(ms)).toBe(want);
  });
});
