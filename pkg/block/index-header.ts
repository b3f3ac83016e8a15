import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../encoding/index.js';
import type { BucketReader } from '../objstore/index.js';
import { IndexReader, TocLen, type Toc } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';
import { SparseByteSource, type ByteRegion } from './sparse-byte-source.js';

/** INDEX_HEADER_FILENAME is the local file name under `<data-dir>/<ULID>/`. */
export const INDEX_HEADER_FILENAME = 'index-header';
/** Our own index-header magic ("TIH1"); the file is a private local cache (blocks.md §5.9). */
const MAGIC = 0x54494831;
const VERSION = 1;

/** Options of IndexHeader.open. */
export interface IndexHeaderOpenOptions {
  readonly bucket: BucketReader;
  readonly ulid: string;
  /** dir is the local directory for index-header files (`<data-dir>`); undefined keeps it in memory only. */
  readonly dir?: string;
  /** indexSize, when known (meta.json thanos.files), saves an attributes call. */
  readonly indexSize?: number;
  readonly signal?: AbortSignal;
  /** onFetch is told about each ranged read made from the bucket (bytes). */
  readonly onFetch?: (bytes: number) => void;
}

/**
 * IndexHeader is the part of a block's index the store gateway keeps locally: the header, symbol
 * table, postings offset table and TOC, read from the bucket with at most two rounds of parallel
 * ranged reads (a small index is read and kept whole) and persisted as `<dir>/<ULID>/index-header`. It answers label names and values, symbol
 * lookups and the byte range of each postings list; postings lists and series are then fetched
 * from the bucket by range.
 *
 * File format (ours, big-endian): magic "TIH1", version 1, BE64 index size, BE32 region count,
 * regions (BE64 offset, BE32 length, bytes), CRC32C of everything before it.
 */
export class IndexHeader {
  /** reader is an IndexReader over the kept regions; only header-backed methods may be used. */
  readonly reader: IndexReader;
  /** indexSize is the size of the block's index object. */
  readonly indexSize: number;
  /** byteSize is the memory held by the header bytes. */
  readonly byteSize: number;
  /** The whole index, when it was small enough to be read (and kept) whole. */
  readonly #full: Uint8Array | undefined;

  private constructor(reader: IndexReader, indexSize: number, byteSize: number, full: Uint8Array | undefined) {
    this.reader = reader;
    this.indexSize = indexSize;
    this.byteSize = byteSize;
    this.#full = full;
  }

  /**
   * resident returns the index bytes [start, end) when the whole index is kept in the header (an
   * index of at most 128 KiB is read whole, so postings and series then need no further reads),
   * else undefined.
   */
  resident(start: number, end: number): Uint8Array | undefined {
    const f = this.#full;
    if (f === undefined || start < 0 || end > f.length) return undefined;
    return f.subarray(start, end);
  }

  /** toc is the index TOC. */
  get toc(): Toc {
    return this.reader.toc;
  }

  /**
   * seriesEnd is the end of the series section (first byte after the last series entry), the
   * bound for series read-ahead.
   */
  get seriesEnd(): number {
    const t = this.reader.toc;
    return t.labelIndices || t.postings || t.postingsTable;
  }

  /**
   * open loads `<dir>/<ulid>/index-header`, or builds it from the bucket (and writes it) when it
   * is missing or unreadable. Throws ThanosBlockError(IndexHeaderBuild) when the index in the
   * bucket is missing or corrupt.
   */
  static async open(o: IndexHeaderOpenOptions): Promise<IndexHeader> {
    const path = o.dir !== undefined ? join(o.dir, o.ulid, INDEX_HEADER_FILENAME) : undefined;
    if (path !== undefined) {
      let file: Uint8Array | undefined;
      try {
        file = await readFile(path);
      } catch {
        file = undefined;
      }
      if (file !== undefined) {
        try {
          return IndexHeader.decode(file, path);
        } catch {
          // A broken or foreign local file: rebuild it below.
        }
      }
    }
    const { size, regions } = await fetchRegions(o);
    const name = `${o.ulid}/index`;
    let reader: IndexReader;
    try {
      reader = IndexReader.open(new SparseByteSource(size, regions, name));
    } catch (err) {
      throw new ThanosBlockError(BlockErrorCode.IndexHeaderBuild, `build index-header of block ${o.ulid}: ${(err as Error).message}`, { cause: err, block: o.ulid });
    }
    const bytes = encode(size, regions);
    if (path !== undefined) {
      await mkdir(join(o.dir!, o.ulid), { recursive: true });
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
    }
    return new IndexHeader(reader, size, bytes.length, fullIndex(size, regions));
  }

  /** decode parses an index-header file; throws ThanosBlockError(IndexHeaderCorrupt). */
  static decode(file: Uint8Array, name: string): IndexHeader {
    const corrupt = (msg: string, cause?: unknown): ThanosBlockError =>
      new ThanosBlockError(BlockErrorCode.IndexHeaderCorrupt, `read index-header ${name}: ${msg}`, cause === undefined ? undefined : { cause });
    if (file.length < 21) throw corrupt(`file of ${file.length} bytes is too short`);
    const dv = new DataView(file.buffer, file.byteOffset, file.length);
    if (dv.getUint32(0) !== MAGIC) throw corrupt(`invalid magic number at offset 0`);
    if (file[4] !== VERSION) throw corrupt(`unsupported version ${file[4]} at offset 4`);
    const crcAt = file.length - 4;
    if (crc32c(file, 0, 0, crcAt) !== dv.getUint32(crcAt)) throw corrupt(`checksum mismatch at offset ${crcAt}`);
    const size = dv.getUint32(5) * 2 ** 32 + dv.getUint32(9);
    const n = dv.getUint32(13);
    const regions: ByteRegion[] = [];
    let p = 17;
    for (let i = 0; i < n; i++) {
      if (p + 12 > crcAt) throw corrupt(`region ${i} at offset ${p} runs past the end`);
      const off = dv.getUint32(p) * 2 ** 32 + dv.getUint32(p + 4);
      const len = dv.getUint32(p + 8);
      p += 12;
      if (p + len > crcAt) throw corrupt(`region ${i} at offset ${p} runs past the end`);
      regions.push({ offset: off, data: file.subarray(p, p + len) });
      p += len;
    }
    try {
      return new IndexHeader(IndexReader.open(new SparseByteSource(size, regions, name)), size, file.length, fullIndex(size, regions));
    } catch (err) {
      throw corrupt((err as Error).message, err);
    }
  }
}

/**
 * HEADER_READ_GUESS is how much of each end of the index the first round of reads fetches: the
 * symbol table starts the index, the postings offset table and the TOC end it. Indexes up to twice
 * this size are read whole, in one request.
 */
const HEADER_READ_GUESS = 64 * 1024;

/**
 * Reads the header, symbol table, postings offset table and TOC of the index with as few requests
 * as possible: a whole small index in one read; otherwise the first and the last
 * HEADER_READ_GUESS bytes in parallel, then (only when a section is longer) the exact remainders,
 * in parallel. The TOC tells the sections' bounds.
 */
async function fetchRegions(o: IndexHeaderOpenOptions): Promise<{ size: number; regions: ByteRegion[] }> {
  const name = `${o.ulid}/index`;
  const ro = o.signal !== undefined ? { signal: o.signal } : {};
  const fail = (msg: string, cause?: unknown): ThanosBlockError =>
    new ThanosBlockError(BlockErrorCode.IndexHeaderBuild, `build index-header of block ${o.ulid} from ${name}: ${msg}`, { block: o.ulid, ...(cause !== undefined ? { cause } : {}) });
  const get = async (off: number, len: number): Promise<Uint8Array> => {
    let b: Uint8Array;
    try {
      b = await o.bucket.getRange(name, off, len, ro);
    } catch (err) {
      if (o.bucket.isObjNotFoundErr(err)) throw fail('index object not found', err);
      throw err;
    }
    o.onFetch?.(b.length);
    if (b.length !== len) throw fail(`short read of [${off}, ${off + len}): got ${b.length} bytes`);
    return b;
  };
  let size = o.indexSize;
  if (size === undefined) {
    try {
      size = (await o.bucket.attributes(name, ro)).size;
    } catch (err) {
      if (o.bucket.isObjNotFoundErr(err)) throw fail('index object not found', err);
      throw err;
    }
  }
  if (size < 5 + TocLen) throw fail(`index of ${size} bytes is too small`);
  if (size <= 2 * HEADER_READ_GUESS) return { size, regions: [{ offset: 0, data: await get(0, size) }] };
  const tailOff = size - HEADER_READ_GUESS;
  const [head, tail] = await Promise.all([get(0, HEADER_READ_GUESS), get(tailOff, HEADER_READ_GUESS)]);
  const tocOff = size - TocLen;
  const tocBytes = tail.subarray(tocOff - tailOff);
  const dv = new DataView(tocBytes.buffer, tocBytes.byteOffset, TocLen);
  const be64 = (i: number): number => dv.getUint32(i * 8) * 2 ** 32 + dv.getUint32(i * 8 + 4);
  const symbols = be64(0);
  const series = be64(1);
  const postingsTable = be64(5);
  if (symbols < 5 || symbols >= tocOff || postingsTable < 5 || postingsTable >= tocOff) {
    // Let the IndexReader report the precise TOC problem (CRC, bounds).
    return { size, regions: [{ offset: tocOff, data: tocBytes.slice() }, { offset: 0, data: head.slice(0, 5) }] };
  }
  let headEnd: number;
  if (series > symbols && series <= tocOff) headEnd = series;
  else {
    const lenBytes = symbols + 4 <= head.length ? head.subarray(symbols, symbols + 4) : await get(symbols, 4);
    headEnd = Math.min(symbols + 4 + new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0) + 4, tocOff);
  }
  const [headRest, tableStart] = await Promise.all([
    headEnd > head.length ? get(head.length, headEnd - head.length) : Promise.resolve(undefined),
    postingsTable < tailOff ? get(postingsTable, tailOff - postingsTable) : Promise.resolve(undefined),
  ]);
  const headData = headRest === undefined ? head.slice(0, headEnd) : concat(head, headRest);
  const tableData = tableStart === undefined ? tail.slice(postingsTable - tailOff) : concat(tableStart, tail);
  return { size, regions: [{ offset: 0, data: headData }, { offset: postingsTable, data: tableData }] };
}

function fullIndex(size: number, regions: readonly ByteRegion[]): Uint8Array | undefined {
  const r = regions[0];
  return regions.length === 1 && r !== undefined && r.offset === 0 && r.data.length === size ? r.data : undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function encode(size: number, regions: readonly ByteRegion[]): Uint8Array {
  let total = 17 + 4;
  for (const r of regions) total += 12 + r.data.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC);
  out[4] = VERSION;
  dv.setUint32(5, Math.floor(size / 2 ** 32));
  dv.setUint32(9, size >>> 0);
  dv.setUint32(13, regions.length);
  let p = 17;
  for (const r of regions) {
    dv.setUint32(p, Math.floor(r.offset / 2 ** 32));
    dv.setUint32(p + 4, r.offset >>> 0);
    dv.setUint32(p + 8, r.data.length);
    out.set(r.data, p + 12);
    p += 12 + r.data.length;
  }
  dv.setUint32(p, crc32c(out, 0, 0, p));
  return out;
}
