import { crc32c } from '../../encoding/index.js';
import { FragmentType, PAGE_SIZE, RECORD_HEADER_SIZE } from './segments.js';

/** SegmentDamage says where a segment stops being readable: the byte offset of the first bad record. */
export interface SegmentDamage {
  readonly offset: number;
  readonly reason: string;
}

/**
 * readSegmentRecords parses one WAL segment's bytes, calling onRecord for each complete record
 * (a view, valid during the call, except for records assembled from fragments). It stops at the
 * first damage (bad checksum, fragment out of sequence or crossing a page, non-zero padding,
 * compressed fragment, record cut off by the end of the data) and returns where the damaged
 * record starts; undefined when the whole segment is good. A segment ending mid-page after a
 * complete record is good (the writer had not padded it yet).
 */
export function readSegmentRecords(data: Uint8Array, onRecord: (rec: Uint8Array, offset: number) => void): SegmentDamage | undefined {
  let off = 0;
  let parts: Uint8Array[] | null = null;
  let recStart = 0;
  const len = data.length;
  const damage = (reason: string): SegmentDamage => ({ offset: parts !== null ? recStart : off, reason });
  while (off < len) {
    const pageLeft = PAGE_SIZE - (off % PAGE_SIZE);
    const type = data[off]!;
    if (pageLeft < RECORD_HEADER_SIZE || type === FragmentType.PageTerm) {
      const end = Math.min(len, off + pageLeft);
      for (let i = off; i < end; i++) if (data[i] !== 0) return damage(`non-zero byte at ${i} in the padding of a page`);
      off = end;
      continue;
    }
    if ((type & ~7) !== 0) return damage(`compressed or unknown fragment header 0x${type.toString(16)}`);
    if (off + RECORD_HEADER_SIZE > len) return damage('fragment header cut off by the end of the segment');
    const n = (data[off + 1]! << 8) | data[off + 2]!;
    const crc = ((data[off + 3]! << 24) | (data[off + 4]! << 16) | (data[off + 5]! << 8) | data[off + 6]!) >>> 0;
    if (RECORD_HEADER_SIZE + n > pageLeft) return damage(`fragment of ${n} bytes crosses a page boundary`);
    const start = off + RECORD_HEADER_SIZE;
    if (start + n > len) return damage('fragment cut off by the end of the segment');
    if (crc32c(data, 0, start, start + n) !== crc) return damage('fragment checksum mismatch');
    const part = data.subarray(start, start + n);
    switch (type) {
      case FragmentType.Full:
        if (parts !== null) return damage('full record inside a fragmented record');
        onRecord(part, off);
        break;
      case FragmentType.First:
        if (parts !== null) return damage('first fragment inside a fragmented record');
        parts = [part];
        recStart = off;
        break;
      case FragmentType.Middle:
        if (parts === null) return damage('middle fragment without a first one');
        parts.push(part);
        break;
      case FragmentType.Last: {
        if (parts === null) return damage('last fragment without a first one');
        parts.push(part);
        let total = 0;
        for (const p of parts) total += p.length;
        const rec = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          rec.set(p, o);
          o += p.length;
        }
        const at = recStart;
        parts = null;
        onRecord(rec, at);
        break;
      }
      default:
        return damage(`unknown fragment type ${type}`);
    }
    off = start + n;
  }
  if (parts !== null) return { offset: recStart, reason: 'record cut off by the end of the segment' };
  return undefined;
}
