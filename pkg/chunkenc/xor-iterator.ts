import { TesseraError } from '../errors/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { floatBits } from './float-bits.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';
import type { XorEncoderState } from './xor-chunk.js';

const { HI, LO } = floatBits;
/** Zero bytes kept after the copied chunk so reads past the end never go out of bounds. */
const PAD = 24;

/**
 * XorIterator decodes an XOR chunk (chunks.md §3). It implements SampleIterator and is reusable:
 * reset(bytes) re-points it at another chunk. It copies the chunk into an owned, zero-padded buffer
 * (grown by doubling, reused across resets) so that the per-sample path never reads out of range and
 * allocates nothing. Fields are read through a 32-bit window (one big-endian DataView load plus one byte)
 * rather than bit by bit. The value is kept as two int32 halves aliasing a one-element Float64Array, so
 * atF() is a plain load and NaN payloads such as the staleness marker survive bit for bit.
 */
export class XorIterator implements SampleIterator {
  #b: Uint8Array = new Uint8Array(256);
  #dv: DataView = new DataView(this.#b.buffer);
  #nbits = 0;
  #pos = 0;
  #num = 0;
  /** #end is #num, or 0 once decoding failed, so next() stops with a single comparison. */
  #end = 0;
  #read = 0;
  #done = false;
  #t = 0;
  #tDelta = 0;
  /** The current value: #f[0] is the float, #v[HI]/#v[LO] its bit-pattern halves (same memory). */
  readonly #f = new Float64Array(1);
  readonly #v = new Int32Array(this.#f.buffer);
  #leading = 0;
  #trailing = 0;
  /** #sig is 64 - #leading - #trailing, the significant-bit count reused by the '10' value case. */
  #sig = 64;
  #err: TesseraError | null = null;

  /** reset re-points the iterator at the start of the encoded chunk `data`. */
  reset(data: Uint8Array): this {
    const n = data.length;
    if (this.#b.length < n + PAD) {
      let size = this.#b.length * 2;
      while (size < n + PAD) size *= 2;
      this.#b = new Uint8Array(size);
      this.#dv = new DataView(this.#b.buffer);
    }
    this.#b.set(data);
    this.#b.fill(0, n, n + PAD);
    this.#nbits = n * 8;
    this.#pos = 16;
    this.#read = 0;
    this.#done = false;
    this.#t = 0;
    this.#tDelta = 0;
    this.#f[0] = 0;
    this.#leading = 0;
    this.#trailing = 0;
    this.#sig = 64;
    this.#err = null;
    if (n < 2) {
      this.#num = 0;
      this.#end = 0;
      this.#err = new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${n} bytes, shorter than the 2-byte header`);
    } else {
      this.#num = (this.#b[0]! << 8) | this.#b[1]!;
      this.#end = this.#num;
    }
    return this;
  }

  next(): ValueType {
    const read = this.#read;
    if (read >= this.#end) {
      this.#done = true;
      return ValueType.None;
    }
    if (read === 0) return this.#first();
    const dv = this.#dv;
    let pos: number;
    // w holds the 32 bits starting at pos, most significant first.
    let w: number;
    if (read === 1) {
      this.#tDelta = this.#uvarint();
      pos = this.#pos;
      w = window32(dv, pos);
    } else {
      pos = this.#pos;
      w = window32(dv, pos);
      // Delta-of-delta prefix: 0, 10, 110, 1110, 1111.
      if (w >= 0) {
        // dod == 0: the timestamp delta repeats; the value's control bits follow in the same window.
        pos += 1;
        w <<= 1;
      } else {
        let d: number;
        if ((w & 0x40000000) === 0) {
          d = (w << 2) >>> 18; // 14 bits
          if (d > 0x2000) d -= 0x4000;
          pos += 16;
        } else if ((w & 0x20000000) === 0) {
          d = (w << 3) >>> 15; // 17 bits
          if (d > 0x10000) d -= 0x20000;
          pos += 20;
        } else if ((w & 0x10000000) === 0) {
          d = (w << 4) >>> 12; // 20 bits
          if (d > 0x80000) d -= 0x100000;
          pos += 24;
        } else {
          d = window32(dv, pos + 4) * 0x100000000 + (window32(dv, pos + 36) >>> 0);
          pos += 68;
        }
        this.#tDelta += d;
        w = window32(dv, pos);
      }
    }
    this.#t += this.#tDelta;
    // Value: 0 = unchanged, 10 = reuse leading/trailing, 11 = new leading/sig bits.
    if (w >= 0) {
      pos += 1;
    } else {
      let sig: number;
      let tz: number;
      if ((w & 0x40000000) === 0) {
        tz = this.#trailing;
        sig = this.#sig;
        pos += 2;
      } else {
        const lz = (w >>> 25) & 31;
        sig = (w >>> 19) & 63;
        if (sig === 0) sig = 64;
        tz = 64 - lz - sig;
        this.#leading = lz;
        this.#trailing = tz;
        this.#sig = sig;
        pos += 13;
      }
      let mh = 0;
      let ml: number;
      if (sig > 32) {
        mh = window32(dv, pos) >>> (64 - sig);
        ml = window32(dv, pos + sig - 32);
      } else {
        ml = window32(dv, pos) >>> (32 - sig);
      }
      pos += sig;
      const v = this.#v;
      if (tz === 0) {
        v[HI]! ^= mh;
        v[LO]! ^= ml;
      } else if (tz < 32) {
        v[HI]! ^= (mh << tz) | (ml >>> (32 - tz));
        v[LO]! ^= ml << tz;
      } else {
        v[HI]! ^= ml << (tz - 32);
      }
    }
    this.#pos = pos;
    if (pos > this.#nbits) {
      this.#fail(`sample ${read} of ${this.#num} reads bit ${pos} beyond the ${this.#nbits >>> 3}-byte chunk`);
      return ValueType.None;
    }
    this.#read = read + 1;
    return ValueType.Float;
  }

  /** #first decodes sample 0: a varint timestamp and the raw 64-bit value. */
  #first(): ValueType {
    const u = this.#uvarint();
    this.#t = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    const v = this.#v;
    v[HI] = this.#bits(32);
    v[LO] = this.#bits(32);
    if (this.#pos > this.#nbits) {
      this.#fail(`sample 0 of ${this.#num} reads bit ${this.#pos} beyond the ${this.#nbits >>> 3}-byte chunk`);
      return ValueType.None;
    }
    this.#read = 1;
    return ValueType.Float;
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    while (this.#read === 0 || this.#t < t) {
      if (this.next() === ValueType.None) return ValueType.None;
    }
    return ValueType.Float;
  }

  atT(): number {
    return this.#t;
  }

  atF(): number {
    return this.#f[0]!;
  }

  /** atBitsHi/atBitsLo return the current value's IEEE-754 bit pattern halves. */
  atBitsHi(): number {
    return this.#v[HI]! >>> 0;
  }

  atBitsLo(): number {
    return this.#v[LO]! >>> 0;
  }

  atFloatHistogram(_into?: FloatHistogram): FloatHistogram {
    throw new TypeError('XorIterator.atFloatHistogram: XOR chunks hold float samples only');
  }

  err(): Error | null {
    return this.#err;
  }

  /** bitPosition is the number of bits consumed so far (header included). */
  bitPosition(): number {
    return this.#pos;
  }

  /** state returns the encoder state after the current sample (used to reopen a chunk for appending). */
  state(): XorEncoderState {
    return {
      t: this.#t,
      tDelta: this.#tDelta,
      vh: this.#v[HI]! >>> 0,
      vl: this.#v[LO]! >>> 0,
      leading: this.#read < 2 ? 0xff : this.#leading,
      trailing: this.#trailing,
    };
  }

  #fail(msg: string): void {
    this.#err = new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${msg}`);
    this.#done = true;
    this.#end = 0;
  }

  /** #bits reads n bits (1 ≤ n ≤ 32) as an unsigned number. */
  #bits(n: number): number {
    const b = this.#b;
    const pos = this.#pos;
    const i = pos >>> 3;
    const s = pos & 7;
    let w = (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
    if (s !== 0) w = (w << s) | (b[i + 4]! >>> (8 - s));
    this.#pos = pos + n;
    return n === 32 ? w >>> 0 : w >>> (32 - n);
  }

  #uvarint(): number {
    const b = this.#b;
    let i = this.#pos >>> 3;
    let result = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      const x = b[i++]!;
      result += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 128;
    }
    this.#pos = i * 8;
    return result;
  }
}

/**
 * window32 returns the 32 bits starting at bit `pos` (most significant first) as an int32. The view
 * must have 5 readable bytes from byte pos >>> 3; the iterator's padding guarantees that.
 */
function window32(dv: DataView, pos: number): number {
  const i = pos >>> 3;
  const s = pos & 7;
  return (dv.getInt32(i) << s) | (dv.getUint8(i + 4) >>> (8 - s));
}
