import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Tombstones, decodeTombstones, encodeTombstones } from './tombstones.js';

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
});
