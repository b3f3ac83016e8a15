import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { AggrChunk } from './aggr-chunk.js';
import { AGGR_TYPES, AggrType } from './aggr-type.js';
import { Encoding } from './chunk.js';
import { chunkFromData } from './chunk-from-data.js';
import { OpaqueChunk } from './opaque-chunk.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';
import { XorChunk } from './xor-chunk.js';

function xor(points: readonly (readonly [number, number])[]): XorChunk {
  const c = new XorChunk();
  const app = c.appender();
  for (const [t, v] of points) app.append(t, v);
  return c;
}

function drain(it: SampleIterator): [number, number][] {
  const out: [number, number][] = [];
  while (it.next() !== ValueType.None) out.push([it.atT(), it.atF()]);
  expect(it.err()).toBeNull();
  return out;
}

/** The layout of chunks.md §5 written out independently: uvarint length, encoding byte, data. */
function layout(subs: readonly (Uint8Array | null)[]): number[] {
  const out: number[] = [];
  for (const d of subs) {
    if (d === null) {
      out.push(0);
      continue;
    }
    let n = d.length;
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n, Encoding.XOR, ...d);
  }
  return out;
}

const count = xor([[299_999, 3], [599_999, 2]]);
const sum = xor([[299_999, 6], [599_999, 9]]);
const min = xor([[299_999, 1], [599_999, 4]]);
const max = xor([[299_999, 3], [599_999, 5]]);
const counter = xor([[100_000, 1], [299_999, 3], [599_999, 5], [599_999, 5]]);

describe('AggrChunk', () => {
  test('encode writes Thanos layout and every aggregate reads back', () => {
    const c = AggrChunk.encode([count, sum, min, max, counter]);
    expect([...c.bytes()]).toEqual(layout([count.bytes(), sum.bytes(), min.bytes(), max.bytes(), counter.bytes()]));
    const back = AggrChunk.fromBytes(c.bytes());
    expect(back.encoding()).toBe(Encoding.Aggr);
    expect(back.numSamples()).toBe(2);
    for (const [t, src] of [[AggrType.Count, count], [AggrType.Sum, sum], [AggrType.Min, min], [AggrType.Max, max], [AggrType.Counter, counter]] as const) {
      expect([...back.get(t)!.bytes()]).toEqual([...src.bytes()]);
      expect(back.section(t)!.encoding).toBe(Encoding.XOR);
    }
    expect(drain(back.aggrIterator(AggrType.Count))).toEqual([[299_999, 3], [599_999, 2]]);
    expect(drain(back.aggrIterator(AggrType.Max))).toEqual([[299_999, 3], [599_999, 5]]);
    // Counter: raw first value, then totals; the repeated last timestamp is hidden.
    expect(drain(back.aggrIterator(AggrType.Counter))).toEqual([[100_000, 1], [299_999, 3], [599_999, 5]]);
    // The default iterator yields window averages.
    expect(drain(back.iterator())).toEqual([[299_999, 2], [599_999, 4.5]]);
  });

  test('absent aggregates are one zero byte and read as null', () => {
    const c = AggrChunk.encode([count, sum, null, undefined, counter]);
    expect([...c.bytes()]).toEqual(layout([count.bytes(), sum.bytes(), null, null, counter.bytes()]));
    expect(c.get(AggrType.Min)).toBeNull();
    expect(c.get(AggrType.Max)).toBeNull();
    const it = c.aggrIterator(AggrType.Min);
    expect(it.next()).toBe(ValueType.None);
    expect(isTesseraError(it.err(), 'TESSERA_AGGR_NOT_EXIST')).toBe(true);
    expect(() => AggrChunk.encode([count, sum, min, max, null])).toThrow(/counter sub-chunk is required/);
    expect(() => AggrChunk.encode([count, sum, min, max])).toThrow(RangeError);
  });

  test('multi-byte lengths round trip (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.double()), { minLength: 1, maxLength: 200 }), { minLength: 5, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (series, present) => {
        const subs = series.map((pts, i) => {
          let t = 0;
          const sorted = pts.map(([d, v]) => [(t += d), v] as const);
          return i < 4 && !present[i]! ? null : xor(sorted);
        });
        const c = AggrChunk.fromBytes(AggrChunk.encode(subs).bytes());
        expect([...c.bytes()]).toEqual(layout(subs.map((s) => (s === null ? null : s.bytes()))));
        for (const t of AGGR_TYPES) {
          const s = subs[t];
          const got = c.get(t);
          if (s === null) expect(got).toBeNull();
          else expect(Buffer.from(got!.bytes()).equals(Buffer.from(s!.bytes()))).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('corrupt input is an error naming the offset', () => {
    const good = AggrChunk.encode([count, sum, min, max, counter]).bytes();
    // Cut inside the max sub-chunk: count..min are readable, max and counter are not.
    const maxAt = layout([count.bytes(), sum.bytes(), min.bytes()]).length;
    const cut = AggrChunk.fromBytes(good.subarray(0, maxAt + 3));
    expect(cut.get(AggrType.Min)).not.toBeNull();
    expect(() => cut.get(AggrType.Max)).toThrow(new RegExp(`max sub-chunk of ${max.bytes().length} bytes at offset ${maxAt} runs past the end of the ${maxAt + 3}-byte chunk`));
    try {
      cut.get(AggrType.Counter);
      expect.unreachable();
    } catch (err) {
      expect(isTesseraError(err, 'TESSERA_CHUNK_CORRUPT')).toBe(true);
    }
    // A length cut in the middle of its varint.
    const trunc = AggrChunk.fromBytes(Uint8Array.of(0x80));
    expect(() => trunc.get(AggrType.Count)).toThrow(/length of the count sub-chunk at offset 0 is truncated/);
    expect(() => AggrChunk.fromBytes(new Uint8Array(0)).get(AggrType.Count)).toThrow(/offset 0 is truncated/);
    // Corruption surfaces through iterators and numSamples without throwing.
    expect(cut.numSamples()).toBe(2);
    expect(trunc.numSamples()).toBe(0);
    const it = cut.aggrIterator(AggrType.Counter);
    expect(it.next()).toBe(ValueType.None);
    expect(it.err()?.message).toMatch(/decode aggregate chunk: max sub-chunk .* at offset \d+/);
  });

  test('chunkFromData and OpaqueChunk know encoding 0xFF', () => {
    const data = AggrChunk.encode([count, sum, min, max, counter]).bytes();
    const c = chunkFromData(0xff, data);
    expect(c).toBeInstanceOf(AggrChunk);
    expect(c.numSamples()).toBe(2);
    // The BE16 at the start of aggregate data is a length prefix, not a sample count.
    expect(new OpaqueChunk(Encoding.Aggr, data).numSamples()).toBe(2);
  });
});
