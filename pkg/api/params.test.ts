import { describe, expect, test } from 'vitest';
import { parseDuration, parseLimit, parseTime } from './params.js';

describe('parseTime', () => {
  test.each([
    ['1700000000', 1700000000000],
    ['1700000000.123', 1700000000123],
    ['1700000000.9996', 1700000001000],
    ['1e9', 1e12],
    ['-1.5', -1500],
    ['0.57', 570],
    ['2023-11-14T22:13:20.123Z', 1700000000123],
    ['2023-11-14T22:13:20.1239Z', 1700000000123],
    ['2026-01-01T01:00:00+01:00', Date.UTC(2026, 0, 1)],
    ['2023-11-14T22:13:20Z', 1700000000000],
  ])('%s → %s', (s, want) => {
    expect(parseTime(s)).toBe(want);
  });
  test.each(['', '5m', 'NaN', 'Inf', '2023-11-14 22:13:20Z', '2023-02-30T00:00:00Z', '2023-11-14T22:13:20', '2023-11-14T22:13:20z', '1e400'])('rejects %j', (s) => {
    expect(() => parseTime(s)).toThrow(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
  });
});

describe('parseDuration', () => {
  test.each([
    ['15', 15_000],
    ['2.5', 2500],
    ['1.5e4', 15_000_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['100ms', 100],
    ['0', 0],
    ['-1', -1000],
  ])('%s → %s ms', (s, want) => {
    expect(parseDuration(s)).toBe(want);
  });
  test.each(['', '0.5m', '30m1h', '100ms500ms', '1ns', '1us', 'abc', '5 m'])('rejects %j', (s) => {
    expect(() => parseDuration(s)).toThrow(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  });
  test('overflow text', () => {
    expect(() => parseDuration('1e20')).toThrow('cannot parse "1e20" to a valid duration. It overflows int64');
  });
});

test('parseLimit', () => {
  expect(parseLimit('')).toBe(0);
  expect(parseLimit('7')).toBe(7);
  expect(() => parseLimit('-1')).toThrow('limit must be non-negative');
  expect(() => parseLimit('x')).toThrow('strconv.Atoi: parsing "x": invalid syntax');
});
