import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkMeta } from '../../chunkenc/index.js';
import { crc32c, putUvarint } from '../../encoding/index.js';
import { DEFAULT_SEGMENT_SIZE, MAX_CHUNK_LEN_FIELD_SIZE, SEGMENT_HEADER_SIZE, SEGMENT_MAGIC, SEGMENT_VERSION, chunkRef, segmentFileName } from './segment-format.js';

/** ChunkSegmentWriterOptions configures a ChunkSegmentWriter. */
export interface ChunkSegmentWriterOptions {
  /** segmentSize is the maximum segment file size in bytes (default 512 MiB). */
  readonly segmentSize?: number;
  /** bufferSize is how many bytes are buffered before a write to the file (default 1 MiB). */
  readonly bufferSize?: number;
}

/**
 * ChunkSegmentWriter writes chunk segment files `000001`, `000002`, … into a `chunks/` directory
 * (blocks.md §4), the equivalent of Prometheus's chunks.Writer. writeChunks assigns each chunk's
 * `ref`; call it once per series (in index order) so a series' chunks stay in one segment when
 * possible. close() must be called (and awaited) once at the end.
 */
export class ChunkSegmentWriter {
  readonly #dir: string;
  readonly #segmentSize: number;
  readonly #bufferSize: number;
  #file: FileHandle | null = null;
  #seq = -1;
  /** Bytes written to the current segment so far (buffered or not). */
  #n = 0;
  #buf: Uint8Array;
  #bufLen = 0;
  #files: string[] = [];
  #maxChunkSize = 0;

  private constructor(dir: string, options: ChunkSegmentWriterOptions) {
    this.#dir = dir;
    this.#segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#bufferSize = options.bufferSize ?? 1 << 20;
    this.#buf = new Uint8Array(this.#bufferSize + 64);
  }

  /** create makes the directory if needed and returns a writer; no file exists until the first chunk. */
  static async create(chunksDir: string, options: ChunkSegmentWriterOptions = {}): Promise<ChunkSegmentWriter> {
    await mkdir(chunksDir, { recursive: true });
    return new ChunkSegmentWriter(chunksDir, options);
  }

  /** segmentFiles lists the names of the files written so far ("000001", …). */
  get segmentFiles(): readonly string[] {
    return this.#files;
  }

  /** maxChunkSize is the largest record written (len field + encoding + data + CRC), for index_stats. */
  get maxChunkSize(): number {
    return this.#maxChunkSize;
  }

  /**
   * writeChunks appends the chunks (one series' chunks, in time order) and sets each `ref`. A new
   * segment is started when the batch would not fit in the current one, except that the first chunk
   * of a segment is always written (so a segment may exceed the limit a little).
   */
  async writeChunks(chks: ChunkMeta[]): Promise<void> {
    // Split into batches that fit the segment size, as Prometheus does.
    let batchSize = 0;
    let batchStart = 0;
    let first = true;
    const batches: [number, number][] = [[0, 0]];
    for (let i = 0; i < chks.length; i++) {
      const size = MAX_CHUNK_LEN_FIELD_SIZE + 1 + chks[i]!.chunk.bytes().length + 4;
      batchSize += size;
      let cut = i !== 0 && batchSize + SEGMENT_HEADER_SIZE > this.#segmentSize;
      if (first && this.#n > SEGMENT_HEADER_SIZE) {
        cut = batchSize + this.#n > this.#segmentSize;
        if (cut) first = false;
      }
      if (cut) {
        batchStart = i;
        batches.push([i, i]);
        batchSize = size;
      }
      batches[batches.length - 1] = [batchStart, i + 1];
    }
    if (this.#file === null) await this.#cut();
    for (let b = 0; b < batches.length; b++) {
      const [from, to] = batches[b]!;
      for (let i = from; i < to; i++) await this.#writeOne(chks[i]!);
      if (b < batches.length - 1) await this.#cut();
    }
  }

  async #writeOne(c: ChunkMeta): Promise<void> {
    const data = c.chunk.bytes();
    const need = MAX_CHUNK_LEN_FIELD_SIZE + 1 + data.length + 4;
    if (this.#bufLen + need > this.#buf.length) {
      await this.#flush();
      if (need > this.#buf.length) this.#buf = new Uint8Array(need);
    }
    c.ref = chunkRef(this.#seq, this.#n);
    const buf = this.#buf;
    const start = this.#bufLen;
    let off = putUvarint(buf, start, data.length);
    const encStart = off;
    buf[off++] = c.chunk.encoding();
    buf.set(data, off);
    off += data.length;
    const crc = crc32c(buf, 0, encStart, off);
    buf[off++] = crc >>> 24;
    buf[off++] = (crc >>> 16) & 0xff;
    buf[off++] = (crc >>> 8) & 0xff;
    buf[off++] = crc & 0xff;
    const written = off - start;
    this.#bufLen = off;
    this.#n += written;
    if (written > this.#maxChunkSize) this.#maxChunkSize = written;
    if (this.#bufLen >= this.#bufferSize) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#bufLen === 0 || this.#file === null) return;
    let off = 0;
    while (off < this.#bufLen) {
      const { bytesWritten } = await this.#file.write(this.#buf, off, this.#bufLen - off);
      off += bytesWritten;
    }
    this.#bufLen = 0;
  }

  async #finishFile(): Promise<void> {
    if (this.#file === null) return;
    await this.#flush();
    await this.#file.sync();
    await this.#file.close();
    this.#file = null;
  }

  async #cut(): Promise<void> {
    await this.#finishFile();
    this.#seq++;
    const name = segmentFileName(this.#seq);
    this.#file = await open(join(this.#dir, name), 'w');
    this.#files.push(name);
    const b = this.#buf;
    b[0] = SEGMENT_MAGIC >>> 24;
    b[1] = (SEGMENT_MAGIC >>> 16) & 0xff;
    b[2] = (SEGMENT_MAGIC >>> 8) & 0xff;
    b[3] = SEGMENT_MAGIC & 0xff;
    b[4] = SEGMENT_VERSION;
    b[5] = b[6] = b[7] = 0;
    this.#bufLen = SEGMENT_HEADER_SIZE;
    this.#n = SEGMENT_HEADER_SIZE;
  }

  /** close flushes, fsyncs and closes the current segment file. */
  async close(): Promise<void> {
    await this.#finishFile();
  }
}
