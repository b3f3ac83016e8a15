import { crc32c } from './crc32c.js';
import { putUvarint, zigzag } from './varint.js';

const textEncoder = new TextEncoder();
/** scratch holds the UTF-8 bytes of a string while its length prefix is written; grown as needed. */
let scratch = new Uint8Array(1024);

/**
 * Encbuf is a growable big-endian byte writer (Prometheus's encoding.Encbuf). It preallocates and
 * doubles; get() returns a view of the written bytes (valid until the next write or reset).
 */
export class Encbuf {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialSize = 1024) {
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** len is the number of bytes written. */
  get len(): number {
    return this.#len;
  }

  /** reset forgets the content, keeping the allocation. */
  reset(): void {
    this.#len = 0;
  }

  /** get returns a view of the written bytes. */
  get(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** ensure makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.#buf.subarray(0, this.#len));
    this.#buf = nb;
    this.#view = new DataView(nb.buffer);
  }

  putByte(b: number): void {
    this.ensure(1);
    this.#buf[this.#len++] = b;
  }

  putBytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  putBE16(v: number): void {
    this.ensure(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
  }

  putBE32(v: number): void {
    this.ensure(4);
    this.#view.setUint32(this.#len, v >>> 0);
    this.#len += 4;
  }

  /** putBE64 writes a non-negative integer < 2^53 as 8 big-endian bytes. */
  putBE64(v: number): void {
    this.ensure(8);
    this.#view.setUint32(this.#len, Math.floor(v / 0x100000000));
    this.#view.setUint32(this.#len + 4, v >>> 0);
    this.#len += 8;
  }

  /** putBE64Int writes a signed integer (|v| < 2^53) as two's-complement int64, big-endian. */
  putBE64Int(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / 0x100000000);
    this.#view.setInt32(this.#len, hi);
    this.#view.setUint32(this.#len + 4, (v - hi * 0x100000000) >>> 0);
    this.#len += 8;
  }

  putFloat64(v: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.#len, v);
    this.#len += 8;
  }

  putUvarint(v: number): void {
    this.ensure(10);
    this.#len = putUvarint(this.#buf, this.#len, v);
  }

  putVarint(v: number): void {
    this.putUvarint(zigzag(v));
  }

  /** putUvarintStr writes a uvarint byte length followed by the UTF-8 bytes of s, without allocating per call. */
  putUvarintStr(s: string): void {
    if (s.length * 3 > scratch.length) scratch = new Uint8Array(s.length * 3);
    const { written } = textEncoder.encodeInto(s, scratch);
    this.putUvarint(written);
    this.putBytes(scratch.subarray(0, written));
  }

  /** putUvarintBytes writes a uvarint length followed by b. */
  putUvarintBytes(b: Uint8Array): void {
    this.putUvarint(b.length);
    this.putBytes(b);
  }

  /** putHash appends the CRC32C of the written bytes from `from` to the end, big-endian. */
  putCRC32C(from = 0): void {
    const c = crc32c(this.#buf, 0, from, this.#len);
    this.putBE32(c);
  }

  /** setBE32 overwrites 4 bytes at off (for back-patched lengths). */
  setBE32(off: number, v: number): void {
    this.#view.setUint32(off, v >>> 0);
  }
}
