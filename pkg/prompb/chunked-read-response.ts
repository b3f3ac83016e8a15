import { ProtoReader, WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';
import { readLabel, writeLabels } from './read-response.js';
import type { Chunk, ChunkedReadResponse, ChunkedSeries } from './types.js';

/** encodeChunkedReadResponse serialises the message of one STREAMED_XOR_CHUNKS frame. */
export function encodeChunkedReadResponse(res: ChunkedReadResponse, w: ProtoWriter = new ProtoWriter()): Uint8Array {
  for (const cs of res.chunkedSeries) {
    w.tag(1, WireType.Bytes).fork();
    writeLabels(w, 1, cs.labels);
    for (const c of cs.chunks) {
      w.tag(2, WireType.Bytes).fork();
      if (c.minTimeMs !== 0) w.tag(1, WireType.Varint).int64(c.minTimeMs);
      if (c.maxTimeMs !== 0) w.tag(2, WireType.Varint).int64(c.maxTimeMs);
      if (c.type !== 0) w.tag(3, WireType.Varint).uint32(c.type);
      if (c.data.length > 0) w.tag(4, WireType.Bytes).bytes(c.data);
      w.join();
    }
    w.join();
  }
  if (res.queryIndex !== 0) w.tag(2, WireType.Varint).int64(res.queryIndex);
  return w.finish();
}

/**
 * decodeChunkedReadResponse parses one frame's message. Chunk data are views into buf (no
 * copy). `base` is buf's offset in the response body, used in error messages.
 */
export function decodeChunkedReadResponse(buf: Uint8Array, base = 0): ChunkedReadResponse {
  const r = new ProtoReader(buf, 'ChunkedReadResponse', base);
  const res: ChunkedReadResponse = { chunkedSeries: [], queryIndex: 0 };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Bytes, 'chunked_series');
        res.chunkedSeries.push(readChunkedSeries(r.sub('ChunkedSeries')));
        break;
      case 2:
        r.expect(wt, WireType.Varint, 'query_index');
        res.queryIndex = r.int64();
        break;
      default:
        r.skip(wt);
    }
  }
  return res;
}

function readChunkedSeries(r: ProtoReader): ChunkedSeries {
  const cs: ChunkedSeries = { labels: [], chunks: [] };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Bytes, 'labels');
        cs.labels.push(readLabel(r.sub('Label')));
        break;
      case 2:
        r.expect(wt, WireType.Bytes, 'chunks');
        cs.chunks.push(readChunk(r.sub('Chunk')));
        break;
      default:
        r.skip(wt);
    }
  }
  return cs;
}

const empty = new Uint8Array(0);

function readChunk(r: ProtoReader): Chunk {
  const c: Chunk = { minTimeMs: 0, maxTimeMs: 0, type: 0, data: empty };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Varint, 'min_time_ms');
        c.minTimeMs = r.int64();
        break;
      case 2:
        r.expect(wt, WireType.Varint, 'max_time_ms');
        c.maxTimeMs = r.int64();
        break;
      case 3:
        r.expect(wt, WireType.Varint, 'type');
        c.type = r.uint32();
        break;
      case 4:
        r.expect(wt, WireType.Bytes, 'data');
        c.data = r.bytes();
        break;
      default:
        r.skip(wt);
    }
  }
  return c;
}
