import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';
import { DEFAULT_SEGMENT_SIZE, FragmentType, PAGE_SIZE, RECORD_HEADER_SIZE, listSegments, segmentName } from './segments.js';

/** WalOptions configure a Wal. */
export interface WalOptions {
  /** segmentSize is the maximum segment file size, a multiple of 32 KiB (default 128 MiB). */
  readonly segmentSize?: number;
  /**
   * fsync makes log() call fdatasync before resolving. Default false: log() resolves once the
   * records are written to the file (in the OS page cache), as Prometheus's WAL does, which
   * survives a killed process but not a machine crash; segments are fsynced when they are closed.
   */
  readonly fsync?: boolean;
}

/**
 * Wal writes Prometheus's write-ahead log format (tsdb/wlog): numbered segment files of 32 KiB
 * pages; a record is split into fragments (full / first / middle / last) that never cross a page,
 * each with a 7-byte header (type, BE16 length, BE32 CRC32-Castagnoli of the fragment); a page
 * with less than 7 bytes left is padded with zeros; a record never crosses a segment (a new
 * segment is started instead). No compression. Opening always starts a new segment after the
 * existing ones, as Prometheus does. Calls to log() are written one after the other.
 */
export class Wal {
  readonly dir: string;
  readonly #segmentSize: number;
  readonly #fsync: boolean;
  #fh: FileHandle | null = null;
  #segment = -1;
  /** Bytes written to the current segment (pages done × PAGE_SIZE + used bytes of the open page). */
  #size = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #buf = new Uint8Array(PAGE_SIZE * 2);

  private constructor(dir: string, opts: WalOptions) {
    this.dir = dir;
    this.#segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#fsync = opts.fsync === true;
    if (this.#segmentSize % PAGE_SIZE !== 0 || this.#segmentSize <= 0) {
      throw new TesseraError('TESSERA_WAL_INVALID_OPTION', `open WAL ${dir}: segment size ${this.#segmentSize} is not a positive multiple of ${PAGE_SIZE}`);
    }
  }

  /** open creates dir if needed and starts a new segment after the last existing one. */
  static async open(dir: string, opts: WalOptions = {}): Promise<Wal> {
    const w = new Wal(dir, opts);
    await mkdir(dir, { recursive: true });
    const segs = await listSegments(dir);
    await w.#startSegment(segs.length === 0 ? 0 : segs[segs.length - 1]! + 1);
    return w;
  }

  /** segment is the index of the segment being written. */
  get segment(): number {
    return this.#segment;
  }

  async #startSegment(i: number): Promise<void> {
    const fh = await open(join(this.dir, segmentName(i)), 'a');
    this.#fh = fh;
    this.#segment = i;
    this.#size = (await fh.stat()).size;
    // A new segment file is empty; keep page alignment if it was not.
    if (this.#size % PAGE_SIZE !== 0) {
      const pad = PAGE_SIZE - (this.#size % PAGE_SIZE);
      await fh.write(new Uint8Array(pad));
      this.#size += pad;
    }
  }

  async #closeSegment(): Promise<void> {
    const fh = this.#fh;
    if (fh === null) return;
    // Pad the open page to its end so the next segment starts clean (flushPage(true)).
    const used = this.#size % PAGE_SIZE;
    if (used !== 0) {
      await fh.write(new Uint8Array(PAGE_SIZE - used));
      this.#size += PAGE_SIZE - used;
    }
    await fh.datasync();
    await fh.close();
    this.#fh = null;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * log appends the records, in order, in one write. It resolves once they are written to the
   * segment file (and fdatasync'ed with the fsync option).
   */
  log(records: readonly Uint8Array[]): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) throw new TesseraError('TESSERA_WAL_CLOSED', `write WAL ${this.dir}: closed`);
      let out = this.#buf;
      let n = 0;
      const ensure = (k: number) => {
        if (n + k <= out.length) return;
        let size = out.length * 2;
        while (size < n + k) size *= 2;
        const nb = new Uint8Array(size);
        nb.set(out.subarray(0, n));
        out = nb;
      };
      for (const rec of records) {
        // Space left in the segment for record data, counting a header per page.
        const pageUsed = (this.#size + n) % PAGE_SIZE;
        const pagesLeft = (this.#segmentSize - (this.#size + n - pageUsed)) / PAGE_SIZE;
        const left = PAGE_SIZE - pageUsed - RECORD_HEADER_SIZE + (PAGE_SIZE - RECORD_HEADER_SIZE) * (pagesLeft - 1);
        if (rec.length > left) {
          const max = (PAGE_SIZE - RECORD_HEADER_SIZE) * (this.#segmentSize / PAGE_SIZE);
          if (rec.length > max) throw new TesseraError('TESSERA_WAL_RECORD_TOO_LARGE', `write WAL ${this.dir}: record of ${rec.length} bytes exceeds a segment (${max} bytes of data)`);
          if (n > 0) await this.#write(out.subarray(0, n));
          n = 0;
          await this.#closeSegment();
          await this.#startSegment(this.#segment + 1);
        }
        let off = 0;
        for (let first = true; first || off < rec.length; first = false) {
          let pageLeft = PAGE_SIZE - ((this.#size + n) % PAGE_SIZE);
          if (pageLeft < RECORD_HEADER_SIZE) {
            ensure(pageLeft);
            out.fill(0, n, n + pageLeft);
            n += pageLeft;
            pageLeft = PAGE_SIZE;
          }
          const len = Math.min(rec.length - off, pageLeft - RECORD_HEADER_SIZE);
          const last = off + len === rec.length;
          const type = first && last ? FragmentType.Full : last ? FragmentType.Last : first ? FragmentType.First : FragmentType.Middle;
          ensure(RECORD_HEADER_SIZE + len);
          const crc = crc32c(rec, 0, off, off + len);
          out[n] = type;
          out[n + 1] = len >>> 8;
          out[n + 2] = len & 0xff;
          out[n + 3] = crc >>> 24;
          out[n + 4] = (crc >>> 16) & 0xff;
          out[n + 5] = (crc >>> 8) & 0xff;
          out[n + 6] = crc & 0xff;
          out.set(rec.subarray(off, off + len), n + RECORD_HEADER_SIZE);
          n += RECORD_HEADER_SIZE + len;
          off += len;
          // A page with no room for another header is padded now (Prometheus flushes it full).
          const rest = PAGE_SIZE - ((this.#size + n) % PAGE_SIZE);
          if (rest < RECORD_HEADER_SIZE && rest !== PAGE_SIZE) {
            ensure(rest);
            out.fill(0, n, n + rest);
            n += rest;
          }
        }
      }
      if (out.length <= PAGE_SIZE * 64) this.#buf = out;
      if (n > 0) await this.#write(out.subarray(0, n));
      if (this.#fsync) await this.#fh!.datasync();
    });
  }

  async #write(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) {
      const { bytesWritten } = await this.#fh!.write(b, off, b.length - off);
      off += bytesWritten;
    }
    this.#size += b.length;
  }

  /**
   * nextSegment closes the current segment (padded, fsynced) and starts the next one; it resolves
   * with the index of the new segment. Every segment below it is then complete (for checkpoints).
   */
  nextSegment(): Promise<number> {
    return this.#serial(async () => {
      await this.#closeSegment();
      await this.#startSegment(this.#segment + 1);
      return this.#segment;
    });
  }

  /** sync fdatasyncs the current segment. */
  sync(): Promise<void> {
    return this.#serial(async () => {
      if (this.#fh !== null) await this.#fh.datasync();
    });
  }

  /** close fsyncs and closes the current segment (without padding its last page). */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      if (this.#fh !== null) {
        await this.#fh.datasync();
        await this.#fh.close();
        this.#fh = null;
      }
    });
  }
}
