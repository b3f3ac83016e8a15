import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/**
 * ByteSink is an append-only byte destination with a known position (the number of bytes written
 * so far). write copies what it needs before returning, so callers may reuse their buffers.
 */
export interface ByteSink {
  readonly pos: number;
  write(b: Uint8Array): void;
  /** close flushes (and for files, fsyncs) and releases the sink. */
  close(): void;
}

/** MemoryByteSink collects everything in a growable buffer; bytes() returns a view of it. */
export class MemoryByteSink implements ByteSink {
  #buf = new Uint8Array(1 << 16);
  #len = 0;

  get pos(): number {
    return this.#len;
  }

  write(b: Uint8Array): void {
    const need = this.#len + b.length;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const nb = new Uint8Array(size);
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
    }
    this.#buf.set(b, this.#len);
    this.#len = need;
  }

  /** bytes returns the written bytes (a view; valid until the next write). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  close(): void {}
}

const fileBufferSize = 1 << 20;

/**
 * FileByteSink writes a new file through a 1 MiB buffer with synchronous writes, and fsyncs on
 * close. The file is created (or truncated) by create.
 */
export class FileByteSink implements ByteSink {
  #fd: number;
  readonly #buf = new Uint8Array(fileBufferSize);
  #buffered = 0;
  #flushed = 0;
  readonly path: string;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  static create(path: string): FileByteSink {
    return new FileByteSink(openSync(path, 'w'), path);
  }

  get pos(): number {
    return this.#flushed + this.#buffered;
  }

  write(b: Uint8Array): void {
    if (this.#fd < 0) throw new RangeError(`write ${this.path}: file is closed`);
    if (this.#buffered + b.length > this.#buf.length) this.#flush();
    if (b.length >= this.#buf.length) {
      this.#writeAll(b);
      return;
    }
    this.#buf.set(b, this.#buffered);
    this.#buffered += b.length;
  }

  #writeAll(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.#fd, b, done, b.length - done);
    this.#flushed += b.length;
  }

  /** flush writes the buffered bytes to the file (no fsync), so a reader of the path sees everything written so far. */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#buffered === 0) return;
    const n = this.#buffered;
    this.#buffered = 0;
    this.#writeAll(this.#buf.subarray(0, n));
  }

  close(): void {
    if (this.#fd < 0) return;
    try {
      this.#flush();
      fsyncSync(this.#fd);
    } finally {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  /** abort closes without flushing (after an error); the partial file stays for the caller to remove. */
  abort(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
