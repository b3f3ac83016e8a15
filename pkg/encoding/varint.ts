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

/** UvarintRead receives what readUvarint decoded: the value and the offset just after it. */
export interface UvarintRead {
  value: number;
  next: number;
}

/** UvarintStatus is readUvarint's result. */
export const UvarintStatus = {
  /** Decoded; the UvarintRead is filled in. */
  OK: 0,
  /** buf ended (at `end`) before the last byte: more bytes are needed. */
  Short: 1,
  /** More than maxBytes bytes, or a value beyond 2^53: not a valid field. */
  Invalid: 2,
} as const;
export type UvarintStatus = (typeof UvarintStatus)[keyof typeof UvarintStatus];

/**
 * readUvarint decodes the uvarint at buf[at], reading at most maxBytes bytes and none at or after
 * `end`, into `out` (a caller-owned object reused across calls: nothing is allocated). It reads
 * the length fields of index series entries and chunk records for pkg/tsdb and the bucket store,
 * which need to tell "more bytes needed" from "invalid". Fields inside a buffer already in hand are
 * read with Decbuf.uvarint, whose inline loop is about twice as fast per value (measured) and
 * worth keeping on the per-field paths.
 */
export function readUvarint(buf: Uint8Array, at: number, end: number, maxBytes: number, out: UvarintRead): UvarintStatus {
  let value = 0;
  let mul = 1;
  const stop = Math.min(end, at + maxBytes);
  for (let p = at; p < stop; p++) {
    const b = buf[p]!;
    value += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (value > Number.MAX_SAFE_INTEGER) return UvarintStatus.Invalid;
      out.value = value;
      out.next = p + 1;
      return UvarintStatus.OK;
    }
    mul *= 128;
  }
  return stop === at + maxBytes ? UvarintStatus.Invalid : UvarintStatus.Short;
}
