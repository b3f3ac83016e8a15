import { TesseraError } from '../errors/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { floatBits } from './float-bits.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';
import type { XorEncoderState } from './xor-chunk.js';

const { f64, u32, HI, LO } = floatBits;
/** Zero bytes kept after the copied chunk so reads past the end never go out of bounds. */
const PAD = 24;

/**
 * XorIterator decodes an XOR chunk (chunks.md §3). It implements SampleIterator and is reusable:
 * reset(bytes) re-points it at another chunk. It copies the chunk into an owned, zero-padded buffer
 * (grown by doubling, reused across resets) so that the per-sample path needs no bounds checks and
 * allocates nothing; values are kept as two uint32 halves and only turned into a number by atF(), so
 * NaN payloads such as the staleness marker survive bit for bit.
 */
export class XorIterator implements SampleIterator {
  #b: Uint8Array = new Uint8Array(256);
  #nbits = 0;
  #pos = 0;
  #num = 0;
  #read = 0;
  #done = false;
  #t = 0;
  #tDelta = 0;
  #vh = 0;
  #vl = 0;
  #leading = 0;
  #trailing = 0;
  #err: TesseraError | null = null;

  /** reset re-points the iterator at the start of the encoded chunk `data`. */
  reset(data: Uint8Array): this {
    const n = data.length;
    if (this.#b.length < n + PAD) {
      let size = this.#b.length * 2;
      while (size < n + PAD) size *= 2;
      this.#b = new Uint8Array(size);
    }
    this.#b.set(data);
    this.#b.fill(0, n, n + PAD);
    this.#nbits = n * 8;
    this.#pos = 16;
    this.#read = 0;
    this.#done = false;
    this.#t = 0;
    this.#tDelta = 0;
    this.#vh = 0;
    this.#vl = 0;
    this.#leading = 0;
    this.#trailing = 0;
    this.#err = null;
    if (n < 2) {
      this.#num = 0;
      this.#err = new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${n} bytes, shorter than the 2-byte header`);
    } else {
      this.#num = (this.#b[0]! << 8) | this.#b[1]!;
    }
    return this;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    const read = this.#read;
    if (read >= this.#num) {
      this.#done = true;
      return ValueType.None;
    }
    const b = this.#b;
    if (read === 0) {
      const u = this.#uvarint();
      this.#t = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      this.#vh = this.#bits(32);
      this.#vl = this.#bits(32);
    } else {
      if (read === 1) {
        this.#tDelta = this.#uvarint();
      } else {
        // Delta-of-delta prefix: 0, 10, 110, 1110, 1111.
        let pos = this.#pos;
        if (((b[pos >>> 3]! >>> (7 - (pos & 7))) & 1) === 0) {
          this.#pos = pos + 1;
        } else {
          const w = this.#bits(4);
          let sz: number;
          if ((w & 0b0100) === 0) {
            sz = 14;
            pos += 2;
          } else if ((w & 0b0010) === 0) {
            sz = 17;
            pos += 3;
          } else if ((w & 0b0001) === 0) {
            sz = 20;
            pos += 4;
          } else {
            sz = 64;
            pos += 4;
          }
          this.#pos = pos;
          if (sz === 64) {
            const hi = this.#bits(32) | 0;
            const lo = this.#bits(32);
            this.#tDelta += hi * 0x100000000 + lo;
          } else {
            let d = this.#bits(sz);
            if (d > 1 << (sz - 1)) d -= 1 << sz;
            this.#tDelta += d;
          }
        }
      }
      this.#t += this.#tDelta;
      // Value.
      const pos = this.#pos;
      if (((b[pos >>> 3]! >>> (7 - (pos & 7))) & 1) === 0) {
        this.#pos = pos + 1;
      } else {
        const p1 = pos + 1;
        this.#pos = pos + 2;
        let sig: number;
        let tz: number;
        if (((b[p1 >>> 3]! >>> (7 - (p1 & 7))) & 1) === 0) {
          tz = this.#trailing;
          sig = 64 - this.#leading - tz;
        } else {
          const w = this.#bits(11);
          const lz = w >>> 6;
          sig = w & 63;
          if (sig === 0) sig = 64;
          tz = 64 - lz - sig;
          this.#leading = lz;
          this.#trailing = tz;
        }
        let mh = 0;
        let ml: number;
        if (sig > 32) {
          mh = this.#bits(sig - 32);
          ml = this.#bits(32);
        } else {
          ml = this.#bits(sig);
        }
        if (tz === 0) {
          this.#vh ^= mh;
          this.#vl ^= ml;
        } else if (tz < 32) {
          this.#vh ^= (mh << tz) | (ml >>> (32 - tz));
          this.#vl ^= ml << tz;
        } else {
          this.#vh ^= ml << (tz - 32);
        }
      }
    }
    if (this.#pos > this.#nbits) {
      this.#fail(`sample ${read} of ${this.#num} reads bit ${this.#pos} beyond the ${this.#nbits >>> 3}-byte chunk`);
      return ValueType.None;
    }
    this.#read = read + 1;
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
    u32[HI] = this.#vh;
    u32[LO] = this.#vl;
    return f64[0]!;
  }

  /** atBitsHi/atBitsLo return the current value's IEEE-754 bit pattern halves. */
  atBitsHi(): number {
    return this.#vh >>> 0;
  }

  atBitsLo(): number {
    return this.#vl >>> 0;
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
      vh: this.#vh >>> 0,
      vl: this.#vl >>> 0,
      leading: this.#read < 2 ? 0xff : this.#leading,
      trailing: this.#trailing,
    };
  }

  #fail(msg: string): void {
    this.#err = new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${msg}`);
    this.#done = true;
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
