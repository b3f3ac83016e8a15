import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * ByteSource is random read access to an immutable file (an index, a chunk segment) without
 * loading it whole. read(off, len) returns exactly `len` bytes starting at `off`, or throws a
 * RangeError when [off, off+len) is not inside [0, size). The returned bytes may be a view into a
 * shared buffer (BufferByteSource) or a fresh copy (FileByteSource); callers must not modify them,
 * and may keep them as long as they like.
 */
export interface ByteSource {
  /** size is the total length in bytes. */
  readonly size: number;
  /** name identifies the source in error messages (a path, or "<memory>"). */
  readonly name: string;
  read(off: number, len: number): Uint8Array;
  /** close releases the underlying resource; reads afterwards throw. */
  close(): void;
}

function checkRange(src: ByteSource, off: number, len: number): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > src.size) {
    throw new RangeError(`read ${src.name}: range [${off}, ${off + len}) outside file of ${src.size} bytes`);
  }
}

/** BufferByteSource serves reads from bytes already in memory; reads are zero-copy views. */
export class BufferByteSource implements ByteSource {
  readonly #data: Uint8Array;
  readonly name: string;

  constructor(data: Uint8Array, name = '<memory>') {
    this.#data = data;
    this.name = name;
  }

  get size(): number {
    return this.#data.length;
  }

  read(off: number, len: number): Uint8Array {
    checkRange(this, off, len);
    return this.#data.subarray(off, off + len);
  }

  close(): void {}
}

/**
 * FileByteSource reads a local file with positional synchronous reads (pread), so only the bytes
 * asked for are loaded. The file must not change while open.
 */
export class FileByteSource implements ByteSource {
  #fd: number;
  readonly size: number;
  readonly name: string;

  private constructor(fd: number, size: number, name: string) {
    this.#fd = fd;
    this.size = size;
    this.name = name;
  }

  /** open opens path read-only. */
  static open(path: string): FileByteSource {
    const fd = openSync(path, 'r');
    try {
      return new FileByteSource(fd, fstatSync(fd).size, path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  read(off: number, len: number): Uint8Array {
    if (this.#fd < 0) throw new RangeError(`read ${this.name}: file is closed`);
    checkRange(this, off, len);
    const buf = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.#fd, buf, done, len - done, off + done);
      if (n === 0) throw new RangeError(`read ${this.name}: unexpected end of file at offset ${off + done}`);
      done += n;
    }
    return buf;
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }
}
