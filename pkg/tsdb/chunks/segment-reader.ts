import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chunkFromData, type Chunk } from '../../chunkenc/index.js';
import { UvarintStatus, type UvarintRead } from '../../encoding/index.js';
import { chunkRecordChecksum, readChunkRecordLength } from './chunk-record.js';

/** Scratch for the length field of the record being read (reads are synchronous). */
const lenField: UvarintRead = { value: 0, next: 0 };
import { ChunkSegmentError } from './chunk-segment-error.js';
import { MAX_CHUNK_LEN_FIELD_SIZE, SEGMENT_HEADER_SIZE, SEGMENT_MAGIC, SEGMENT_VERSION, chunkRefOffset, chunkRefSegment } from './segment-format.js';

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

/** ChunkSegmentFileOptions configures a positional (file descriptor) ChunkSegmentReader. */
export interface ChunkSegmentFileOptions {
  /**
   * readAhead is how many bytes the first read of a record fetches (length field, encoding, data
   * and CRC of chunks up to about this size); longer records take a second read. Default 1024.
   */
  readonly readAhead?: number;
  /**
   * sequentialWindow is how many bytes one read fetches when records are read in file order (the
   * next record starts at or just after the previous one), served from memory until left.
   * Default 64 KiB; at most this much is held per reader.
   */
  readonly sequentialWindow?: number;
}

/** DEFAULT_READ_AHEAD covers XOR chunks (≤ ~1 KiB since Prometheus 2.47) with one read. */
const DEFAULT_READ_AHEAD = 1024;
/** DEFAULT_SEQUENTIAL_WINDOW is the read size for in-order walks (a series' chunks, records()). */
const DEFAULT_SEQUENTIAL_WINDOW = 64 * 1024;

/** Where the bytes of one segment come from: memory, or an open file read positionally. */
interface Seg {
  readonly file: string;
  readonly size: number;
  /** data is set in memory mode. */
  readonly data: Uint8Array | undefined;
  /** fd is ≥ 0 in file mode while open, -1 once closed (or in memory mode). */
  fd: number;
}

/**
 * ChunkSegmentReader resolves chunk references of one block against its segment files (blocks.md
 * §4), the equivalent of Prometheus's chunks.Reader. It works in one of two modes:
 *
 * - memory: segments given as bytes (constructor, or open(), which reads every file whole); records
 *   and chunks are zero-copy views of those bytes, valid as long as the reader is referenced.
 * - positional: openFiles() keeps one read-only file descriptor per segment and reads each record on
 *   demand with pread (one read of `readAhead` bytes, or of `sequentialWindow` bytes when reading in
 *   file order, and a second one for longer records); each chunk is a view into the freshly
 *   allocated buffer of the read that fetched it (never reused, so it stays valid and unchanged).
 *   Memory does not grow with the size of the segment files beyond the chunks callers keep.
 *   close() releases the descriptors; reads afterwards throw.
 *
 * Headers are checked when the reader is built; every record's CRC is checked when it is read.
 * Errors are ChunkSegmentErrors that name the file and offset. Reads are synchronous.
 */
export class ChunkSegmentReader {
  // Set once, by the constructor or by openFiles().
  #segs: readonly Seg[];
  #mem: readonly ChunkSegment[] | undefined;
  #readAhead: number;
  #seqWindow: number;
  /** Bytes read last: file offsets [#winOff, #winOff + #winLen) of #winSeg are in #scratch. */
  #scratch: Uint8Array;
  #winSeg: Seg | undefined;
  #winOff = 0;
  #winLen = 0;
  /** End of the record read last, to detect sequential access. */
  #lastSeg: Seg | undefined;
  #lastEnd = 0;

  /** The constructor checks every segment's header; segments must be given in file-name order. */
  constructor(segments: readonly ChunkSegment[]) {
    for (const s of segments) checkHeader(s.file, s.data);
    this.#mem = segments;
    this.#segs = segments.map((s) => ({ file: s.file, size: s.data.length, data: s.data, fd: -1 }));
    this.#readAhead = DEFAULT_READ_AHEAD;
    this.#seqWindow = DEFAULT_SEQUENTIAL_WINDOW;
    this.#scratch = new Uint8Array(0);
    this.#winSeg = undefined;
    this.#lastSeg = undefined;
  }

  /**
   * open reads every segment file of `chunksDir` whole into memory (names that parse as unsigned
   * integers, sorted by name; the position in that list is the segment index). Prefer openFiles()
   * for blocks on local disk: it does not load the files.
   */
  static async open(chunksDir: string): Promise<ChunkSegmentReader> {
    const segNames = await listSegments(chunksDir);
    const segs: ChunkSegment[] = [];
    for (const n of segNames) {
      const file = join(chunksDir, n);
      let buf: Buffer;
      try {
        buf = await readFile(file);
      } catch (err) {
        throw new ChunkSegmentError(file, -1, `read chunk segment file ${file}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
      }
      segs.push({ file, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
    }
    return new ChunkSegmentReader(segs);
  }

  /**
   * openFiles opens every segment file of `chunksDir` read-only for positional reads (same file
   * selection as open()); only the 8-byte headers are read now. Call close() when done.
   */
  static async openFiles(chunksDir: string, options: ChunkSegmentFileOptions = {}): Promise<ChunkSegmentReader> {
    const segNames = await listSegments(chunksDir);
    const segs: Seg[] = [];
    try {
      for (const n of segNames) {
        const file = join(chunksDir, n);
        let fd: number;
        let size: number;
        try {
          fd = openSync(file, 'r');
        } catch (err) {
          throw new ChunkSegmentError(file, -1, `open chunk segment file ${file}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
        }
        const seg: Seg = { file, size: 0, data: undefined, fd };
        segs.push(seg);
        try {
          size = fstatSync(fd).size;
        } catch (err) {
          throw new ChunkSegmentError(file, -1, `stat chunk segment file ${file}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
        }
        (seg as { size: number }).size = size;
        const head = new Uint8Array(Math.min(size, SEGMENT_HEADER_SIZE));
        preadFully(seg, head, 0, head.length, 0);
        checkHeader(file, head, size);
      }
    } catch (err) {
      for (const s of segs) closeSeg(s);
      throw err;
    }
    const r = new ChunkSegmentReader([]);
    r.#segs = segs;
    r.#mem = undefined;
    r.#readAhead = Math.max(16, options.readAhead ?? DEFAULT_READ_AHEAD);
    r.#seqWindow = Math.max(r.#readAhead, options.sequentialWindow ?? DEFAULT_SEQUENTIAL_WINDOW);
    return r;
  }

  /** positional reports whether records are read from files on demand (openFiles). */
  get positional(): boolean {
    return this.#mem === undefined;
  }

  /**
   * segments returns the in-memory segments, in index order. Only memory-mode readers have them:
   * a positional reader (openFiles) throws a TypeError; use segmentCount/segmentFiles instead.
   */
  get segments(): readonly ChunkSegment[] {
    if (this.#mem === undefined) throw new TypeError('ChunkSegmentReader.segments: a positional reader holds no segment bytes');
    return this.#mem;
  }

  /** segmentCount is the number of segment files. */
  get segmentCount(): number {
    return this.#segs.length;
  }

  /** segmentFiles lists the segment file paths (or names given to the constructor), in index order. */
  get segmentFiles(): readonly string[] {
    return this.#segs.map((s) => s.file);
  }

  /** size is the total size of all segment files in bytes. */
  get size(): number {
    let n = 0;
    for (const s of this.#segs) n += s.size;
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
    return seg.data !== undefined ? readRecord(seg.file, seg.data, segIdx, off) : this.#readRecordAt(seg, segIdx, off);
  }

  /** chunk returns the chunk at ref (decodable for encodings 1, 2 and 3). */
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
    while (off < seg.size) {
      const r = this.record(segIdx * 0x100000000 + off);
      yield r;
      off += r.size;
    }
  }

  /** close releases the file descriptors of a positional reader (no-op in memory mode). */
  close(): void {
    for (const s of this.#segs) closeSeg(s);
  }

  /**
   * Reads one record with pread. Records inside the window of bytes read last are served from it;
   * otherwise the first read fetches `readAhead` bytes, or `sequentialWindow` bytes when the record
   * starts at or shortly after the end of the previous one (a series walk reads chunks in file
   * order). A record longer than what was read takes a second read into an exact-size buffer.
   * The returned data is a view into a window buffer that is never written again (each read
   * allocates a new window), so it stays valid and unchanged for as long as the caller keeps it.
   */
  #readRecordAt(seg: Seg, segIdx: number, off: number): ChunkRecord {
    const file = seg.file;
    if (seg.fd < 0) throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: reader is closed`, { code: 'TESSERA_CHUNK_SEGMENT_IO' });
    if (off < SEGMENT_HEADER_SIZE || off >= seg.size) {
      throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: offset outside the records (file has ${seg.size} bytes)`, { code: 'TESSERA_CHUNK_REF_INVALID' });
    }
    let s = this.#scratch;
    let base: number; // index in s of file offset `off`
    let avail: number; // bytes of s valid from base
    if (this.#winSeg === seg && off >= this.#winOff && off + MAX_CHUNK_LEN_FIELD_SIZE + 1 <= this.#winOff + this.#winLen) {
      base = off - this.#winOff;
      avail = this.#winLen - base;
    } else {
      const sequential = this.#lastSeg === seg && off >= this.#lastEnd && off - this.#lastEnd < this.#seqWindow;
      const first = Math.min(sequential ? this.#seqWindow : this.#readAhead, seg.size - off);
      // A fresh window per read: records are returned as views into it, so it is never reused.
      s = this.#scratch = new Uint8Array(Math.max(first, this.#readAhead));
      this.#winSeg = undefined;
      preadFully(seg, s, 0, first, off);
      this.#winSeg = seg;
      this.#winOff = off;
      this.#winLen = first;
      base = 0;
      avail = first;
    }
    const st = readChunkRecordLength(s, base, base + avail, lenField);
    if (st === UvarintStatus.Short) throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: truncated length field`);
    if (st === UvarintStatus.Invalid) throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: length field longer than ${MAX_CHUNK_LEN_FIELD_SIZE} bytes`);
    const len = lenField.value;
    const encAt = lenField.next - base;
    const recEnd = encAt + 1 + len + 4; // relative to off
    if (off + recEnd > seg.size) {
      throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: chunk of ${len} bytes runs past the end of the ${seg.size}-byte file`);
    }
    // body = encoding byte + data + CRC.
    let body: Uint8Array;
    if (recEnd <= avail) {
      body = s.subarray(base + encAt, base + recEnd);
    } else {
      body = new Uint8Array(recEnd - encAt);
      const have = avail - encAt;
      body.set(s.subarray(base + encAt, base + avail));
      preadFully(seg, body, have, body.length - have, off + avail);
    }
    this.#lastSeg = seg;
    this.#lastEnd = off + recEnd;
    const end = 1 + len;
    const bad = chunkRecordChecksum(body, 0, len);
    if (bad !== null) {
      throw new ChunkSegmentError(seg.file, off, `${whereOf(file, off)}: checksum mismatch: stored ${hex8(bad.stored)}, computed ${hex8(bad.computed)}`, { code: 'TESSERA_CHUNK_CHECKSUM' });
    }
    return { encoding: body[0]!, data: body.subarray(1, end), ref: segIdx * 0x100000000 + off, size: recEnd };
  }
}

async function listSegments(chunksDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(chunksDir);
  } catch (err) {
    throw new ChunkSegmentError(chunksDir, -1, `list chunk segment files in ${chunksDir}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
  }
  return names.filter((n) => /^[0-9]+$/.test(n)).sort();
}

function closeSeg(s: Seg): void {
  if (s.fd >= 0) {
    const fd = s.fd;
    s.fd = -1;
    closeSync(fd);
  }
}

/** preadFully reads exactly len bytes at file offset pos into buf[at…]; a short file is an error. */
function preadFully(seg: Seg, buf: Uint8Array, at: number, len: number, pos: number): void {
  let done = 0;
  while (done < len) {
    let n: number;
    try {
      n = readSync(seg.fd, buf, at + done, len - done, pos + done);
    } catch (err) {
      throw new ChunkSegmentError(seg.file, pos + done, `read ${seg.file} at offset ${pos + done}: ${(err as Error).message}`, { cause: err, code: 'TESSERA_CHUNK_SEGMENT_IO' });
    }
    if (n === 0) throw new ChunkSegmentError(seg.file, pos + done, `read ${seg.file} at offset ${pos + done}: unexpected end of file (file shrank while open?)`);
    done += n;
  }
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

function checkHeader(file: string, d: Uint8Array, size = d.length): void {
  if (size < SEGMENT_HEADER_SIZE) {
    throw new ChunkSegmentError(file, 0, `read chunk segment header of ${file} at offset 0: file has ${size} bytes, header needs ${SEGMENT_HEADER_SIZE}`);
  }
  const magic = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  if (magic !== SEGMENT_MAGIC) {
    throw new ChunkSegmentError(file, 0, `read chunk segment header of ${file} at offset 0: invalid magic number ${hex8(magic)}, want 85bd40dd`);
  }
  if (d[4] !== SEGMENT_VERSION) {
    throw new ChunkSegmentError(file, 4, `read chunk segment header of ${file} at offset 4: unsupported format version ${d[4]!}`);
  }
}

function readRecord(file: string, d: Uint8Array, segIdx: number, off: number): ChunkRecord {
  if (off < SEGMENT_HEADER_SIZE || off >= d.length) {
    throw new ChunkSegmentError(file, off, `${whereOf(file, off)}: offset outside the records (file has ${d.length} bytes)`, { code: 'TESSERA_CHUNK_REF_INVALID' });
  }
  const st = readChunkRecordLength(d, off, d.length, lenField);
  if (st === UvarintStatus.Short) throw new ChunkSegmentError(file, off, `${whereOf(file, off)}: truncated length field`);
  if (st === UvarintStatus.Invalid) throw new ChunkSegmentError(file, off, `${whereOf(file, off)}: length field longer than ${MAX_CHUNK_LEN_FIELD_SIZE} bytes`);
  const len = lenField.value;
  const encAt = lenField.next;
  const end = encAt + 1 + len;
  if (end + 4 > d.length) {
    throw new ChunkSegmentError(file, off, `${whereOf(file, off)}: chunk of ${len} bytes runs past the end of the ${d.length}-byte file`);
  }
  const bad = chunkRecordChecksum(d, encAt, len);
  if (bad !== null) {
    throw new ChunkSegmentError(file, off, `${whereOf(file, off)}: checksum mismatch: stored ${hex8(bad.stored)}, computed ${hex8(bad.computed)}`, {
      code: 'TESSERA_CHUNK_CHECKSUM',
    });
  }
  return { encoding: d[encAt]!, data: d.subarray(encAt + 1, end), ref: segIdx * 0x100000000 + off, size: end + 4 - off };
}

/** whereOf names a record for error messages (built only when an error is raised). */
function whereOf(file: string, off: number): string {
  return `read chunk in ${file} at offset ${off}`;
}
