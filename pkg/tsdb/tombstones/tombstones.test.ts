import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { crc32c } from '../../encoding/index.js';
import { Tombstones, decodeTombstones, encodeTombstones } from './tombstones.js';

/** file builds tombstones file bytes by hand: magic, version, the stone bytes and their CRC32C. */
function file(...stones: number[][]): Uint8Array {
  const body = Uint8Array.from(stones.flat());
  const crc = crc32c(body);
  return Uint8Array.from([0x01, 0x30, 0xba, 0x30, 0x01, ...body, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
}

// Go: binary.PutVarint(buf, math.MinInt64) zig-zags to 2^64-1 and writes 9 × 0xff then 0x01;
// math.MaxInt64 zig-zags to 2^64-2: 0xfe, 8 × 0xff, 0x01.
const MIN_INT64 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
const MAX_INT64 = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

describe('tombstones', () => {
  test('empty file is magic, version and the CRC of nothing', () => {
    expect(Buffer.from(encodeTombstones(new Tombstones())).toString('hex')).toBe('0130ba300100000000');
    expect(decodeTombstones(encodeTombstones(new Tombstones())).size).toBe(0);
  });

  test('intervals merge like Prometheus Intervals.Add and isDeleted is closed', () => {
    const ts = new Tombstones();
    ts.add(7, { minTime: 10, maxTime: 20 });
    ts.add(7, { minTime: 30, maxTime: 40 });
    ts.add(7, { minTime: 21, maxTime: 22 }); // adjacent: merges
    expect(ts.get(7)).toEqual([
      { minTime: 10, maxTime: 22 },
      { minTime: 30, maxTime: 40 },
    ]);
    ts.add(7, { minTime: 0, maxTime: 100 });
    expect(ts.get(7)).toEqual([{ minTime: 0, maxTime: 100 }]);
    expect(ts.isDeleted(7, 100)).toBe(true);
    expect(ts.isDeleted(7, 101)).toBe(false);
    expect(ts.isDeleted(8, 50)).toBe(false);
  });

  test('round trip', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 1e9 }))), (stones) => {
        const ts = new Tombstones();
        for (const [ref, mint, len] of stones) ts.add(ref, { minTime: mint, maxTime: mint + len });
        const back = decodeTombstones(encodeTombstones(ts));
        expect(back.refs()).toEqual(ts.refs());
        for (const r of ts.refs()) expect(back.get(r)).toEqual(ts.get(r));
      }),
    );
  });

  test('corruption names the file and offset', () => {
    const ts = new Tombstones();
    ts.add(3, { minTime: 1, maxTime: 2 });
    const good = encodeTombstones(ts);
    const bad = good.slice();
    bad[6]! ^= 1;
    expect(() => decodeTombstones(bad, 'b/tombstones')).toThrow(/b\/tombstones: invalid checksum: tombstones at offset 5/);
    const magic = good.slice();
    magic[1] = 0;
    expect(() => decodeTombstones(magic, 'b/tombstones')).toThrow(/b\/tombstones at offset 0: invalid magic/);
    expect(() => decodeTombstones(good.subarray(0, 4), 'b/tombstones')).toThrow(/need at least 9/);
  });

  test('MinInt64/MaxInt64 bounds ("delete everything") decode to ±Infinity and encode back byte for byte', () => {
    // series 5: [MinInt64, MaxInt64]; series 6: [-1000, MaxInt64]; series 200: [MinInt64, 0].
    const bytes = file([0x05, ...MIN_INT64, ...MAX_INT64], [0x06, 0xcf, 0x0f, ...MAX_INT64], [0xc8, 0x01, ...MIN_INT64, 0x00]);
    const ts = decodeTombstones(bytes, 'b/tombstones');
    expect(ts.refs()).toEqual([5, 6, 200]);
    expect(ts.get(5)).toEqual([{ minTime: -Infinity, maxTime: Infinity }]);
    expect(ts.get(6)).toEqual([{ minTime: -1000, maxTime: Infinity }]);
    expect(ts.get(200)).toEqual([{ minTime: -Infinity, maxTime: 0 }]);
    expect(ts.isDeleted(5, -Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(ts.isDeleted(5, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(ts.isDeleted(6, -1001)).toBe(false);
    expect(ts.isDeleted(6, 8.64e15)).toBe(true);
    expect(ts.isDeleted(200, 1)).toBe(false);
    expect(Buffer.from(encodeTombstones(ts)).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
  });

  test.each([
    // [bytes of the varint, decoded value]
    [[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f], Number.MAX_SAFE_INTEGER], // zig-zag 2^54 - 2
    [[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f], -Number.MAX_SAFE_INTEGER], // zig-zag 2^54 - 3
    [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20], Infinity], // 2^53
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f], -Infinity], // -2^53
    [[0x80, 0x80, 0x80, 0x80, 0x10], 2 ** 31], // crosses the 32-bit half boundary
    [[0x81, 0x80, 0x80, 0x80, 0x10], -(2 ** 31) - 1],
  ])('int64 varint %j decodes to %d (exact within ±(2^53 − 1), else ±Infinity)', (v, want) => {
    const ts = decodeTombstones(file([0x01, ...MIN_INT64, ...v], [0x02, ...v, ...MAX_INT64]));
    expect(ts.get(1)[0]!.maxTime).toBe(want);
    expect(ts.get(2)[0]!.minTime).toBe(want);
  });

  test('varints longer than 64 bits, truncated stones and huge refs are errors with the offset', () => {
    expect(() => decodeTombstones(file([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00]), 'b/tombstones')).toThrow(/b\/tombstones at offset 6: varint overflows 64 bits/);
    expect(() => decodeTombstones(file([0x01, 0x02]), 'b/tombstones')).toThrow(/b\/tombstones at offset 7: truncated varint/);
    expect(() => decodeTombstones(file([...MAX_INT64, 0x00, 0x00]), 'b/tombstones')).toThrow(/at offset 5: series reference beyond 2\^53/);
    expect(() => decodeTombstones(file([0x01, ...MAX_INT64, ...MIN_INT64]), 'b/tombstones')).toThrow(/at offset 5: interval \[Infinity, -Infinity\] of series 1 is empty/);
    const ts = new Tombstones();
    ts.add(1, { minTime: 0.5, maxTime: 3 });
    expect(() => encodeTombstones(ts)).toThrow(RangeError);
  });
});
