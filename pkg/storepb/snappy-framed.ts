import { compress, uncompress } from 'snappyjs';
import { crc32c } from '../encoding/index.js';
import { TesseraError } from '../errors/index.js';

// Snappy framing (stream) format, as used by Thanos's gRPC "snappy" compressor (klauspost
// snappy.NewBufferedWriter / NewReader): a stream identifier chunk, then compressed (0x00) or
// uncompressed (0x01) chunks of at most 64 KiB of input, each with the masked CRC-32C of its
// uncompressed bytes. Block compression is snappyjs.

const STREAM_ID = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59);
const MAX_BLOCK = 65536;
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_ID = 0xff;

function maskedCrc(data: Uint8Array): number {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

function putU32LE(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = v >>> 24;
}

function u32LE(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/**
 * snappyFrameEncode compresses data into the snappy framing format. Like the Go writer, a block is
 * stored uncompressed when compression saves less than 1/8 of it.
 */
export function snappyFrameEncode(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [STREAM_ID];
  let total = STREAM_ID.length;
  for (let off = 0; off < data.length; off += MAX_BLOCK) {
    const block = data.subarray(off, Math.min(off + MAX_BLOCK, data.length));
    const comp = compress(block);
    const useComp = comp.length < block.length - (block.length >>> 3);
    const body = useComp ? comp : block;
    const header = new Uint8Array(8);
    const len = body.length + 4;
    header[0] = useComp ? CHUNK_COMPRESSED : CHUNK_UNCOMPRESSED;
    header[1] = len & 0xff;
    header[2] = (len >>> 8) & 0xff;
    header[3] = (len >>> 16) & 0xff;
    putU32LE(header, 4, maskedCrc(block));
    parts.push(header, body);
    total += header.length + body.length;
  }
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** SnappyFrameError reports a malformed snappy stream (bad chunk, checksum or size). */
export class SnappyFrameError extends TesseraError {
  constructor(message: string) {
    super('TESSERA_SNAPPY_FRAME', message);
  }
}

/**
 * snappyFrameDecode decompresses a snappy framing-format stream, verifying every checksum.
 * maxSize bounds the output (gRPC max receive size).
 */
export function snappyFrameDecode(data: Uint8Array, maxSize = Number.MAX_SAFE_INTEGER): Uint8Array {
  const blocks: Uint8Array[] = [];
  let total = 0;
  let off = 0;
  let sawId = false;
  while (off < data.length) {
    if (off + 4 > data.length) throw new SnappyFrameError(`decode snappy stream: truncated chunk header at offset ${off}`);
    const type = data[off]!;
    const len = data[off + 1]! | (data[off + 2]! << 8) | (data[off + 3]! << 16);
    const start = off + 4;
    const end = start + len;
    if (end > data.length) throw new SnappyFrameError(`decode snappy stream: chunk of ${len} bytes at offset ${off} beyond end (${data.length})`);
    if (type === CHUNK_STREAM_ID) {
      if (len !== 6 || u32LE(data, start) !== 0x50614e73 || data[start + 4] !== 0x70 || data[start + 5] !== 0x59) {
        throw new SnappyFrameError(`decode snappy stream: bad stream identifier at offset ${off}`);
      }
      sawId = true;
    } else if (!sawId) {
      throw new SnappyFrameError(`decode snappy stream: missing stream identifier at offset ${off}`);
    } else if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (len < 4) throw new SnappyFrameError(`decode snappy stream: chunk too short at offset ${off}`);
      const crc = u32LE(data, start);
      const body = data.subarray(start + 4, end);
      let block: Uint8Array;
      if (type === CHUNK_COMPRESSED) {
        try {
          block = uncompress(body, MAX_BLOCK);
        } catch (err) {
          throw new SnappyFrameError(`decode snappy stream: corrupt compressed chunk at offset ${off}: ${(err as Error).message}`);
        }
      } else {
        if (body.length > MAX_BLOCK) throw new SnappyFrameError(`decode snappy stream: uncompressed chunk of ${body.length} bytes at offset ${off}`);
        block = body;
      }
      if (maskedCrc(block) !== crc) throw new SnappyFrameError(`decode snappy stream: checksum mismatch in chunk at offset ${off}`);
      total += block.length;
      if (total > maxSize) throw new SnappyFrameError(`decode snappy stream: output exceeds ${maxSize} bytes`);
      blocks.push(block);
    } else if (type <= 0x7f) {
      throw new SnappyFrameError(`decode snappy stream: unskippable reserved chunk type 0x${type.toString(16)} at offset ${off}`);
    } // 0x80–0xfd reserved skippable and 0xfe padding: skipped.
    off = end;
  }
  if (blocks.length === 1) return blocks[0]!;
  const out = new Uint8Array(total);
  let p = 0;
  for (const b of blocks) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** SnappyFramedCodec names the codec as registered in Thanos's gRPC ("snappy"). */
export const SnappyFramedCodec = { name: 'snappy', encode: snappyFrameEncode, decode: snappyFrameDecode } as const;
