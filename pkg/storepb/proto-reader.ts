import { decodeUtf8 } from '../encoding/index.js';
import { TesseraError } from '../errors/index.js';
import { WireType } from './proto-writer.js';

const TWO_32 = 4294967296;

/** ProtoDecodeError reports malformed protobuf input: what was read and at which offset. */
export class ProtoDecodeError extends TesseraError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('TESSERA_PROTO_DECODE', message);
    this.offset = offset;
  }
}

/**
 * ProtoReader reads protobuf wire format from a byte view. bytes() returns subarray views of the
 * input (no copy): they stay valid as long as the caller keeps the input unmodified.
 *
 * Errors throw ProtoDecodeError naming the offset; `what` names the message being decoded.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** lo and hi hold the halves of the last varint64 read by varint64(). */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  #fail(what: string): never {
    throw new ProtoDecodeError(`decode protobuf: ${what} at offset ${this.pos}`, this.pos);
  }

  /** done reports whether the reader reached its end. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** uint32 reads a varint and returns its low 32 bits as an unsigned number. */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let shift = 0;
    for (;;) {
      if (p >= this.end) this.#fail('truncated varint');
      const c = b[p++]!;
      if (shift < 32) v |= (c & 0x7f) << shift;
      if (c < 0x80) break;
      shift += 7;
      if (shift >= 70) this.#fail('varint longer than 10 bytes');
    }
    this.pos = p;
    return v >>> 0;
  }

  /** int32 reads a varint as a signed 32-bit integer (enums). */
  int32(): number {
    return this.uint32() | 0;
  }

  /** varint64 reads a 64-bit varint into this.lo / this.hi (unsigned halves). */
  varint64(): void {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (p >= this.end) this.#fail('truncated varint');
      const c = b[p++]!;
      const bits = c & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else if (shift < 64) hi |= bits << (shift - 32);
      if (c < 0x80) break;
      shift += 7;
      if (shift >= 70) this.#fail('varint longer than 10 bytes');
    }
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** int64 reads a signed 64-bit varint as a number (exact below 2^53; MaxInt64 becomes 2^63). */
  int64(): number {
    this.varint64();
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  /** bool reads a varint as a boolean. */
  bool(): boolean {
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** length reads a length prefix and checks that the body fits. */
  length(): number {
    const n = this.uint32();
    if (n > this.end - this.pos) this.#fail(`length ${n} beyond end of message (${this.end - this.pos} bytes left)`);
    return n;
  }

  /** bytes reads a length-delimited field as a view of the input (no copy). */
  bytes(): Uint8Array {
    const n = this.length();
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * bytesView is bytes() as a plain Uint8Array view even when the input is a Node Buffer (whose
   * subarray builds a Buffer through JavaScript): cheaper per field, and readers of the bytes see one
   * kind of array.
   */
  bytesView(): Uint8Array {
    const n = this.length();
    const b = this.buf;
    const v = new Uint8Array(b.buffer, b.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  /** double reads a little-endian IEEE 754 double (wire type Fixed64). */
  double(): number {
    if (this.pos + 8 > this.end) this.#fail('double beyond end of message');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** string reads a length-delimited UTF-8 string. */
  string(): string {
    const n = this.length();
    const s = decodeUtf8(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** skip skips a field of the given wire type (unknown fields). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint64();
        return;
      case WireType.Fixed64:
        this.#advance(8);
        return;
      case WireType.LengthDelimited:
        this.#advance(this.length());
        return;
      case WireType.Fixed32:
        this.#advance(4);
        return;
      default:
        this.#fail(`unsupported wire type ${wireType}`);
    }
  }

  #advance(n: number): void {
    if (this.pos + n > this.end) this.#fail(`field of ${n} bytes beyond end of message`);
    this.pos += n;
  }

  /** sub returns a reader over the next length-delimited body and advances past it. */
  sub(): ProtoReader {
    const n = this.length();
    const r = new ProtoReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** subEnd reads a length prefix and returns the end offset of the body; the caller parses up to it. */
  subEnd(): number {
    const n = this.length();
    return this.pos + n;
  }

  /** expectEnd checks that a nested message parsed with subEnd() ended exactly at end. */
  expectEnd(end: number, what: string): void {
    if (this.pos !== end) this.#fail(`${what} overruns its length (ends at ${end})`);
  }

  /** repeatedInt32 reads a repeated enum/int32 field in packed or unpacked form into out. */
  repeatedInt32(wireType: number, out: number[]): void {
    if (wireType === WireType.LengthDelimited) {
      const end = this.subEnd();
      while (this.pos < end) out.push(this.int32());
      this.expectEnd(end, 'packed varints');
    } else out.push(this.int32());
  }
}
