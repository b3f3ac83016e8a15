/** Wire types of the protobuf encoding. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const textEncoder = new TextEncoder();

/** varintSize32 returns the number of bytes of v (an unsigned 32-bit integer) as a varint. */
export function varintSize32(v: number): number {
  v >>>= 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** int64Size returns the varint size of v encoded as an int64 (negative numbers take 10 bytes). */
export function int64Size(v: number): number {
  if (v >= 0 && v < TWO_32) return varintSize32(v);
  if (v < 0 || v !== v) return v !== v ? 1 : 10;
  if (v >= TWO_63) return 9; // clamped to MaxInt64
  const hi = Math.floor(v / TWO_32) >>> 0;
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** utf8Size returns the UTF-8 length of s (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder writes them). */
export function utf8Size(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/** lengthDelimitedSize is the size of a length-delimited field body of n bytes plus its tag (field < 16). */
export function fieldSize(field: number, bodyLen: number): number {
  return varintSize32(field << 3) + varintSize32(bodyLen) + bodyLen;
}

/**
 * ProtoWriter writes protobuf wire format into one buffer that grows by doubling. Callers either
 * precompute nested message sizes (hot path, no byte is moved twice) or use fork()/ldelim(), which
 * moves the nested body once to make room for its length prefix.
 *
 * finish() returns a view of the written bytes; the writer must not be used afterwards unless
 * reset() is called, which reuses the buffer (views returned earlier are then overwritten).
 */
export class ProtoWriter {
  #buf: Uint8Array;
  #pos = 0;
  readonly #forks: number[] = [];

  /** The initial capacity may be the exact size of the message when it is known. */
  constructor(initialCapacity = 256, alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n)) {
    this.#alloc = alloc;
    this.#buf = alloc(Math.max(16, initialCapacity));
  }
  readonly #alloc: (n: number) => Uint8Array;

  /** len is the number of bytes written so far. */
  get len(): number {
    return this.#pos;
  }

  /** reset forgets the written bytes and keeps the buffer. */
  reset(): this {
    this.#pos = 0;
    this.#forks.length = 0;
    return this;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const nb = this.#alloc(cap);
    nb.set(this.#buf.subarray(0, this.#pos));
    this.#buf = nb;
  }

  /** tag writes a field key. */
  tag(field: number, wireType: WireType): this {
    return this.uint32(((field << 3) | wireType) >>> 0);
  }

  /** uint32 writes an unsigned 32-bit varint. */
  uint32(v: number): this {
    v >>>= 0;
    this.#ensure(5);
    const b = this.#buf;
    while (v > 0x7f) {
      b[this.#pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.#pos++] = v;
    return this;
  }

  /** enum writes an enum or int32 value (negative values take 10 bytes, as in Go). */
  int32(v: number): this {
    return v < 0 ? this.int64(v) : this.uint32(v);
  }

  /**
   * int64 writes a signed 64-bit varint from a number. Values beyond ±2^63 are clamped to
   * MaxInt64/MinInt64, so `Number.MAX_VALUE`-like "infinite" bounds and decoded MaxInt64 (which
   * rounds to 2^63 as a number) round-trip as MaxInt64. NaN encodes as 0.
   */
  int64(v: number): this {
    if (v >= 0 && v < TWO_32) return this.uint32(v);
    let lo: number;
    let hi: number;
    if (v !== v) {
      lo = 0;
      hi = 0;
    } else if (v >= TWO_63) {
      lo = 0xffffffff;
      hi = 0x7fffffff;
    } else if (v < -TWO_63) {
      lo = 0;
      hi = 0x80000000;
    } else {
      const a = Math.abs(v);
      lo = a % TWO_32 >>> 0;
      hi = Math.floor(a / TWO_32) >>> 0;
      if (v < 0) {
        // Two's complement of the 64-bit magnitude.
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
      }
    }
    return this.varint64(lo, hi);
  }

  /** varint64 writes a 64-bit varint given as two unsigned 32-bit halves. */
  varint64(lo: number, hi: number): this {
    this.#ensure(10);
    const b = this.#buf;
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo > 0x7f) {
      b[this.#pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.#pos++] = lo;
    return this;
  }

  /** double writes a little-endian IEEE 754 double (wire type Fixed64). */
  double(v: number): this {
    this.#ensure(8);
    new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, 8).setFloat64(0, v, true);
    this.#pos += 8;
    return this;
  }

  /** bool writes 1 or 0. */
  bool(v: boolean): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 1 : 0;
    return this;
  }

  /** rawBytes copies b without a length prefix. */
  rawBytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** bytes writes a length prefix and b. */
  bytes(b: Uint8Array): this {
    this.uint32(b.length);
    return this.rawBytes(b);
  }

  /** string writes a length prefix and the UTF-8 bytes of s; byteLen may be passed if known. */
  string(s: string, byteLen = utf8Size(s)): this {
    this.uint32(byteLen);
    this.#ensure(byteLen);
    const b = this.#buf;
    if (byteLen === s.length) {
      let p = this.#pos;
      for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
      this.#pos = p;
    } else {
      this.#pos += textEncoder.encodeInto(s, b.subarray(this.#pos, this.#pos + byteLen)).written;
    }
    return this;
  }

  /** fork starts a nested message whose length is not known; end it with ldelim(field). */
  fork(): this {
    this.#forks.push(this.#pos);
    return this;
  }

  /** ldelim ends the innermost fork, writing it as length-delimited field `field`. */
  ldelim(field: number): this {
    const start = this.#forks.pop();
    if (start === undefined) throw new RangeError('ProtoWriter.ldelim without fork');
    const bodyLen = this.#pos - start;
    const prefix = varintSize32((field << 3) | WireType.LengthDelimited) + varintSize32(bodyLen);
    this.#ensure(prefix);
    const b = this.#buf;
    b.copyWithin(start + prefix, start, this.#pos);
    this.#pos = start;
    this.tag(field, WireType.LengthDelimited).uint32(bodyLen);
    this.#pos += bodyLen;
    return this;
  }

  /** finish returns a view of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}
