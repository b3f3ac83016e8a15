// xxHash64 (seed 0) without BigInt: 64-bit lanes are (hi, lo) pairs of unsigned 32-bit numbers and
// results pass through the module register R, so hashing allocates nothing. Thanos uses it for
// Chunk.hash (byte-identical chunk dedup) and for ShardInfo series sharding.

const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
const TWO_32 = 4294967296;
const P1L0 = P1L & 0xffff, P1L1 = P1L >>> 16;
const P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;

/** R holds results as [hi, lo]: a typed array, so storing a uint32 ≥ 2^31 allocates no heap number. */
const R = new Uint32Array(2);

function mul(ah: number, al: number, bh: number, bl: number): void {
  // Low 64 bits of (ah:al)·(bh:bl): al·bl in 16-bit limbs (every partial product < 2^32 is
  // exact), plus the low 32 bits of the cross products in the high word.
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p10 = a1 * b0;
  const p01 = a0 * b1;
  const t = (p00 >>> 16) + (p10 & 0xffff) + (p01 & 0xffff);
  R[1] = ((t << 16) | (p00 & 0xffff)) >>> 0;
  R[0] = (a1 * b1 + (p10 >>> 16) + (p01 >>> 16) + (t >>> 16) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  R[1] = lo >>> 0;
  R[0] = (ah + bh + (lo >= TWO_32 ? 1 : 0)) >>> 0;
}

function rotl(h: number, l: number, r: number): void {
  if (r >= 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  if (r === 0) {
    R[0] = h;
    R[1] = l;
    return;
  }
  R[0] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[1] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** round: acc = rotl(acc + input * P2, 31) * P1 (mul, add and rotl inlined on locals). */
function round(ah: number, al: number, ih: number, il: number): void {
  // m = input * P2
  let a0 = il & 0xffff;
  let a1 = il >>> 16;
  let p00 = a0 * P2L0;
  let p10 = a1 * P2L0;
  let p01 = a0 * P2L1;
  let t = (p00 >>> 16) + (p10 & 0xffff) + (p01 & 0xffff);
  const ml = ((t << 16) | (p00 & 0xffff)) >>> 0;
  const mh = (a1 * P2L1 + (p10 >>> 16) + (p01 >>> 16) + (t >>> 16) + Math.imul(ih, P2L) + Math.imul(il, P2H)) >>> 0;
  // s = acc + m
  const lo = al + ml;
  const sl = lo >>> 0;
  const sh = (ah + mh + (lo >= TWO_32 ? 1 : 0)) >>> 0;
  // r = rotl(s, 31)
  const rh = ((sh << 31) | (sl >>> 1)) >>> 0;
  const rl = ((sl << 31) | (sh >>> 1)) >>> 0;
  // r * P1
  a0 = rl & 0xffff;
  a1 = rl >>> 16;
  p00 = a0 * P1L0;
  p10 = a1 * P1L0;
  p01 = a0 * P1L1;
  t = (p00 >>> 16) + (p10 & 0xffff) + (p01 & 0xffff);
  R[1] = ((t << 16) | (p00 & 0xffff)) >>> 0;
  R[0] = (a1 * P1L1 + (p10 >>> 16) + (p01 >>> 16) + (t >>> 16) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;
}

/** mergeRound: acc = (acc ^ round(0, v)) * P1 + P4. */
function mergeRound(ah: number, al: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((ah ^ R[0]!) >>> 0, (al ^ R[1]!) >>> 0, P1H, P1L);
  add(R[0]!, R[1]!, P4H, P4L);
}

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** XXHash64Result receives the hash as unsigned 32-bit halves. */
export interface XXHash64Result {
  hi: number;
  lo: number;
}

/** xxhash64 computes xxHash64 with seed 0 of data[start:end) into out (also returned). */
export function xxhash64(data: Uint8Array, out: XXHash64Result = { hi: 0, lo: 0 }, start = 0, end = data.length): XXHash64Result {
  const len = end - start;
  let p = start;
  let hh: number;
  let hl: number;
  if (len >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1h = R[0]!, v1l = R[1]!;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    // v4 = -P1 (two's complement)
    let v4l = (~P1L + 1) >>> 0;
    let v4h = (~P1H + (v4l === 0 ? 1 : 0)) >>> 0;
    for (; p + 32 <= end; p += 32) {
      round(v1h, v1l, u32(data, p + 4), u32(data, p));
      v1h = R[0]!; v1l = R[1]!;
      round(v2h, v2l, u32(data, p + 12), u32(data, p + 8));
      v2h = R[0]!; v2l = R[1]!;
      round(v3h, v3l, u32(data, p + 20), u32(data, p + 16));
      v3h = R[0]!; v3l = R[1]!;
      round(v4h, v4l, u32(data, p + 28), u32(data, p + 24));
      v4h = R[0]!; v4l = R[1]!;
    }
    rotl(v1h, v1l, 1);
    hh = R[0]!; hl = R[1]!;
    rotl(v2h, v2l, 7);
    add(hh, hl, R[0]!, R[1]!);
    hh = R[0]!; hl = R[1]!;
    rotl(v3h, v3l, 12);
    add(hh, hl, R[0]!, R[1]!);
    hh = R[0]!; hl = R[1]!;
    rotl(v4h, v4l, 18);
    add(hh, hl, R[0]!, R[1]!);
    hh = R[0]!; hl = R[1]!;
    mergeRound(hh, hl, v1h, v1l);
    mergeRound(R[0]!, R[1]!, v2h, v2l);
    mergeRound(R[0]!, R[1]!, v3h, v3l);
    mergeRound(R[0]!, R[1]!, v4h, v4l);
    hh = R[0]!;
    hl = R[1]!;
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, Math.floor(len / TWO_32), len >>> 0);
  hh = R[0]!; hl = R[1]!;
  for (; p + 8 <= end; p += 8) {
    round(0, 0, u32(data, p + 4), u32(data, p));
    hh = (hh ^ R[0]!) >>> 0;
    hl = (hl ^ R[1]!) >>> 0;
    rotl(hh, hl, 27);
    mul(R[0]!, R[1]!, P1H, P1L);
    add(R[0]!, R[1]!, P4H, P4L);
    hh = R[0]!; hl = R[1]!;
  }
  if (p + 4 <= end) {
    mul(0, u32(data, p), P1H, P1L);
    hh = (hh ^ R[0]!) >>> 0;
    hl = (hl ^ R[1]!) >>> 0;
    rotl(hh, hl, 23);
    mul(R[0]!, R[1]!, P2H, P2L);
    add(R[0]!, R[1]!, P3H, P3L);
    hh = R[0]!; hl = R[1]!;
    p += 4;
  }
  for (; p < end; p++) {
    mul(0, data[p]!, P5H, P5L);
    hh = (hh ^ R[0]!) >>> 0;
    hl = (hl ^ R[1]!) >>> 0;
    rotl(hh, hl, 11);
    mul(R[0]!, R[1]!, P1H, P1L);
    hh = R[0]!; hl = R[1]!;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = R[0]!;
  hl = R[1]!;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = R[0]!;
  hl = (R[1]! ^ R[0]!) >>> 0;
  out.hi = hh;
  out.lo = hl;
  return out;
}
