import { PrompbError, PrompbErrorCode } from './errors.js';

const utf8 = new TextDecoder('utf-8');
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** WireType is the protobuf wire type of a field. */
export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;

/**
 * ProtoReader reads protobuf wire format from a byte view. Every read is bounds-checked and throws
 * a PrompbError naming the offset (relative to `base`, the view's position in the payload).
 * `bytes()` returns subarray views, never copies.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly base: number;
  readonly what: string;

  constructor(buf: Uint8Array, what: string, base = 0, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.base = base;
    this.what = what;
  }

  /** done reports whether the reader is at the end of its range. */
  done(): boolean {
    return this.pos >= this.end;
  }

  fail(msg: string, at = this.pos): never {
    throw new PrompbError(PrompbErrorCode.Decode, `decode ${this.what}: ${msg} at offset ${this.base + at}`, this.base + at);
  }

  /** uint32 reads a varint and returns its low 32 bits as an unsigned number (enums, tags, lengths). */
  uint32(): number {
    const start = this.pos;
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v > 0xffffffff ? v % 0x100000000 : v;
    }
    // Upper bytes of a 64-bit varint: skip them (value truncated to 32 bits, like Go's uint32 cast).
    for (let i = 5; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      if (this.buf[this.pos++]! < 0x80) return v % 0x100000000;
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** int64 reads a two's-complement int64 varint as a number (exact below 2^53). */
  int64(): number {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b = 0x80;
    while (b >= 0x80) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      if (shift >= 70) this.fail('varint longer than 10 bytes', start);
      b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) {
        lo |= bits << shift;
      } else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else {
        hi |= bits << (shift - 32);
      }
      shift += 7;
    }
    lo >>>= 0;
    return (hi | 0) * 0x100000000 + lo;
  }

  /** bool reads a varint as a boolean. */
  bool(): boolean {
    return this.int64() !== 0;
  }

  /** double reads a little-endian float64. */
  double(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.buf[this.pos + i]!;
    this.pos += 8;
    return f64[0]!;
  }

  /** bytes reads a length-delimited field and returns a view of it. */
  bytes(): Uint8Array {
    const start = this.pos;
    const n = this.uint32();
    if (n > this.end - this.pos) this.fail(`length ${n} exceeds the ${this.end - this.pos} remaining bytes`, start);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** sub returns a reader over the next length-delimited field (a nested message). */
  sub(what: string): ProtoReader {
    const start = this.pos;
    const n = this.uint32();
    if (n > this.end - this.pos) this.fail(`length ${n} exceeds the ${this.end - this.pos} remaining bytes`, start);
    const r = new ProtoReader(this.buf, what, this.base, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** string reads a length-delimited UTF-8 string. */
  string(): string {
    const b = this.bytes();
    return b.length === 0 ? '' : utf8.decode(b);
  }

  /** skip skips a field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.int64();
        return;
      case WireType.Fixed64:
        if (this.pos + 8 > this.end) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case WireType.Bytes:
        this.bytes();
        return;
      case WireType.Fixed32:
        if (this.pos + 4 > this.end) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  /**
   * repeatedVarint reads a repeated varint field given its wire type, accepting the packed
   * (length-delimited) and unpacked forms, and pushes the values into out.
   */
  repeatedVarint(wireType: number, out: number[]): void {
    if (wireType === WireType.Bytes) {
      const r = this.sub(this.what);
      while (!r.done()) out.push(r.int64());
    } else if (wireType === WireType.Varint) {
      out.push(this.int64());
    } else {
      this.fail(`wire type ${wireType} for a repeated varint field`);
    }
  }

  /** expect throws unless the wire type is the expected one. */
  expect(wireType: number, expected: number, field: string): void {
    if (wireType !== expected) this.fail(`field ${field} has wire type ${wireType}, want ${expected}`);
  }
}
