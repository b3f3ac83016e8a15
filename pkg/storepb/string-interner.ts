import { decodeUtf8 } from '../encoding/index.js';

/** MAX_INTERNED is the longest string (in bytes) the table holds; longer ones are decoded as they come. */
const MAX_INTERNED = 64;

/**
 * StringInterner decodes short UTF-8 strings, such as label names and values, through a fixed-size
 * table of recently decoded ASCII strings: a string whose bytes equal the one in its slot is that
 * string, with nothing allocated. Series frames repeat the same few names and values (and the
 * replicas of an HA pair send the same ones), so most label strings cost a hash and a comparison
 * instead of a new string; equal strings are then also the same string, which label comparisons
 * check first. The result always equals decodeUtf8 of the bytes.
 */
export class StringInterner {
  readonly #slots: string[];
  readonly #mask: number;

  /** bits sets the table size (2^bits slots). */
  constructor(bits = 12) {
    this.#slots = new Array<string>(1 << bits).fill('');
    this.#mask = (1 << bits) - 1;
  }

  /** decode returns the string of buf[start, end) (UTF-8). */
  decode(buf: Uint8Array, start: number, end: number): string {
    const n = end - start;
    if (n <= 0 || n > MAX_INTERNED) return n <= 0 ? '' : decodeUtf8(buf, start, end);
    // FNV-1a over the bytes; non-ASCII strings are not interned.
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decodeUtf8(buf, start, end);
      h = Math.imul(h ^ b, 0x01000193);
    }
    const slot = (h ^ (h >>> 16)) & this.#mask;
    const s = this.#slots[slot]!;
    if (s.length === n) {
      let i = 0;
      while (i < n && s.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return s;
    }
    const d = decodeUtf8(buf, start, end);
    this.#slots[slot] = d;
    return d;
  }
}
