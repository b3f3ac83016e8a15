import { describe, expect, test } from 'vitest';
import { crc32c, Decbuf, Encbuf, verifyCRC32C } from './index.js';

describe('crc32c', () => {
  test.each([
    ['', 0x00000000],
    ['a', 0xc1d04330],
    ['123456789', 0xe3069283],
    ['The quick brown fox jumps over the lazy dog', 0x22620404],
  ])('crc32c(%j) is the Castagnoli checksum', (s, want) => {
    expect(crc32c(new TextEncoder().encode(s))).toBe(want);
  });

  test('continues across pieces', () => {
    const b = new TextEncoder().encode('123456789abcdefghijklmnop');
    expect(crc32c(b.subarray(10), crc32c(b.subarray(0, 10)))).toBe(crc32c(b));
  });
});

describe('Encbuf/Decbuf', () => {
  test('round-trips every field type', () => {
    const e = new Encbuf(4);
    e.putByte(7);
    e.putBE32(0xdeadbeef);
    e.putBE64(2 ** 53 - 1);
    e.putBE64Int(-5);
    e.putUvarint(300);
    e.putVarint(-12345678901);
    e.putUvarintStr('héllo');
    e.putFloat64(Math.PI);
    const d = new Decbuf(e.get());
    expect([d.byte(), d.be32(), d.be64(), d.be64Int(), d.uvarint(), d.varint(), d.uvarintStr(), d.float64()]).toEqual([
      7, 0xdeadbeef, 2 ** 53 - 1, -5, 300, -12345678901, 'héllo', Math.PI,
    ]);
    expect(d.err()).toBeNull();
    expect(d.remaining).toBe(0);
  });

  test('sticky error names the offset', () => {
    const d = new Decbuf(new Uint8Array([1, 2, 3]), 100);
    d.byte();
    d.be32();
    expect(d.be16()).toBe(0);
    expect(d.err()?.offset).toBe(101);
    expect(d.err()?.message).toMatch(/offset 101/);
  });

  test('verifyCRC32C detects a flipped bit', () => {
    const e = new Encbuf();
    e.putUvarintStr('section');
    e.putCRC32C();
    const b = e.get().slice();
    expect(verifyCRC32C(b, 0, b.length - 4, 'test')).toBeNull();
    b[2]! ^= 1;
    expect(verifyCRC32C(b, 0, b.length - 4, 'test')?.code).toBe('TESSERA_DECODE_INVALID_CHECKSUM');
  });
});
