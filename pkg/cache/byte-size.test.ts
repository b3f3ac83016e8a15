import { describe, expect, test } from 'vitest';
import { parseByteSize, parseBytes } from './byte-size.js';

describe('parseByteSize', () => {
  test.each([
    ['0', 0],
    ['512', 512],
    ['512B', 512],
    ['250MB', 250 * 1024 ** 2],
    ['250mib', 250 * 1024 ** 2],
    [' 1.5GiB ', 1.5 * 1024 ** 3],
    ['2TB', 2 * 1024 ** 4],
  ])('%s = %d', (text, want) => expect(parseByteSize(text)).toBe(want));

  test.each(['', 'MB', '1k', '-1MB', '1 PB', '1e3'])('%s is not a size', (text) => expect(parseByteSize(text)).toBeUndefined());

  test('parseBytes takes integers, treats empty as 0 and names the field in errors', () => {
    expect(parseBytes(1024, 'x')).toBe(1024);
    expect(parseBytes(undefined, 'x')).toBe(0);
    expect(() => parseBytes('lots', 'max_size', 'index cache config')).toThrow(/max_size: "lots" is not a byte size/);
  });
});
