import { crc32c } from '../encoding/index.js';
import { decodeChunkedReadResponse } from './chunked-read-response.js';
import { PrompbError, PrompbErrorCode } from './errors.js';
import type { ChunkedReadResponse } from './types.js';

/** DefaultChunkedReadLimit is the largest frame accepted (Prometheus's DefaultChunkedReadLimit, 5e7 bytes). */
export const DefaultChunkedReadLimit = 50_000_000;

/** Frame is one STREAMED_XOR_CHUNKS frame: the message bytes and where the frame starts in the body. */
export interface Frame {
  /** data is the message; the reader never reuses or modifies it. */
  readonly data: Uint8Array;
  /** offset is the byte offset of the frame header in the response body. */
  readonly offset: number;
  /** index is the 0-based frame number. */
  readonly index: number;
}

/** ChunkedReaderOptions configures readChunkedFrames. */
export interface ChunkedReaderOptions {
  /** maxFrameBytes refuses frames whose declared size is larger (default DefaultChunkedReadLimit). */
  readonly maxFrameBytes?: number;
}

const HEADER_MAX = 10 + 4;

/**
 * readChunkedFrames parses the STREAMED_XOR_CHUNKS framing (uvarint size, BE32 CRC-32C of the
 * message, message) incrementally from a byte stream such as a fetch body. A frame that lies in
 * one incoming piece is returned as a view of it (no copy); a frame spread over pieces is
 * assembled into one exactly-sized buffer. Checksum mismatches, oversized and truncated frames
 * throw a PrompbError naming the frame's offset. Breaking out of the loop closes the source.
 */
export async function* readChunkedFrames(source: AsyncIterable<Uint8Array>, opts: ChunkedReaderOptions = {}): AsyncGenerator<Frame> {
  const limit = opts.maxFrameBytes ?? DefaultChunkedReadLimit;
  const header = new Uint8Array(HEADER_MAX);
  let headerLen = 0; // bytes of the current header collected
  let varintDone = false;
  let varintLen = 0;
  let size = 0;
  let body: Uint8Array | null = null; // being assembled
  let bodyLen = 0;
  let frameOffset = 0; // offset of the current frame's header
  let consumed = 0; // body bytes consumed before the current piece
  let index = 0;

  const fail = (msg: string): never => {
    throw new PrompbError(PrompbErrorCode.Frame, `read remote-read frame ${index} at offset ${frameOffset}: ${msg}`, frameOffset);
  };
  const check = (data: Uint8Array): Frame => {
    const want = ((header[varintLen]! << 24) | (header[varintLen + 1]! << 16) | (header[varintLen + 2]! << 8) | header[varintLen + 3]!) >>> 0;
    const got = crc32c(data);
    if (got !== want) fail(`CRC-32C mismatch: header says ${hex(want)}, data of ${data.length} bytes has ${hex(got)}`);
    const f: Frame = { data, offset: frameOffset, index };
    index++;
    return f;
  };

  for await (const piece of source) {
    let p = 0;
    const n = piece.length;
    while (p < n) {
      if (body === null) {
        // Header: uvarint then 4 CRC bytes.
        if (headerLen === 0) frameOffset = consumed + p;
        while (p < n && !varintDone) {
          const b = piece[p++]!;
          header[headerLen++] = b;
          if (b < 0x80) {
            varintDone = true;
            varintLen = headerLen;
            size = 0;
            for (let i = varintLen - 1; i >= 0; i--) size = size * 128 + (header[i]! & 0x7f);
            if (size > limit) fail(`frame size ${size} exceeds the limit of ${limit} bytes`);
          } else if (headerLen >= 10) {
            fail('size varint longer than 10 bytes');
          }
        }
        while (p < n && varintDone && headerLen < varintLen + 4) header[headerLen++] = piece[p++]!;
        if (!varintDone || headerLen < varintLen + 4) continue;
        // Header complete.
        if (n - p >= size) {
          const data = piece.subarray(p, p + size);
          p += size;
          headerLen = 0;
          varintDone = false;
          yield check(data);
          continue;
        }
        body = new Uint8Array(size);
        bodyLen = 0;
      }
      const take = Math.min(size - bodyLen, n - p);
      body.set(piece.subarray(p, p + take), bodyLen);
      bodyLen += take;
      p += take;
      if (bodyLen === size) {
        const data = body;
        body = null;
        headerLen = 0;
        varintDone = false;
        yield check(data);
      }
    }
    consumed += n;
  }
  if (body !== null) fail(`truncated: stream ended after ${bodyLen} of ${size} message bytes`);
  if (headerLen > 0) fail(`truncated: stream ended inside the ${headerLen}-byte frame header`);
}

/**
 * readChunkedReadResponses decodes every frame of a STREAMED_XOR_CHUNKS body into a
 * ChunkedReadResponse (chunk data are views into the frame buffers).
 */
export async function* readChunkedReadResponses(source: AsyncIterable<Uint8Array>, opts: ChunkedReaderOptions = {}): AsyncGenerator<ChunkedReadResponse> {
  for await (const f of readChunkedFrames(source, opts)) {
    const varintSize = uvarintLen(f.data.length);
    yield decodeChunkedReadResponse(f.data, f.offset + varintSize + 4);
  }
}

function uvarintLen(v: number): number {
  let k = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    k++;
  }
  return k;
}

function hex(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}
