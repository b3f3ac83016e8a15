import { TesseraError } from '../errors/index.js';
import { crc32c } from './crc32c.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** ErrInvalidSize and friends are the codes a Decbuf's sticky error carries. */
export const DecodeErrorCode = {
  InvalidSize: 'TESSERA_DECODE_INVALID_SIZE',
  InvalidChecksum: 'TESSERA_DECODE_INVALID_CHECKSUM',
  Overflow: 'TESSERA_DECODE_OVERFLOW',
} as const;

/** DecodeError is the sticky error of a Decbuf: what went wrong and at which offset of which buffer. */
export class DecodeError extends TesseraError {
  readonly offset: number;
  constructor(code: string, message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

/**
 * Decbuf is a bounds-checked big-endian reader over a byte view with a sticky error (Prometheus's
 * encoding.Decbuf): after the first failure every read returns 0/'' and err() reports the first
 * problem with its absolute offset. Read several fields, then check err() once.
 *
 * `base` is the absolute offset of data[0] in the underlying file, used in error messages.
 */
export class Decbuf {
  #data: Uint8Array;
  #view: DataView;
  #off = 0;
  #err: DecodeError | null = null;
  readonly base: number;

  constructor(data: Uint8Array, base = 0) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.base = base;
  }

  /** err returns the first error, or null. */
  err(): DecodeError | null {
    return this.#err;
  }

  /** offset is the current read position relative to data[0]. */
  get offset(): number {
    return this.#off;
  }

  /** remaining is the number of unread bytes. */
  get remaining(): number {
    return this.#data.length - this.#off;
  }

  /** fail records an error (if none yet) at the current position. */
  fail(code: string, what: string): void {
    if (this.#err === null) {
      this.#err = new DecodeError(code, `${what} at offset ${this.base + this.#off}`, this.base + this.#off);
    }
    this.#off = this.#data.length;
  }

  #need(n: number, what: string): boolean {
    if (this.#err !== null) return false;
    if (n < 0 || this.#off + n > this.#data.length) {
      this.fail(DecodeErrorCode.InvalidSize, `invalid size: ${what} needs ${n} bytes, ${this.#data.length - this.#off} left`);
      return false;
    }
    return true;
  }

  /** skip advances n bytes. */
  skip(n: number): void {
    if (this.#need(n, 'skip')) this.#off += n;
  }

  /** seek moves to an absolute position within data. */
  seek(off: number): void {
    if (this.#err !== null) return;
    if (off < 0 || off > this.#data.length) {
      this.fail(DecodeErrorCode.InvalidSize, `invalid size: seek to ${off} beyond ${this.#data.length}`);
      return;
    }
    this.#off = off;
  }

  byte(): number {
    if (!this.#need(1, 'byte')) return 0;
    return this.#data[this.#off++]!;
  }

  be16(): number {
    if (!this.#need(2, 'uint16')) return 0;
    const v = this.#view.getUint16(this.#off);
    this.#off += 2;
    return v;
  }

  be32(): number {
    if (!this.#need(4, 'uint32')) return 0;
    const v = this.#view.getUint32(this.#off);
    this.#off += 4;
    return v;
  }

  /** be64 reads an unsigned 64-bit integer; values ≥ 2^53 set an Overflow error. */
  be64(): number {
    if (!this.#need(8, 'uint64')) return 0;
    const hi = this.#view.getUint32(this.#off);
    const lo = this.#view.getUint32(this.#off + 4);
    if (hi > 0x1fffff) {
      this.fail(DecodeErrorCode.Overflow, 'uint64 value beyond 2^53');
      return 0;
    }
    this.#off += 8;
    return hi * 0x100000000 + lo;
  }

  /** be64Int reads a signed 64-bit integer (two's complement). */
  be64Int(): number {
    if (!this.#need(8, 'int64')) return 0;
    const hi = this.#view.getInt32(this.#off);
    const lo = this.#view.getUint32(this.#off + 4);
    this.#off += 8;
    return hi * 0x100000000 + lo;
  }

  float64(): number {
    if (!this.#need(8, 'float64')) return 0;
    const v = this.#view.getFloat64(this.#off);
    this.#off += 8;
    return v;
  }

  /** uvarint reads an unsigned LEB128 value (exact below 2^53). */
  uvarint(): number {
    if (this.#err !== null) return 0;
    const d = this.#data;
    let off = this.#off;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (off >= d.length) {
        this.fail(DecodeErrorCode.InvalidSize, 'invalid size: truncated varint');
        return 0;
      }
      const b = d[off++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) {
          this.fail(DecodeErrorCode.Overflow, 'varint value beyond 2^53');
          return 0;
        }
        this.#off = off;
        return result;
      }
      mul *= 128;
    }
    this.fail(DecodeErrorCode.Overflow, 'varint overflows 64 bits');
    return 0;
  }

  /** varint reads a zig-zag encoded signed value. */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** uvarint32 reads a uvarint that must fit in 32 bits. */
  uvarint32(): number {
    const v = this.uvarint();
    if (v > 0xffffffff) {
      this.fail(DecodeErrorCode.Overflow, 'uvarint value beyond 32 bits');
      return 0;
    }
    return v;
  }

  /** bytes returns a view (no copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    if (!this.#need(n, 'bytes')) return new Uint8Array(0);
    const b = this.#data.subarray(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }

  /** uvarintBytes reads a uvarint length and returns a view of that many bytes. */
  uvarintBytes(): Uint8Array {
    const n = this.uvarint();
    return this.bytes(n);
  }

  /** uvarintStr reads a uvarint length and decodes that many UTF-8 bytes. */
  uvarintStr(): string {
    const n = this.uvarint();
    if (!this.#need(n, 'string')) return '';
    const s = decodeUtf8(this.#data, this.#off, this.#off + n);
    this.#off += n;
    return s;
  }
}

/** decodeUtf8 decodes data[start:end) as UTF-8, with a fast path for ASCII. */
export function decodeUtf8(data: Uint8Array, start: number, end: number): string {
  if (end - start < 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (data[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(data[i]!);
      return s;
    }
  }
  return textDecoder.decode(data.subarray(start, end));
}

/**
 * verifyCRC32C checks that the 4 big-endian bytes after data[start:end) hold its CRC32C. Returns an
 * error describing the mismatch (with `what` naming the section) or null.
 */
export function verifyCRC32C(data: Uint8Array, start: number, end: number, what: string, base = 0): DecodeError | null {
  if (end + 4 > data.length || start < 0 || start > end) {
    return new DecodeError(DecodeErrorCode.InvalidSize, `invalid size: ${what} checksum beyond end of data at offset ${base + end}`, base + end);
  }
  const want = ((data[end]! << 24) | (data[end + 1]! << 16) | (data[end + 2]! << 8) | data[end + 3]!) >>> 0;
  const got = crc32c(data, 0, start, end);
  if (want !== got) {
    return new DecodeError(
      DecodeErrorCode.InvalidChecksum,
      `invalid checksum: ${what} at offset ${base + start}: stored ${want.toString(16)}, computed ${got.toString(16)}`,
      base + start,
    );
  }
  return null;
}
