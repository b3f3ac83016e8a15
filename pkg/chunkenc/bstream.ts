/**
 * BitWriter is the growable bit stream behind chunk encoders (Prometheus's bstream): bits are written
 * most-significant first inside each byte, the unused low bits of the last byte are zero.
 *
 * It also remembers the width of the last field written, so that a chunk can emulate the extra 0x00
 * byte that pre-3.0 Prometheus writers leave after a byte-aligned whole-byte field (chunks.md §2).
 */
export class BitWriter {
  #buf: Uint8Array;
  #bits = 0;
  #lastWidth = 0;

  /** The writer starts with `headerBytes` zero bytes already written (the chunk header). */
  constructor(headerBytes = 0, initialSize = 128) {
    this.#buf = new Uint8Array(Math.max(initialSize, headerBytes + 16));
    this.#bits = headerBytes * 8;
  }

  /** fromBytes makes a writer continuing after `bits` bits of a copy of data. */
  static fromBytes(data: Uint8Array, bits: number): BitWriter {
    const w = new BitWriter(0, Math.max(128, data.length * 2));
    const nbytes = Math.ceil(bits / 8);
    w.#buf.set(data.subarray(0, nbytes));
    // Clear any bits after `bits` in the last byte (they must be zero for OR-writing).
    const rem = bits & 7;
    if (rem !== 0) w.#buf[nbytes - 1]! &= (0xff << (8 - rem)) & 0xff;
    w.#bits = bits;
    return w;
  }

  /** bitLength is the number of bits written (including header bytes). */
  get bitLength(): number {
    return this.#bits;
  }

  /** lastWidth is the width in bits of the last field written with writeBits/writeBits64/writeByte. */
  get lastWidth(): number {
    return this.#lastWidth;
  }

  /** buffer is the underlying storage (at least byteLength(…) bytes, zero beyond the written bits). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /**
   * byteLength is ceil(bits / 8), plus one when `legacyPad` is set and a pre-3.0 writer would have
   * left an empty trailing byte (stream byte-aligned and the last field a whole number of bytes).
   */
  byteLength(legacyPad = false): number {
    const n = (this.#bits + 7) >>> 3;
    if (legacyPad && (this.#bits & 7) === 0 && this.#lastWidth > 0 && (this.#lastWidth & 7) === 0) return n + 1;
    return n;
  }

  #ensure(extraBits: number): void {
    const need = ((this.#bits + extraBits + 7) >>> 3) + 1;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.#buf);
    this.#buf = nb;
  }

  /** writeBit appends one bit (0 or 1). */
  writeBit(bit: number): void {
    this.#ensure(1);
    const pos = this.#bits;
    if (bit !== 0) this.#buf[pos >>> 3]! |= 0x80 >>> (pos & 7);
    this.#bits = pos + 1;
    this.#lastWidth = 1;
  }

  /** writeBits appends the low n bits of v (1 ≤ n ≤ 32), highest first. */
  writeBits(v: number, n: number): void {
    this.#ensure(n);
    this.#put(v, n);
    this.#lastWidth = n;
  }

  /** writeByte appends 8 bits (a whole-byte field, possibly split across two bytes). */
  writeByte(v: number): void {
    this.writeBits(v & 0xff, 8);
  }

  /** writeBits64 appends the low n bits (1 ≤ n ≤ 64) of the 64-bit value hi:lo (two uint32 halves). */
  writeBits64(hi: number, lo: number, n: number): void {
    this.#ensure(n);
    if (n > 32) {
      const h = n - 32;
      this.#put(h === 32 ? hi : hi & ((1 << h) - 1), h);
      this.#put(lo, 32);
    } else {
      this.#put(lo, n);
    }
    this.#lastWidth = n;
  }

  #put(v: number, n: number): void {
    const buf = this.#buf;
    let pos = this.#bits;
    this.#bits = pos + n;
    while (n > 0) {
      const free = 8 - (pos & 7);
      if (n >= free) {
        n -= free;
        buf[pos >>> 3]! |= (v >>> n) & ((1 << free) - 1);
        pos += free;
      } else {
        buf[pos >>> 3]! |= (v & ((1 << n) - 1)) << (free - n);
        return;
      }
    }
  }
}
