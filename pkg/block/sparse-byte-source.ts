import type { ByteSource } from '../tsdb/index.js';

/** ByteRegion is a piece [offset, offset + data.length) of a larger file. */
export interface ByteRegion {
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * SparseByteSource presents a few regions of a remote file (an index in the bucket) as a
 * ByteSource of the full size. Reads inside one region are zero-copy views; any other read is a
 * RangeError naming the offset, so a reader touching bytes that were not fetched fails loudly.
 */
export class SparseByteSource implements ByteSource {
  readonly #regions: readonly ByteRegion[];
  readonly size: number;
  readonly name: string;

  constructor(size: number, regions: readonly ByteRegion[], name: string) {
    this.size = size;
    this.#regions = [...regions].sort((a, b) => a.offset - b.offset);
    this.name = name;
  }

  read(off: number, len: number): Uint8Array {
    for (const r of this.#regions) {
      if (off >= r.offset && off + len <= r.offset + r.data.length) return r.data.subarray(off - r.offset, off - r.offset + len);
    }
    throw new RangeError(`read ${this.name}: range [${off}, ${off + len}) is not part of the index-header (only the header, symbols, postings offset table and TOC are kept)`);
  }

  close(): void {}
}
