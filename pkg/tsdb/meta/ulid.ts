import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  DECODE[ALPHABET.charCodeAt(i)] = i;
  DECODE[ALPHABET.toLowerCase().charCodeAt(i)] = i;
}
const MAX_TIME = 2 ** 48 - 1;

/**
 * isUlid reports whether s is a valid ULID string: 26 Crockford base32 characters (case-insensitive,
 * without the I/L/O/U letters) whose first character is at most '7' (128 bits).
 */
export function isUlid(s: string): boolean {
  if (s.length !== 26) return false;
  for (let i = 0; i < 26; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DECODE[c]! < 0) return false;
  }
  return DECODE[s.charCodeAt(0)]! <= 7;
}

/** ulidTime returns the millisecond timestamp encoded in a ULID; it throws a TypeError if s is not one. */
export function ulidTime(s: string): number {
  if (!isUlid(s)) throw new TypeError(`parse ULID ${JSON.stringify(s)}: not 26 Crockford base32 characters`);
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + DECODE[s.charCodeAt(i)]!;
  return t;
}

/** ulidBytes decodes a ULID into its 16 bytes (big-endian). */
export function ulidBytes(s: string): Uint8Array {
  if (!isUlid(s)) throw new TypeError(`parse ULID ${JSON.stringify(s)}: not 26 Crockford base32 characters`);
  const out = new Uint8Array(16);
  // 130 bits of characters, the top 2 are zero.
  let acc = 0;
  let nbits = 0;
  let o = 0;
  for (let i = 0; i < 26; i++) {
    acc = (acc << 5) | DECODE[s.charCodeAt(i)]!;
    nbits += 5;
    if (i === 0) {
      nbits -= 2; // drop the 2 leading zero bits
      acc &= 0x7;
    }
    while (nbits >= 8) {
      nbits -= 8;
      out[o++] = (acc >>> nbits) & 0xff;
      acc &= (1 << nbits) - 1;
    }
  }
  return out;
}

/** ulidFromBytes encodes 16 bytes as a ULID string. */
export function ulidFromBytes(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`ULID needs 16 bytes, got ${b.length}`);
  let s = '';
  let acc = 0;
  let nbits = 2; // 130 bits of characters: 2 leading zero bits
  for (let i = 0; i < 16; i++) {
    acc = ((acc << 8) | b[i]!) & 0xffff;
    nbits += 8;
    while (nbits >= 5) {
      nbits -= 5;
      s += ALPHABET[(acc >>> nbits) & 31];
    }
  }
  return s;
}

/**
 * UlidGenerator makes ULIDs that are strictly increasing even within one millisecond (oklog/ulid's
 * monotonic entropy: the random part of the previous ULID plus one when the time is unchanged).
 */
export class UlidGenerator {
  readonly #now: () => number;
  #lastTime = -1;
  readonly #rand = new Uint8Array(10);

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** next returns a new ULID for time `ms` (default: the clock). */
  next(ms: number = this.#now()): string {
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError(`ULID time ${ms} outside [0, 2^48)`);
    if (ms <= this.#lastTime) {
      ms = this.#lastTime;
      let i = 9;
      while (i >= 0 && this.#rand[i] === 0xff) this.#rand[i--] = 0;
      if (i < 0) {
        // Random part overflowed: move to the next millisecond.
        ms++;
        randomFillSync(this.#rand);
      } else {
        this.#rand[i]!++;
      }
    } else {
      randomFillSync(this.#rand);
    }
    this.#lastTime = ms;
    const b = new Uint8Array(16);
    let t = ms;
    for (let i = 5; i >= 0; i--) {
      b[i] = t % 256;
      t = Math.floor(t / 256);
    }
    b.set(this.#rand, 6);
    return ulidFromBytes(b);
  }
}

const defaultGenerator = new UlidGenerator();

/** newUlid returns a new monotonic ULID from a process-wide generator. */
export function newUlid(ms?: number): string {
  return ms === undefined ? defaultGenerator.next() : defaultGenerator.next(ms);
}
