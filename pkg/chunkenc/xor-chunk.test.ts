import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { floatBits, isStaleNaN, staleNaN } from './float-bits.js';
import { ValueType } from './value-type.js';
import { XorChunk } from './xor-chunk.js';
import { XorIterator } from './xor-iterator.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function bitsOf(v: number): [number, number] {
  floatBits.f64[0] = v;
  return [floatBits.u32[floatBits.HI]!, floatBits.u32[floatBits.LO]!];
}

function fromBits(hi: number, lo: number): number {
  floatBits.u32[floatBits.HI] = hi;
  floatBits.u32[floatBits.LO] = lo;
  return floatBits.f64[0]!;
}

function encode(samples: readonly (readonly [number, number])[], legacyPadByte = false): XorChunk {
  const c = new XorChunk({ legacyPadByte });
  const app = c.appender();
  for (const [t, v] of samples) app.append(t, v);
  return c;
}

function decodeBits(c: XorChunk): [number, number, number][] {
  const it = c.iterator();
  const out: [number, number, number][] = [];
  while (it.next() === ValueType.Float) out.push([it.atT(), it.atBitsHi(), it.atBitsLo()]);
  expect(it.err()).toBeNull();
  return out;
}

describe('XorChunk', () => {
  test('worked example of chunks.md §3.5', () => {
    const c = encode([
      [1000, 1.0],
      [2000, 1.0],
      [3000, 2.0],
      [4000, 3.0],
      [5001, 3.0],
    ]);
    expect(hex(c.bytes())).toBe('0005' + 'd00f' + '3ff0000000000000' + 'e807' + '3097ffdb01c00080');
    expect(c.numSamples()).toBe(5);
    // Same bytes for pre-3.0 writers: the last field is 1 bit wide.
    expect(hex(encode([[1000, 1.0], [2000, 1.0], [3000, 2.0], [4000, 3.0], [5001, 3.0]], true).bytes())).toBe(hex(c.bytes()));
  });

  test('legacy pad byte after a byte-aligned whole-byte last field', () => {
    const one = encode([[1000, 1.5]]);
    expect(one.bytes().length).toBe(2 + 2 + 8);
    const legacy = encode([[1000, 1.5]], true);
    expect(hex(legacy.bytes())).toBe(hex(one.bytes()) + '00');
    expect(decodeBits(legacy)).toEqual(decodeBits(one));
    // Two samples ending in a 1-bit field: no pad.
    expect(encode([[1000, 1.5], [2000, 1.5]], true).bytes().length).toBe(encode([[1000, 1.5], [2000, 1.5]]).bytes().length);
  });

  test('staleness marker and NaN payloads round-trip bit for bit', () => {
    const stale = staleNaN();
    expect(isStaleNaN(stale)).toBe(true);
    expect(isStaleNaN(NaN)).toBe(false);
    const odd = fromBits(0xfff12345, 0x6789abcd);
    // Values travel in a Float64Array: V8 quiets signalling NaNs stored in plain JS double arrays
    // ([1, stale] would already hold 0x7ff80000_00000002), but typed arrays and scalars keep them.
    const values = new Float64Array(6);
    values[0] = 1;
    values[1] = stale;
    values[2] = NaN;
    values[3] = odd;
    values[4] = stale;
    values[5] = -0;
    const c = new XorChunk();
    const app = c.appender();
    for (let i = 0; i < values.length; i++) app.append(i + 1, values[i]!);
    const got = decodeBits(c);
    expect(got.map(([, h, l]) => [h, l])).toEqual([bitsOf(1), [0x7ff00000, 2], bitsOf(NaN), [0xfff12345, 0x6789abcd], [0x7ff00000, 2], [0x80000000, 0]]);
    const it = c.iterator();
    it.next();
    it.next();
    expect(isStaleNaN(it.atF())).toBe(true);
  });

  test('round-trips arbitrary timestamps and value bit patterns', () => {
    const sample = fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 45), max: 2 ** 45 }),
        fc.array(fc.oneof(sample, fc.tuple(fc.constantFrom(0, 1, 15000, 15001, 14999), fc.constantFrom(0, 0x40590000), fc.constantFrom(0, 1))), {
          minLength: 0,
          maxLength: 300,
        }),
        fc.boolean(),
        (t0, steps, legacy) => {
          const c = new XorChunk({ legacyPadByte: legacy });
          const app = c.appender();
          const want: [number, number, number][] = [];
          let t = t0;
          for (const [dt, hi, lo] of steps) {
            t += dt;
            app.appendBits(t, hi, lo);
            want.push([t, hi, lo]);
          }
          expect(decodeBits(c)).toEqual(want);
          // Re-wrapped stored bytes decode the same, through a reused iterator.
          const back = XorChunk.fromBytes(c.bytes().slice());
          expect(decodeBits(back)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('reopening stored bytes for appending continues inside the last byte', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 100000 }), fc.double()), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 49 }), (steps, cut) => {
        const samples: [number, number][] = [];
        let t = 1_700_000_000_000;
        for (const [dt, v] of steps) samples.push([(t += dt), v]);
        const k = Math.min(cut, samples.length);
        const whole = encode(samples);
        const first = encode(samples.slice(0, k));
        const reopened = XorChunk.fromBytes(first.bytes().slice());
        const app = reopened.appender();
        for (const [ts, v] of samples.slice(k)) app.append(ts, v);
        expect(hex(reopened.bytes())).toBe(hex(whole.bytes()));
      }),
      { numRuns: 200 },
    );
  });

  test('seek semantics', () => {
    const c = encode([
      [10, 1],
      [20, 2],
      [30, 3],
    ]);
    const it = c.iterator();
    expect(it.seek(5)).toBe(ValueType.Float); // before next: first sample
    expect(it.atT()).toBe(10);
    expect(it.seek(5)).toBe(ValueType.Float); // never moves backwards, stays
    expect(it.atT()).toBe(10);
    expect(it.seek(11)).toBe(ValueType.Float);
    expect([it.atT(), it.atF()]).toEqual([20, 2]);
    expect(it.seek(20)).toBe(ValueType.Float);
    expect(it.atT()).toBe(20);
    expect(it.seek(30)).toBe(ValueType.Float);
    expect(it.atT()).toBe(30);
    expect(it.seek(31)).toBe(ValueType.None);
    expect(it.seek(0)).toBe(ValueType.None); // once None, stays None
    expect(it.next()).toBe(ValueType.None);
    expect(it.err()).toBeNull();
    // reset through reuse
    const again = c.iterator(it);
    expect(again).toBe(it);
    expect(again.next()).toBe(ValueType.Float);
    expect(again.atT()).toBe(10);
  });

  test('truncated data reports an error instead of garbage or a hang', () => {
    const samples: [number, number][] = [];
    for (let i = 0; i < 120; i++) samples.push([1000 * i + (i % 7), Math.sin(i)]);
    const full = encode(samples).bytes();
    const it = new XorIterator();
    for (let cut = 0; cut < full.length; cut++) {
      it.reset(full.subarray(0, cut));
      let n = 0;
      while (it.next() === ValueType.Float) n++;
      expect(it.err(), `cut at ${cut}`).not.toBeNull();
      expect(n).toBeLessThan(120);
    }
  });
});
