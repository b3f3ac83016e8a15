import { describe, expect, test } from 'vitest';
import { ProtoReader } from './proto-reader.js';

describe('ProtoReader.bytesView', () => {
  test('is a plain Uint8Array view of the field, also over a Buffer at an offset', () => {
    const backing = Buffer.from([9, 9, 3, 1, 2, 3, 7]);
    const buf = backing.subarray(2); // length 3, then the 3 bytes, then a trailing byte
    const r = new ProtoReader(buf);
    const v = r.bytesView();
    expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
    expect([...v]).toEqual([1, 2, 3]);
    expect(v.buffer).toBe(backing.buffer); // a view, not a copy
    expect(r.pos).toBe(4);
  });

  test('fails on a length beyond the message', () => {
    const r = new ProtoReader(new Uint8Array([5, 1, 2]));
    expect(() => r.bytesView()).toThrow(/beyond end of message/);
  });
});
