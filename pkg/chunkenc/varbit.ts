import type { BitWriter } from './bstream.js';

const TWO32 = 0x100000000;

/**
 * Writers of the variable-width fields used by histogram chunks (chunks.md §4), bit-exact with
 * Prometheus's putVarbitInt / putVarbitUint / xorWrite. Values are numbers: exact below 2^53.
 */

/** intFits reports whether -(2^(n-1) - 1) ≤ v ≤ 2^(n-1) (Prometheus's bitRange). */
function intFits(v: number, n: number): boolean {
  const half = 2 ** (n - 1);
  return v > -half && v <= half;
}

/** writeLow64 writes the low n bits (33 ≤ n ≤ 64) of the two's complement of integer v. */
function writeLow64(w: BitWriter, v: number, n: number): void {
  const hi = Math.floor(v / TWO32);
  const lo = v - hi * TWO32;
  const hiBits = n === 64 ? hi >>> 0 : (hi >>> 0) & ((1 << (n - 32)) - 1);
  w.writeBits64(hiBits >>> 0, lo >>> 0, n);
}

/** putVarbitInt writes a signed integer with the histogram varbit buckets. */
export function putVarbitInt(w: BitWriter, v: number): void {
  if (v === 0) {
    w.writeBit(0);
  } else if (intFits(v, 3)) {
    w.writeBits(0b10, 2);
    w.writeBits(v & 0x7, 3);
  } else if (intFits(v, 6)) {
    w.writeBits(0b110, 3);
    w.writeBits(v & 0x3f, 6);
  } else if (intFits(v, 9)) {
    w.writeBits(0b1110, 4);
    w.writeBits(v & 0x1ff, 9);
  } else if (intFits(v, 12)) {
    w.writeBits(0b11110, 5);
    w.writeBits(v & 0xfff, 12);
  } else if (intFits(v, 18)) {
    w.writeBits(0b111110, 6);
    w.writeBits(v & 0x3ffff, 18);
  } else if (intFits(v, 25)) {
    w.writeBits(0b1111110, 7);
    w.writeBits(v & 0x1ffffff, 25);
  } else if (intFits(v, 56)) {
    w.writeBits(0b11111110, 8);
    writeLow64(w, v, 56);
  } else {
    w.writeBits(0b11111111, 8);
    writeLow64(w, v, 64);
  }
}

/** putVarbitUint writes a non-negative integer with the histogram varbit buckets. */
export function putVarbitUint(w: BitWriter, v: number): void {
  if (v === 0) {
    w.writeBit(0);
  } else if (v < 2 ** 3) {
    w.writeBits(0b10, 2);
    w.writeBits(v, 3);
  } else if (v < 2 ** 6) {
    w.writeBits(0b110, 3);
    w.writeBits(v, 6);
  } else if (v < 2 ** 9) {
    w.writeBits(0b1110, 4);
    w.writeBits(v, 9);
  } else if (v < 2 ** 12) {
    w.writeBits(0b11110, 5);
    w.writeBits(v, 12);
  } else if (v < 2 ** 18) {
    w.writeBits(0b111110, 6);
    w.writeBits(v, 18);
  } else if (v < 2 ** 25) {
    w.writeBits(0b1111110, 7);
    w.writeBits(v, 25);
  } else if (v < 2 ** 56) {
    w.writeBits(0b11111110, 8);
    writeLow64(w, v, 56);
  } else {
    w.writeBits(0b11111111, 8);
    writeLow64(w, v, 64);
  }
}

/**
 * xorWrite writes value (vh:vl bit halves) XOR-encoded against slot i of the state arrays (see
 * BitReader.readXor; leading 0xff means "no window yet") and stores it as the slot's new value.
 */
export function xorWrite(w: BitWriter, bits: Uint32Array, lt: Uint8Array, i: number, vh: number, vl: number): void {
  const xh = (vh ^ bits[2 * i]!) >>> 0;
  const xl = (vl ^ bits[2 * i + 1]!) >>> 0;
  bits[2 * i] = vh;
  bits[2 * i + 1] = vl;
  if (xh === 0 && xl === 0) {
    w.writeBit(0);
    return;
  }
  let lz = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
  const tz = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 32 + 31 - Math.clz32(xh & -xh);
  if (lz >= 32) lz = 31;
  const pl = lt[2 * i]!;
  const pt = lt[2 * i + 1]!;
  if (pl !== 0xff && lz >= pl && tz >= pt) {
    w.writeBits(0b10, 2);
    writeShifted(w, xh, xl, pt, 64 - pl - pt);
    return;
  }
  const sig = 64 - lz - tz;
  w.writeBits(0b11, 2);
  w.writeBits(lz, 5);
  w.writeBits(sig & 63, 6);
  writeShifted(w, xh, xl, tz, sig);
  lt[2 * i] = lz;
  lt[2 * i + 1] = tz;
}

/** writeShifted writes the low n bits of (xh:xl >> shift). */
function writeShifted(w: BitWriter, xh: number, xl: number, shift: number, n: number): void {
  let h: number;
  let l: number;
  if (shift === 0) {
    h = xh;
    l = xl;
  } else if (shift < 32) {
    l = ((xl >>> shift) | (xh << (32 - shift))) >>> 0;
    h = xh >>> shift;
  } else {
    l = xh >>> (shift - 32);
    h = 0;
  }
  w.writeBits64(h, l, n);
}
