/** SEGMENT_MAGIC is the BE32 magic at the start of every chunk segment file (blocks.md §4). */
export const SEGMENT_MAGIC = 0x85bd40dd;
/** SEGMENT_VERSION is the only chunk segment format version. */
export const SEGMENT_VERSION = 1;
/** SEGMENT_HEADER_SIZE is magic (4) + version (1) + padding (3). */
export const SEGMENT_HEADER_SIZE = 8;
/** DEFAULT_SEGMENT_SIZE is Prometheus's default maximum segment file size, 512 MiB. */
export const DEFAULT_SEGMENT_SIZE = 512 * 1024 * 1024;
/** MAX_CHUNK_LEN_FIELD_SIZE is the largest uvarint length field (binary.MaxVarintLen32). */
export const MAX_CHUNK_LEN_FIELD_SIZE = 5;

const TWO32 = 0x100000000;

/** chunkRef builds a chunk reference: segment index << 32 | byte offset, as a number (exact < 2^53). */
export function chunkRef(segmentIndex: number, offset: number): number {
  return segmentIndex * TWO32 + offset;
}

/** chunkRefSegment returns the 0-based segment index of a chunk reference. */
export function chunkRefSegment(ref: number): number {
  return Math.floor(ref / TWO32);
}

/** chunkRefOffset returns the byte offset within the segment of a chunk reference. */
export function chunkRefOffset(ref: number): number {
  return ref % TWO32;
}

/** segmentFileName returns the file name of the segment with 0-based index i ("000001" for 0). */
export function segmentFileName(i: number): string {
  return String(i + 1).padStart(6, '0');
}
