import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkFromData, type Chunk } from '../../chunkenc/index.js';
import { crc32c } from '../../encoding/index.js';
import { ChunkSegmentError } from './chunk-segment-error.js';
import { SEGMENT_HEADER_SIZE, SEGMENT_MAGIC, SEGMENT_VERSION, chunkRefOffset, chunkRefSegment } from './segment-format.js';

/** ChunkSegment is one segment file's bytes and the name used in error messages. */
export interface ChunkSegment {
  readonly file: string;
  readonly data: Uint8Array;
}

/** ChunkRecord is one raw record of a segment file: encoding byte and data (a view, not a copy). */
export interface ChunkRecord {
  readonly encoding: number;
  readonly data: Uint8Array;
  /** ref of the record (segment index << 32 | offset of its length field). */
  readonly ref: number;
  /** size of the whole record in bytes (length field, encoding, data and CRC). */
  readonly size: number;
}

/**
 * ChunkSegmentReader resolves chunk references of one block against its segment files held in
 * memory (blocks.md §4), the equivalent of Prometheus's chunks.Reader. Headers are checked when the
 * reader is built; every record's CRC is checked when it is read. Errors are ChunkSegmentErrors that
 * name the file and offset. Returned chunks and records view the segment bytes (no copies) and stay
 * valid as long as the reader is referenced.
 */
export class ChunkSegmentReader {
  readonly #segs: readonly ChunkSegment[];

  /** The constructor checks every segment's header; segments must be given in file-name order. */
  constructor(segments: readonly ChunkSegment[]) {
    for (const s of segments) checkHeader(s);
    this.#segs = segments;
  }

  /**
   * open reads every segment file of `chunksDir` (names that parse as unsigned integers, sorted by
   * name; the position in that list is the segment index).
   */
  static async open(chunksDir: string): Promise<ChunkSegmentReader> {
    let names: string[];
    try {
      names = await readdir(chunksDir);
    } catch (err) {
      throw new ChunkSegmentError(chunksDir, -1, `list chunk segment files in ${chunksDir}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
    }
    const segNames = names.filter((n) => /^[0-9]+$/.test(n)).sort();
    const segs: ChunkSegment[] = [];
    for (const n of segNames) {
      const file = join(chunksDir, n);
      const buf = await readFile(file);
      segs.push({ file, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
    }
    return new ChunkSegmentReader(segs);
  }

  /** segments returns the segments, in index order. */
  get segments(): readonly ChunkSegment[] {
    return this.#segs;
  }

  /** size is the total size of all segment files in bytes. */
  get size(): number {
    let n = 0;
    for (const s of this.#segs) n += s.data.length;
    return n;
  }

  /** record returns the raw record at ref, after checking its CRC. */
  record(ref: number): ChunkRecord {
    const segIdx = chunkRefSegment(ref);
    const off = chunkRefOffset(ref);
    const seg = this.#segs[segIdx];
    if (seg === undefined) {
      throw new ChunkSegmentError('', off, `read chunk ref ${ref}: segment index ${segIdx} does not exist (${this.#segs.length} segment files)`, { code: 'TESSERA_CHUNK_REF_INVALID' });
    }
    return readRecord(seg, segIdx, off);
  }

  /** chunk returns the chunk at ref (XOR decodable; histogram encodings opaque). */
  chunk(ref: number): Chunk {
    const r = this.record(ref);
    try {
      return chunkFromData(r.encoding, r.data);
    } catch (err) {
      const seg = this.#segs[chunkRefSegment(ref)]!;
      throw new ChunkSegmentError(seg.file, chunkRefOffset(ref), `read chunk in ${seg.file} at offset ${chunkRefOffset(ref)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** records iterates all records of segment segIdx in file order (checking each CRC). */
  *records(segIdx: number): Generator<ChunkRecord> {
    const seg = this.#segs[segIdx];
    if (seg === undefined) return;
    let off = SEGMENT_HEADER_SIZE;
    while (off < seg.data.length) {
      const r = readRecord(seg, segIdx, off);
      yield r;
      off += r.size;
    }
  }
}

function checkHeader(s: ChunkSegment): void {
  const d = s.data;
  if (d.length < SEGMENT_HEADER_SIZE) {
    throw new ChunkSegmentError(s.file, 0, `read chunk segment header of ${s.file} at offset 0: file has ${d.length} bytes, header needs ${SEGMENT_HEADER_SIZE}`);
  }
  const magic = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  if (magic !== SEGMENT_MAGIC) {
    throw new ChunkSegmentError(s.file, 0, `read chunk segment header of ${s.file} at offset 0: invalid magic number ${magic.toString(16).padStart(8, '0')}, want 85bd40dd`);
  }
  if (d[4] !== SEGMENT_VERSION) {
    throw new ChunkSegmentError(s.file, 4, `read chunk segment header of ${s.file} at offset 4: unsupported format version ${d[4]!}`);
  }
}

function readRecord(seg: ChunkSegment, segIdx: number, off: number): ChunkRecord {
  const d = seg.data;
  const where = `read chunk in ${seg.file} at offset ${off}`;
  if (off < SEGMENT_HEADER_SIZE || off >= d.length) {
    throw new ChunkSegmentError(seg.file, off, `${where}: offset outside the records (file has ${d.length} bytes)`, { code: 'TESSERA_CHUNK_REF_INVALID' });
  }
  let p = off;
  let len = 0;
  let mul = 1;
  for (let k = 0; ; k++) {
    if (p >= d.length) throw new ChunkSegmentError(seg.file, off, `${where}: truncated length field`);
    if (k >= 5) throw new ChunkSegmentError(seg.file, off, `${where}: length field longer than 5 bytes`);
    const b = d[p++]!;
    len += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
  }
  const encAt = p;
  const end = encAt + 1 + len;
  if (end + 4 > d.length) {
    throw new ChunkSegmentError(seg.file, off, `${where}: chunk of ${len} bytes runs past the end of the ${d.length}-byte file`);
  }
  const want = ((d[end]! << 24) | (d[end + 1]! << 16) | (d[end + 2]! << 8) | d[end + 3]!) >>> 0;
  const got = crc32c(d, 0, encAt, end);
  if (want !== got) {
    throw new ChunkSegmentError(seg.file, off, `${where}: checksum mismatch: stored ${want.toString(16).padStart(8, '0')}, computed ${got.toString(16).padStart(8, '0')}`, {
      code: 'TESSERA_CHUNK_CHECKSUM',
    });
  }
  return { encoding: d[encAt]!, data: d.subarray(encAt + 1, end), ref: segIdx * 0x100000000 + off, size: end + 4 - off };
}
