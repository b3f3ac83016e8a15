import { TesseraError } from '../errors/index.js';

/** Zero bytes kept after the copied stream so reads past the end never go out of bounds. */
const PAD = 24;
const TWO32 = 0x100000000;

/**
 * BitReader reads a chunk bit stream (most-significant bit first, chunks.md §2) from an owned,
 * zero-padded copy of the bytes (grown by doubling, reused across resets), so reads need no bounds
 * checks and allocate nothing. Overruns are detected after the fact with `overrun`.
 *
 * 64-bit fields are returned as two uint32 halves through `hi`/`lo` (readBits64), or folded into a
 * number (exact below 2^53) by the varbit readers. XOR-encoded floats (Gorilla, chunks.md §3.3) are
 * kept as bit patterns in caller-owned typed arrays so NaN payloads survive.
 */
export class BitReader {
  #b: Uint8Array = new Uint8Array(256);
  #nbits = 0;
  #pos = 0;
  /** hi is the high 32 bits of the last readBits64 (unsigned). */
  hi = 0;
  /** lo is the low 32 bits of the last readBits64 (unsigned). */
  lo = 0;

  /** reset copies `data` and positions the reader at byte `startByte`. */
  reset(data: Uint8Array, startByte: number): void {
    const n = data.length;
    if (this.#b.length < n + PAD) {
      let size = this.#b.length * 2;
      while (size < n + PAD) size *= 2;
      this.#b = new Uint8Array(size);
    }
    this.#b.set(data);
    this.#b.fill(0, n, n + PAD);
    this.#nbits = n * 8;
    this.#pos = startByte * 8;
  }

  /** position is the number of bits consumed, counted from the start of the data. */
  get position(): number {
    return this.#pos;
  }

  /** overrun reports whether reads went past the end of the data. */
  get overrun(): boolean {
    return this.#pos > this.#nbits;
  }

  /** byteLength is the length of the data in bytes. */
  get byteLength(): number {
    return this.#nbits >>> 3;
  }

  /** readBit reads one bit. */
  readBit(): number {
    const pos = this.#pos;
    this.#pos = pos + 1;
    return (this.#b[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  }

  /** readBits reads n bits (1 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    const b = this.#b;
    const pos = this.#pos;
    const i = pos >>> 3;
    const s = pos & 7;
    let w = (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
    if (s !== 0) w = (w << s) | (b[i + 4]! >>> (8 - s));
    this.#pos = pos + n;
    return n === 32 ? w >>> 0 : w >>> (32 - n);
  }

  /** readByte reads 8 bits (not necessarily byte-aligned). */
  readByte(): number {
    return this.readBits(8);
  }

  /** readBits64 reads n bits (1 ≤ n ≤ 64) into hi/lo (unsigned halves). */
  readBits64(n: number): void {
    if (n > 32) {
      this.hi = this.readBits(n - 32);
      this.lo = this.readBits(32);
    } else {
      this.hi = 0;
      this.lo = this.readBits(n);
    }
  }

  /** #prefix reads up to max one-bits, stopping after the first zero bit; returns the count of ones. */
  #prefix(max: number): number {
    let ones = 0;
    while (ones < max && this.readBit() === 1) ones++;
    return ones;
  }

  /**
   * readVarbitInt reads a Prometheus varbit-encoded signed integer (chunks.md §4): prefixes 0, 10,
   * 110, 1110, 11110, 111110, 1111110, 11111110, 11111111 select 0, 3, 6, 9, 12, 18, 25, 56 or 64
   * payload bits. Exact within ±2^53.
   */
  readVarbitInt(): number {
    const ones = this.#prefix(8);
    let sz: number;
    switch (ones) {
      case 0:
        return 0;
      case 1:
        sz = 3;
        break;
      case 2:
        sz = 6;
        break;
      case 3:
        sz = 9;
        break;
      case 4:
        sz = 12;
        break;
      case 5:
        sz = 18;
        break;
      case 6:
        sz = 25;
        break;
      case 7: {
        // 56 bits: 24 high + 32 low.
        const hi = this.readBits(24);
        const lo = this.readBits(32);
        // Payload > 2^55 is negative: subtract 2^56 on the high half to stay exact.
        const neg = hi > 0x800000 || (hi === 0x800000 && lo > 0);
        return (neg ? hi - 0x1000000 : hi) * TWO32 + lo;
      }
      default: {
        const hi = this.readBits(32) | 0;
        const lo = this.readBits(32);
        return hi * TWO32 + lo;
      }
    }
    const v = this.readBits(sz);
    return v > 1 << (sz - 1) ? v - (1 << sz) : v;
  }

  /** readVarbitUint reads a varbit-encoded unsigned integer (same buckets, no sign). */
  readVarbitUint(): number {
    const ones = this.#prefix(8);
    switch (ones) {
      case 0:
        return 0;
      case 1:
        return this.readBits(3);
      case 2:
        return this.readBits(6);
      case 3:
        return this.readBits(9);
      case 4:
        return this.readBits(12);
      case 5:
        return this.readBits(18);
      case 6:
        return this.readBits(25);
      case 7: {
        const hi = this.readBits(24);
        return hi * TWO32 + this.readBits(32);
      }
      default: {
        const hi = this.readBits(32);
        return hi * TWO32 + this.readBits(32);
      }
    }
  }

  /**
   * readXor reads one Gorilla XOR-encoded value against the previous one. State for slot i lives in
   * caller arrays: bits[2i] / bits[2i+1] are the value's high/low halves, lt[2i] / lt[2i+1] the
   * leading/trailing zero counts of the current window.
   */
  readXor(bits: Uint32Array, lt: Uint8Array, i: number): void {
    if (this.readBit() === 0) return;
    let sig: number;
    let tz: number;
    if (this.readBit() === 0) {
      tz = lt[2 * i + 1]!;
      sig = 64 - lt[2 * i]! - tz;
    } else {
      const w = this.readBits(11);
      const lz = w >>> 6;
      sig = w & 63;
      if (sig === 0) sig = 64;
      tz = 64 - lz - sig;
      lt[2 * i] = lz;
      lt[2 * i + 1] = tz;
    }
    let mh = 0;
    let ml: number;
    if (sig > 32) {
      mh = this.readBits(sig - 32);
      ml = this.readBits(32);
    } else {
      ml = this.readBits(sig);
    }
    const h = 2 * i;
    if (tz === 0) {
      bits[h] = bits[h]! ^ mh;
      bits[h + 1] = bits[h + 1]! ^ ml;
    } else if (tz < 32) {
      bits[h] = bits[h]! ^ ((mh << tz) | (ml >>> (32 - tz)));
      bits[h + 1] = bits[h + 1]! ^ (ml << tz);
    } else {
      bits[h] = bits[h]! ^ (ml << (tz - 32));
    }
  }
}

/** chunkCorrupt makes the error iterators report for undecodable chunk data. */
export function chunkCorrupt(what: string, msg: string): TesseraError {
  return new TesseraError('TESSERA_CHUNK_CORRUPT', `decode ${what} chunk: ${msg}`);
}
