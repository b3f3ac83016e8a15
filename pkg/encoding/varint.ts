/**
 * Varint helpers (unsigned LEB128 "uvarint", and zig-zag "varint" as Go's encoding/binary). Values are
 * JavaScript numbers: exact up to 2^53; larger encoded values throw a RangeError from the decoders.
 */

/** uvarintSize returns how many bytes putUvarint writes for v (v ≥ 0, integer). */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** putUvarint writes v at buf[off] and returns the new offset. The caller ensures room (≤ 10 bytes). */
export function putUvarint(buf: Uint8Array, off: number, v: number): number {
  while (v >= 0x80) {
    buf[off++] = (v & 0x7f) | 0x80;
    v = v >= 0x100000000 ? Math.floor(v / 128) : v >>> 7;
  }
  buf[off++] = v;
  return off;
}

/** zigzag maps a signed integer to an unsigned one (0,-1,1,-2 → 0,1,2,3). */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** unzigzag is the inverse of zigzag. */
export function unzigzag(u: number): number {
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** putVarint writes v zig-zag encoded and returns the new offset. */
export function putVarint(buf: Uint8Array, off: number, v: number): number {
  return putUvarint(buf, off, zigzag(v));
}
