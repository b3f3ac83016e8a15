import { describe, expect, test } from 'vitest';
import { encodeChunkedFrame, encodeChunkedReadResponse, PrompbError, readChunkedFrames, readChunkedReadResponses, type ChunkedReadResponse } from './index.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function* pieces(buf: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(buf.length, i + size));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const msgs: ChunkedReadResponse[] = [0, 1, 2, 3].map((i) => ({
  queryIndex: i % 2,
  chunkedSeries: [{ labels: [{ name: '__name__', value: `m${i}` }], chunks: [{ minTimeMs: i * 1000, maxTimeMs: i * 1000 + 999, type: 1, data: new Uint8Array(50 + i * 80).fill(i + 1) }] }],
}));
const frames = msgs.map((m) => encodeChunkedFrame(encodeChunkedReadResponse(m).slice()));
const body = concat(frames);

describe('readChunkedReadResponses', () => {
  test.each([1, 2, 3, 7, 64, 200, 100000])('decodes frames split into %i-byte pieces', async (size) => {
    expect(await collect(readChunkedReadResponses(pieces(body, size)))).toEqual(msgs);
  });

  test('frames that lie inside one piece are views of it (no copy)', async () => {
    const fs = await collect(readChunkedFrames(pieces(body, body.length)));
    expect(fs.map((f) => f.offset)).toEqual([0, frames[0]!.length, frames[0]!.length + frames[1]!.length, body.length - frames[3]!.length]);
    for (const f of fs) expect(f.data.buffer).toBe(body.buffer);
  });

  test('empty body yields nothing', async () => {
    expect(await collect(readChunkedFrames(pieces(new Uint8Array(0), 1)))).toEqual([]);
  });

  test('corrupted CRC names the frame and its offset', async () => {
    const bad = body.slice();
    const off = frames[0]!.length + frames[1]!.length; // frame 2
    bad[off + 20] = bad[off + 20]! ^ 0x01; // inside frame 2's message
    const err = await collect(readChunkedReadResponses(pieces(bad, 13))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrompbError);
    expect((err as PrompbError).code).toBe('TESSERA_PROMPB_FRAME');
    expect((err as PrompbError).offset).toBe(off);
    expect(String((err as Error).message)).toMatch(new RegExp(`frame 2 at offset ${off}: CRC-32C mismatch`));
  });

  test.each([
    ['inside a message', 5],
    ['inside a header', frames[3]!.length - 2],
  ])('truncated stream (%s) is an error, not a silent end', async (_name, cut) => {
    const trunc = body.subarray(0, body.length - cut);
    const err = await collect(readChunkedFrames(pieces(trunc, 11))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrompbError);
    expect((err as Error).message).toMatch(/frame 3 at offset \d+: truncated/);
  });

  test('frame over the size limit is refused before it is buffered', async () => {
    const err = await collect(readChunkedFrames(pieces(body, 1000), { maxFrameBytes: 20 })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/frame 0 at offset 0: frame size \d+ exceeds the limit of 20 bytes/);
  });

  test('an HTTP error text written into a 200 body fails as a frame error', async () => {
    const text = new TextEncoder().encode('remote read: context deadline exceeded\n');
    const err = await collect(readChunkedFrames(pieces(concat([frames[0]!, text]), 4096))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrompbError);
  });

  test('breaking out early closes the source', async () => {
    let closed = false;
    async function* src(): AsyncGenerator<Uint8Array> {
      try {
        yield* pieces(body, 10);
      } finally {
        closed = true;
      }
    }
    for await (const _ of readChunkedFrames(src())) break;
    expect(closed).toBe(true);
  });
});
