import { describe, expect, test } from 'vitest';
import { formatFloat, formatPlainFloat, formatScalarTimestamp, formatTimestamp } from './float-format.js';
import { jsonString } from './json-string.js';

describe('formatFloat (vector/matrix values, Go jsonutil.MarshalFloat)', () => {
  test.each([
    [1, '1'],
    [0.000001, '0.000001'],
    [1e-7, '1e-07'],
    [9.99e-7, '9.99e-07'],
    [1e20, '100000000000000000000'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [123456789012345678, '123456789012345680'],
    [0.1 + 0.2, '0.30000000000000004'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [-0, '-0'],
    [0, '0'],
    [-2.5e-10, '-2.5e-10'],
    [1e100, '1e+100'],
  ])('%s → %s', (v, want) => {
    expect(formatFloat(v)).toBe(want);
  });
});

describe('formatPlainFloat (scalar results, Go FormatFloat(f, f, -1, 64))', () => {
  test.each([
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
    [2 ** 70, '1180591620717411300000'],
    [1.5e-10, '0.00000000015'],
    [-1.25e22, '-12500000000000000000000'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-0, '-0'],
    [1435781451.5, '1435781451.5'],
  ])('%s → %s', (v, want) => {
    expect(formatPlainFloat(v)).toBe(want);
  });
});

describe('timestamps', () => {
  test.each([
    [1435781451781, '1435781451.781'],
    [1435781451000, '1435781451'],
    [1435781451500, '1435781451.500'],
    [1435781451050, '1435781451.050'],
    [1435781451005, '1435781451.005'],
    [-1500, '-1.500'],
    [0, '0'],
  ])('sample ts %s → %s', (ms, want) => {
    expect(formatTimestamp(ms)).toBe(want);
  });
  test.each([
    [1435781451500, '1435781451.5'],
    [1435781451050, '1435781451.05'],
    [1435781451000, '1435781451'],
  ])('scalar ts %s → %s', (ms, want) => {
    expect(formatScalarTimestamp(ms)).toBe(want);
  });
});

test('jsonString escapes like Go encoding/json', () => {
  expect(jsonString('a<b>&c"\n\u2028é')).toBe('"a\\u003cb\\u003e\\u0026c\\"\\n\\u2028é"');
});
