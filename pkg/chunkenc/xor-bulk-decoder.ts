import { TesseraError } from '../errors/index.js';
import { floatBits, STALE_NAN_HI, STALE_NAN_LO } from './float-bits.js';

/**
 * FloatSampleSink is where XorBulkDecoder appends samples: timestamps and values in fts/fvs
 * (first fn used), staleness markers' timestamps in sts (first sn used). The decoder replaces the
 * arrays with larger copies when they are too short.
 */
export interface FloatSampleSink {
  fts: Float64Array;
  fvs: Float64Array;
  fn: number;
  sts: Float64Array;
  sn: number;
}

/** Zero bytes kept after the copied chunk so reads past the end never go out of bounds. */
const PAD = 24;
const { f64, u32, HI, LO } = floatBits;

/**
 * XorBulkDecoder decodes whole XOR chunks (chunks.md §3) straight into typed arrays: the samples
 * XorIterator would yield from seek(mint) up to maxt, in one loop whose decoder state lives in
 * local variables (no per-sample method calls or field writes). Staleness markers (bit pattern
 * 0x7FF0000000000002) go to the sink's sts instead of fts/fvs. It is reusable and owns a
 * zero-padded copy of the chunk being decoded (grown by doubling), as XorIterator does; a
 * corrupt chunk throws the TesseraError XorIterator.err() would return, after the samples
 * decoded before the corruption were appended.
 */
export class XorBulkDecoder {
  #b: Uint8Array = new Uint8Array(256);
  #dv: DataView = new DataView(this.#b.buffer);

  /**
   * decodeInto appends the samples of the chunk `data` with mint ≤ t (from the first such sample
   * on) and t ≤ maxt to dst; returns how many it appended (markers included).
   */
  decodeInto(data: Uint8Array, mint: number, maxt: number, dst: FloatSampleSink): number {
    const n = data.length;
    if (n < 2) throw new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${n} bytes, shorter than the 2-byte header`);
    if (this.#b.length < n + PAD) {
      let size = this.#b.length * 2;
      while (size < n + PAD) size *= 2;
      this.#b = new Uint8Array(size);
      this.#dv = new DataView(this.#b.buffer);
    }
    const b = this.#b;
    const dv = this.#dv;
    b.set(data);
    b.fill(0, n, n + PAD);
    const nbits = n * 8;
    const num = (b[0]! << 8) | b[1]!;
    if (num === 0) return 0;
    let fn = dst.fn;
    if (dst.fts.length < fn + num) dst.fts = growTo(dst.fts, fn, fn + num);
    if (dst.fvs.length < fn + num) dst.fvs = growTo(dst.fvs, fn, fn + num);
    const fts = dst.fts;
    const fvs = dst.fvs;
    let added = 0;

    // Sample 0: a zig-zag varint timestamp and the raw 64-bit value.
    let pos = 16;
    let i = 2;
    let u = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      const x = b[i++]!;
      u += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 128;
    }
    pos = i * 8;
    let t = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    let vh = window32(dv, pos);
    let vl = window32(dv, pos + 32);
    pos += 64;
    if (pos > nbits) throw corrupt(`sample 0 of ${num} reads bit ${pos} beyond the ${n}-byte chunk`);
    let started = false;
    let tDelta = 0;
    let trailing = 0;
    let sig = 64;
    for (let read = 1; ; read++) {
      // Emit the current sample (read - 1).
      if (!started && t >= mint) started = true;
      if (started) {
        if (t > maxt) break;
        if (vh === STALE_NAN_HI && vl === STALE_NAN_LO) {
          if (dst.sts.length <= dst.sn) dst.sts = growTo(dst.sts, dst.sn, dst.sn + 1);
          dst.sts[dst.sn++] = t;
        } else {
          u32[HI] = vh;
          u32[LO] = vl;
          fts[fn] = t;
          fvs[fn++] = f64[0]!;
        }
        added++;
      }
      if (read >= num) break;
      // Decode sample `read`.
      let w: number;
      if (read === 1) {
        let j = pos >>> 3;
        let d = 0;
        let m = 1;
        for (let k = 0; k < 10; k++) {
          const x = b[j++]!;
          d += (x & 0x7f) * m;
          if (x < 0x80) break;
          m *= 128;
        }
        tDelta = d;
        pos = j * 8;
        w = window32(dv, pos);
      } else {
        w = window32(dv, pos);
        // Delta-of-delta prefix: 0, 10, 110, 1110, 1111.
        if (w >= 0) {
          pos += 1;
          w <<= 1;
        } else {
          let d: number;
          if ((w & 0x40000000) === 0) {
            d = (w << 2) >>> 18;
            if (d > 0x2000) d -= 0x4000;
            pos += 16;
          } else if ((w & 0x20000000) === 0) {
            d = (w << 3) >>> 15;
            if (d > 0x10000) d -= 0x20000;
            pos += 20;
          } else if ((w & 0x10000000) === 0) {
            d = (w << 4) >>> 12;
            if (d > 0x80000) d -= 0x100000;
            pos += 24;
          } else {
            d = window32(dv, pos + 4) * 0x100000000 + (window32(dv, pos + 36) >>> 0);
            pos += 68;
          }
          tDelta += d;
          w = window32(dv, pos);
        }
      }
      t += tDelta;
      // Value: 0 = unchanged, 10 = reuse leading/trailing, 11 = new leading/sig bits.
      if (w >= 0) {
        pos += 1;
      } else {
        let tz: number;
        let s: number;
        if ((w & 0x40000000) === 0) {
          tz = trailing;
          s = sig;
          pos += 2;
        } else {
          const lz = (w >>> 25) & 31;
          s = (w >>> 19) & 63;
          if (s === 0) s = 64;
          tz = 64 - lz - s;
          trailing = tz;
          sig = s;
          pos += 13;
        }
        let mh = 0;
        let ml: number;
        if (s > 32) {
          mh = window32(dv, pos) >>> (64 - s);
          ml = window32(dv, pos + s - 32);
        } else {
          ml = window32(dv, pos) >>> (32 - s);
        }
        pos += s;
        if (tz === 0) {
          vh ^= mh;
          vl ^= ml;
        } else if (tz < 32) {
          vh ^= (mh << tz) | (ml >>> (32 - tz));
          vl ^= ml << tz;
        } else {
          vh ^= ml << (tz - 32);
        }
      }
      if (pos > nbits) {
        dst.fn = fn;
        throw corrupt(`sample ${read} of ${num} reads bit ${pos} beyond the ${n}-byte chunk`);
      }
    }
    dst.fn = fn;
    return added;
  }
}

function corrupt(msg: string): TesseraError {
  return new TesseraError('TESSERA_CHUNK_CORRUPT', `decode XOR chunk: ${msg}`);
}

/** growTo returns a copy of a's first `used` values in an array of at least `need` (doubling). */
function growTo(a: Float64Array, used: number, need: number): Float64Array {
  const c = new Float64Array(Math.max(256, a.length * 2, need));
  c.set(a.subarray(0, used));
  return c;
}

/** window32 returns the 32 bits starting at bit `pos` as an int32 (5 readable bytes needed at pos >>> 3). */
function window32(dv: DataView, pos: number): number {
  const i = pos >>> 3;
  const s = pos & 7;
  return (dv.getInt32(i) << s) | (dv.getUint8(i + 4) >>> (8 - s));
}
