const utf8 = new TextEncoder();
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const TWO32 = 0x100000000;

/**
 * ProtoWriter writes protobuf wire format into a growable buffer (doubling). Nested messages are
 * written with fork()/join(): join computes the length and moves the body right by the size of
 * the length prefix.
 */
export class ProtoWriter {
  #buf: Uint8Array;
  #pos = 0;
  readonly #stack: number[] = [];

  constructor(initialSize = 256) {
    this.#buf = new Uint8Array(initialSize);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.#buf.subarray(0, this.#pos));
    this.#buf = nb;
  }

  /** tag writes a field key. */
  tag(field: number, wireType: number): this {
    return this.uint32((field << 3) | wireType);
  }

  /** uint32 writes an unsigned varint (v < 2^32). */
  uint32(v: number): this {
    this.#ensure(5);
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buf[this.#pos++] = v;
    return this;
  }

  /**
   * int64 writes a number as a two's-complement int64 varint. Values at or beyond ±2^63 are clamped
   * to MaxInt64/MinInt64 (a number cannot hold MaxInt64 exactly).
   */
  int64(v: number): this {
    let lo: number;
    let hi: number;
    if (v >= 2 ** 63) {
      hi = 0x7fffffff;
      lo = 0xffffffff;
    } else if (v <= -(2 ** 63)) {
      hi = 0x80000000;
      lo = 0;
    } else if (v >= 0) {
      hi = Math.floor(v / TWO32);
      lo = v - hi * TWO32;
    } else {
      const m = -v;
      let mhi = Math.floor(m / TWO32);
      let mlo = m - mhi * TWO32;
      // two's complement negation of (mhi, mlo)
      mlo = (~mlo + 1) >>> 0;
      mhi = (~mhi + (mlo === 0 ? 1 : 0)) >>> 0;
      hi = mhi;
      lo = mlo;
    }
    this.#ensure(10);
    while (hi !== 0 || lo >= 0x80) {
      this.#buf[this.#pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buf[this.#pos++] = lo;
    return this;
  }

  /** bool writes a boolean varint. */
  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** double writes a little-endian float64. */
  double(v: number): this {
    this.#ensure(8);
    f64[0] = v;
    this.#buf.set(f64Bytes, this.#pos);
    this.#pos += 8;
    return this;
  }

  /** bytes writes a length-delimited byte field body (length + data). */
  bytes(b: Uint8Array): this {
    this.uint32(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** string writes a length-delimited UTF-8 string. */
  string(s: string): this {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#ensure(5 + s.length * 3);
    const start = this.#pos;
    const { written } = utf8.encodeInto(s, this.#buf.subarray(start + 5));
    const lenSize = uvarintLen(written);
    if (lenSize !== 5) this.#buf.copyWithin(start + lenSize, start + 5, start + 5 + written);
    this.uint32(written);
    this.#pos = start + lenSize + written;
    return this;
  }

  /** fork starts a nested length-delimited message (after its tag). */
  fork(): this {
    this.#stack.push(this.#pos);
    return this;
  }

  /** join ends the innermost fork: prefixes the bytes written since with their length. */
  join(): this {
    const start = this.#stack.pop();
    if (start === undefined) throw new RangeError('ProtoWriter.join without fork');
    const len = this.#pos - start;
    const lenSize = uvarintLen(len);
    this.#ensure(lenSize);
    this.#buf.copyWithin(start + lenSize, start, this.#pos);
    const end = this.#pos + lenSize;
    this.#pos = start;
    this.uint32(len);
    this.#pos = end;
    return this;
  }

  /** finish returns a view of the bytes written (valid until the next write). */
  finish(): Uint8Array {
    if (this.#stack.length !== 0) throw new RangeError('ProtoWriter.finish with an open fork');
    return this.#buf.subarray(0, this.#pos);
  }

  /** reset empties the writer, keeping its buffer. */
  reset(): this {
    this.#pos = 0;
    this.#stack.length = 0;
    return this;
  }
}

function uvarintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}
