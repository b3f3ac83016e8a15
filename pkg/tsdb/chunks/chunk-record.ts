import { crc32c, readUvarint, type UvarintRead, type UvarintStatus } from '../../encoding/index.js';
import { MAX_CHUNK_LEN_FIELD_SIZE } from './segment-format.js';

/**
 * readChunkRecordLength decodes the length field of the chunk record at buf[at] (blocks.md §4:
 * `uvarint len | encoding byte | len data bytes | CRC32C`), reading nothing at or after `end`.
 * On OK, out.value is the data length and out.next the index of the encoding byte; the record
 * ends at `out.next + 1 + out.value + 4`. Short: the field runs past `end`; Invalid: longer than
 * MAX_CHUNK_LEN_FIELD_SIZE bytes. Shared by the chunk segment reader and the bucket store.
 */
export function readChunkRecordLength(buf: Uint8Array, at: number, end: number, out: UvarintRead): UvarintStatus {
  return readUvarint(buf, at, end, MAX_CHUNK_LEN_FIELD_SIZE, out);
}

/**
 * chunkRecordChecksum checks the CRC32C of a record whose encoding byte is at buf[encAt] and whose
 * data is dataLen bytes (the CRC covers encoding and data, and follows them big-endian). Returns
 * null when it matches, else the stored and computed values (allocated only then).
 */
export function chunkRecordChecksum(buf: Uint8Array, encAt: number, dataLen: number): { stored: number; computed: number } | null {
  const end = encAt + 1 + dataLen;
  const stored = ((buf[end]! << 24) | (buf[end + 1]! << 16) | (buf[end + 2]! << 8) | buf[end + 3]!) >>> 0;
  const computed = crc32c(buf, 0, encAt, end);
  return stored === computed ? null : { stored, computed };
}
