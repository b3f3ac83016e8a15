import { describe, expect, test } from 'vitest';
import { BlockNumbers } from './block-numbers.js';

describe('BlockNumbers', () => {
  test('numbers blocks in order of first use, the same number again, none beyond max', () => {
    const n = new BlockNumbers(2);
    expect(n.of('b')).toBe(0);
    expect(n.of('a')).toBe(1);
    expect(n.of('b')).toBe(0);
    expect(n.of('c')).toBeUndefined();
    expect(n.of('a')).toBe(1);
  });
});
