import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { snappyFrameDecode, snappyFrameEncode } from './index.js';

// Fixtures written by klauspost/compress/snappy NewBufferedWriter (the writer Thanos's gRPC
// "snappy" compressor uses); regenerate with `cd testdata/snappy-gen && go run . && mv *.sz ..`.
const testdata = join(fileURLToPath(import.meta.url), '../testdata');
function referenceHello(): Uint8Array {
  return new Uint8Array(readFileSync(join(testdata, 'hello.sz')));
}

describe('snappy framing format', () => {
  test.each([
    ['empty', new Uint8Array(0)],
    ['short', new TextEncoder().encode('hello')],
    ['compressible 200 KiB', new Uint8Array(200 * 1024).map((_, i) => i % 7)],
    ['random 70 KiB', new Uint8Array(randomBytes(70 * 1024))],
  ])('round trip: %s', (_name, data) => {
    const enc = snappyFrameEncode(data);
    expect(Buffer.from(enc.subarray(0, 10)).toString('hex')).toBe('ff060000734e61507059');
    expect(Buffer.from(snappyFrameDecode(enc)).equals(Buffer.from(data))).toBe(true);
  });

  test('compressible data is stored in compressed chunks, random data in uncompressed ones', () => {
    const comp = snappyFrameEncode(new Uint8Array(65536).fill(1));
    expect(comp[10]).toBe(0x00);
    expect(comp.length).toBeLessThan(65536 / 8);
    const raw = snappyFrameEncode(new Uint8Array(randomBytes(1000)));
    expect(raw[10]).toBe(0x01);
  });

  test('decodes a multi-chunk compressed stream from the Go writer', () => {
    const got = snappyFrameDecode(new Uint8Array(readFileSync(join(testdata, 'mod7-150000.sz'))));
    expect(got.length).toBe(150000);
    expect(got.every((b, i) => b === i % 7)).toBe(true);
  });

  test('matches the Go writer byte for byte on an uncompressed chunk', () => {
    expect(new TextDecoder().decode(snappyFrameDecode(referenceHello()))).toBe('hello');
    expect(Buffer.from(snappyFrameEncode(new TextEncoder().encode('hello'))).equals(Buffer.from(referenceHello()))).toBe(true);
  });

  test('rejects a bad checksum, a missing stream id and unskippable chunks; skips padding', () => {
    const bad = referenceHello();
    bad[16] = bad[16]! ^ 1;
    expect(() => snappyFrameDecode(bad)).toThrow(/checksum mismatch/);
    expect(() => snappyFrameDecode(referenceHello().subarray(10))).toThrow(/missing stream identifier/);
    const withReserved = Uint8Array.from([...referenceHello(), 0x02, 0, 0, 0]);
    expect(() => snappyFrameDecode(withReserved)).toThrow(/unskippable/);
    const withPadding = Uint8Array.from([...referenceHello(), 0xfe, 2, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(snappyFrameDecode(withPadding))).toBe('hello');
  });
});
