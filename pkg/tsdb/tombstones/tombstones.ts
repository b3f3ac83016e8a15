import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Decbuf, Encbuf, verifyCRC32C } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';

/** TOMBSTONES_MAGIC is the BE32 magic of a tombstones file (blocks.md §6). */
export const TOMBSTONES_MAGIC = 0x0130ba30;
/** TOMBSTONES_VERSION is the tombstones format version. */
export const TOMBSTONES_VERSION = 1;
/** TOMBSTONES_FILENAME is the file name inside a block directory. */
export const TOMBSTONES_FILENAME = 'tombstones';

/**
 * Interval is a closed time range [minTime, maxTime] in ms. A bound beyond ±(2^53 − 1), such as the
 * math.MinInt64 / math.MaxInt64 that "delete everything" requests store, is represented as -Infinity
 * or +Infinity: it lies beyond every timestamp a number can hold exactly, so deletion semantics are
 * unchanged. Encoding writes ±Infinity back as MinInt64 / MaxInt64.
 */
export interface Interval {
  readonly minTime: number;
  readonly maxTime: number;
}

/** TombstonesError reports an unreadable or corrupt tombstones file; `offset` is -1 if unknown. */
export class TombstonesError extends TesseraError {
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, message: string, options?: { cause?: unknown }) {
    super('TESSERA_TOMBSTONES_CORRUPT', message, options);
    this.file = file;
    this.offset = offset;
  }
}

/**
 * Tombstones maps series references to deleted intervals (closed, sorted, non-overlapping,
 * adjacent intervals merged, as Prometheus's Intervals.Add does). Empty means no deletions.
 */
export class Tombstones {
  readonly #m = new Map<number, Interval[]>();

  /** add records deletion of [minTime, maxTime] for series ref, merging with existing intervals. */
  add(ref: number, iv: Interval): void {
    if (iv.minTime > iv.maxTime) throw new RangeError(`tombstone interval [${iv.minTime}, ${iv.maxTime}] is empty`);
    const list = this.#m.get(ref) ?? [];
    const out: Interval[] = [];
    let cur = { minTime: iv.minTime, maxTime: iv.maxTime };
    let placed = false;
    for (const x of list) {
      if (x.maxTime < cur.minTime - 1) out.push(x);
      else if (x.minTime > cur.maxTime + 1) {
        if (!placed) {
          out.push(cur);
          placed = true;
        }
        out.push(x);
      } else {
        cur = { minTime: Math.min(x.minTime, cur.minTime), maxTime: Math.max(x.maxTime, cur.maxTime) };
      }
    }
    if (!placed) out.push(cur);
    this.#m.set(ref, out);
  }

  /** get returns the deleted intervals of series ref (sorted), or an empty array. */
  get(ref: number): readonly Interval[] {
    return this.#m.get(ref) ?? [];
  }

  /** isDeleted reports whether the sample at time t of series ref is deleted. */
  isDeleted(ref: number, t: number): boolean {
    const list = this.#m.get(ref);
    if (list === undefined) return false;
    for (const iv of list) {
      if (t < iv.minTime) return false;
      if (t <= iv.maxTime) return true;
    }
    return false;
  }

  /** size is the number of series with tombstones. */
  get size(): number {
    return this.#m.size;
  }

  /** total is the number of intervals over all series (meta.json's numTombstones). */
  get total(): number {
    let n = 0;
    for (const l of this.#m.values()) n += l.length;
    return n;
  }

  /** refs returns the series references with tombstones, ascending. */
  refs(): number[] {
    return [...this.#m.keys()].sort((a, b) => a - b);
  }
}

/**
 * encodeTombstones serialises tombstones: magic, version, stones (uvarint ref, varint mint,
 * varint maxt) in ascending ref order, CRC32C over the stones. ±Infinity bounds are written as
 * MinInt64 / MaxInt64, byte for byte as Go would.
 */
export function encodeTombstones(ts: Tombstones): Uint8Array {
  const e = new Encbuf(64);
  e.putBE32(TOMBSTONES_MAGIC);
  e.putByte(TOMBSTONES_VERSION);
  const start = e.len;
  for (const ref of ts.refs()) {
    for (const iv of ts.get(ref)) {
      e.putUvarint(ref);
      putTime(e, iv.minTime);
      putTime(e, iv.maxTime);
    }
  }
  e.putCRC32C(start);
  return e.get().slice();
}

/** decodeTombstones parses a tombstones file's bytes; `file` names it in errors. */
export function decodeTombstones(data: Uint8Array, file = TOMBSTONES_FILENAME): Tombstones {
  if (data.length < 9) throw new TombstonesError(file, 0, `read tombstones ${file} at offset 0: ${data.length} bytes, need at least 9`);
  const d = new Decbuf(data);
  const magic = d.be32();
  if (magic !== TOMBSTONES_MAGIC) {
    throw new TombstonesError(file, 0, `read tombstones ${file} at offset 0: invalid magic number ${magic.toString(16).padStart(8, '0')}, want 0130ba30`);
  }
  const version = d.byte();
  if (version !== TOMBSTONES_VERSION) throw new TombstonesError(file, 4, `read tombstones ${file} at offset 4: unsupported version ${version}`);
  const end = data.length - 4;
  const crcErr = verifyCRC32C(data, 5, end, 'tombstones');
  if (crcErr !== null) throw new TombstonesError(file, crcErr.offset, `read tombstones ${file}: ${crcErr.message}`, { cause: crcErr });
  const ts = new Tombstones();
  const cur: VarintCursor = { off: 5, value: 0 };
  while (cur.off < end) {
    const at = cur.off;
    readUvarint64(data, end, cur, file);
    const ref = cur.value;
    if (!Number.isFinite(ref)) throw new TombstonesError(file, at, `read tombstones ${file} at offset ${at}: series reference beyond 2^53`);
    readVarint64(data, end, cur, file);
    const mint = cur.value;
    readVarint64(data, end, cur, file);
    const maxt = cur.value;
    if (mint > maxt) throw new TombstonesError(file, at, `read tombstones ${file} at offset ${at}: interval [${mint}, ${maxt}] of series ${ref} is empty`);
    ts.add(ref, { minTime: mint, maxTime: maxt });
  }
  return ts;
}

/** readTombstones reads `<blockDir>/tombstones`; an absent file means no tombstones. */
export async function readTombstones(blockDir: string): Promise<Tombstones> {
  const file = join(blockDir, TOMBSTONES_FILENAME);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Tombstones();
    throw new TombstonesError(file, -1, `read tombstones ${file}: ${(err as Error).message}`, { cause: err });
  }
  return decodeTombstones(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

/** writeTombstones writes `<blockDir>/tombstones` atomically (temporary file, then rename). */
export async function writeTombstones(blockDir: string, ts: Tombstones): Promise<number> {
  const file = join(blockDir, TOMBSTONES_FILENAME);
  const data = encodeTombstones(ts);
  await writeFile(file + '.tmp', data);
  await rename(file + '.tmp', file);
  return data.length;
}

/** VarintCursor is the decoding position and the last value read (avoids a tuple per value). */
interface VarintCursor {
  off: number;
  value: number;
}

const TWO32 = 0x100000000;
/** Zig-zag varint bytes of math.MinInt64 (uvarint 2^64 − 1) and math.MaxInt64 (2^64 − 2). */
const MIN_INT64_VARINT = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
const MAX_INT64_VARINT = Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);

/** putTime writes a zig-zag varint time bound; ±Infinity become MinInt64 / MaxInt64. */
function putTime(e: Encbuf, v: number): void {
  if (v === -Infinity) e.putBytes(MIN_INT64_VARINT);
  else if (v === Infinity) e.putBytes(MAX_INT64_VARINT);
  else if (!Number.isSafeInteger(v)) throw new RangeError(`encode tombstone: time ${v} is not an integer within ±(2^53 − 1) or ±Infinity`);
  else e.putVarint(v);
}

/**
 * readUvarint64 reads a full 64-bit unsigned LEB128 value (as Go's binary.Uvarint) into cur.value
 * as two 32-bit halves folded into a number: exact below 2^53, +Infinity at or above it.
 * It also leaves the halves in `u64` for readVarint64.
 */
function readUvarint64(d: Uint8Array, end: number, cur: VarintCursor, file: string): void {
  const at = cur.off;
  let off = at;
  let lo = 0;
  let hi = 0;
  for (let i = 0; ; i++) {
    if (off >= end) throw new TombstonesError(file, at, `read tombstones ${file} at offset ${at}: truncated varint`);
    const b = d[off++]!;
    const bits = b & 0x7f;
    if (i === 9 && b > 1) throw new TombstonesError(file, at, `read tombstones ${file} at offset ${at}: varint overflows 64 bits`);
    // Bit position 7*i: split across the low and high 32-bit halves.
    const shift = 7 * i;
    if (shift < 32) {
      lo = (lo | (bits << shift)) >>> 0;
      if (shift > 25) hi = (hi | (bits >>> (32 - shift))) >>> 0;
    } else {
      hi = (hi | (bits << (shift - 32))) >>> 0;
    }
    if (b < 0x80) break;
  }
  cur.off = off;
  u64[0] = hi;
  u64[1] = lo;
  cur.value = hi > 0x1fffff ? Infinity : hi * TWO32 + lo;
}

/** Scratch halves (hi, lo) of the last readUvarint64 value. */
const u64 = new Uint32Array(2);

/**
 * readVarint64 reads a zig-zag varint int64 into cur.value: exact within ±(2^53 − 1), else ±Infinity
 * (math.MinInt64 → -Infinity, math.MaxInt64 → +Infinity).
 */
function readVarint64(d: Uint8Array, end: number, cur: VarintCursor, file: string): void {
  readUvarint64(d, end, cur, file);
  const hi = u64[0]!;
  const lo = u64[1]!;
  const neg = (lo & 1) === 1;
  // magnitude m = u >>> 1; value = neg ? -m - 1 : m.
  const mHi = hi >>> 1;
  const mLo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
  const m = mHi * TWO32 + mLo;
  if (neg) cur.value = mHi > 0x1fffff || m >= Number.MAX_SAFE_INTEGER ? -Infinity : -m - 1;
  else cur.value = mHi > 0x1fffff || m > Number.MAX_SAFE_INTEGER ? Infinity : m;
}
