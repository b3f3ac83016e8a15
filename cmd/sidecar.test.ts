import { describe, expect, test } from 'vitest';
import { parseTimeFlag } from './flag-values.js';

const parseMinTime = (v: string, now: number) => parseTimeFlag(v, now, 'min-time');

describe('--min-time', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  test.each([
    ['', undefined],
    ['-2h', now - 7_200_000],
    ['-1d', now - 86_400_000],
    ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z')],
    ['1700000000000', 1_700_000_000_000],
    ['-5', -5],
    ['6h', now + 21_600_000],
  ])('%j', (v, want) => {
    expect(parseMinTime(v, now)).toBe(want);
  });
  test('garbage is a usage error', () => {
    expect(() => parseMinTime('yesterday', now)).toThrow(/--min-time/);
  });
});
