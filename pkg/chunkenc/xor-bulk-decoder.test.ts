import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { STALE_NAN_HI, STALE_NAN_LO, floatBits, isStaleNaN } from './float-bits.js';
import { ValueType } from './value-type.js';
import { XorBulkDecoder, type FloatSampleSink } from './xor-bulk-decoder.js';
import { XorChunk } from './xor-chunk.js';
import { XorIterator } from './xor-iterator.js';

function sink(): FloatSampleSink {
  return { fts: new Float64Array(0), fvs: new Float64Array(0), fn: 0, sts: new Float64Array(0), sn: 0 };
}

function bitsOf(v: number): [number, number] {
  floatBits.f64[0] = v;
  return [floatBits.u32[floatBits.HI]!, floatBits.u32[floatBits.LO]!];
}

/** viaIterator is what the engine read through XorIterator: seek(mint), then up to maxt, markers apart. */
function viaIterator(data: Uint8Array, mint: number, maxt: number): { f: [number, number, number][]; s: number[]; err: string | null } {
  const it = new XorIterator().reset(data);
  const f: [number, number, number][] = [];
  const s: number[] = [];
  let vt = it.seek(mint);
  while (vt === ValueType.Float && it.atT() <= maxt) {
    if (isStaleNaN(it.atF())) s.push(it.atT());
    else f.push([it.atT(), it.atBitsHi(), it.atBitsLo()]);
    vt = it.next();
  }
  return { f, s, err: it.err()?.message ?? null };
}

function viaBulk(d: XorBulkDecoder, data: Uint8Array, mint: number, maxt: number, into = sink()): { f: [number, number, number][]; s: number[]; err: string | null } {
  const before = into.fn;
  const sBefore = into.sn;
  let err: string | null = null;
  try {
    d.decodeInto(data, mint, maxt, into);
  } catch (e) {
    err = (e as Error).message;
  }
  const f: [number, number, number][] = [];
  for (let i = before; i < into.fn; i++) f.push([into.fts[i]!, ...bitsOf(into.fvs[i]!)]);
  return { f, s: Array.from(into.sts.subarray(sBefore, into.sn)), err };
}

describe('XorBulkDecoder', () => {
  test('yields what XorIterator yields for any chunk and window, staleness markers apart, bit for bit', () => {
    const d = new XorBulkDecoder();
    const sample = fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }));
    const regular = fc.tuple(fc.constantFrom(0, 1, 15000, 15001, 14999), fc.constantFrom(0, 0x40590000, STALE_NAN_HI), fc.constantFrom(0, 1, STALE_NAN_LO));
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.array(fc.oneof(sample, regular), { minLength: 0, maxLength: 300 }), fc.integer({ min: -5, max: 305 }), fc.integer({ min: -5, max: 305 }), (t0, steps, a, b) => {
        const c = new XorChunk();
        const app = c.appender();
        const ts: number[] = [];
        let t = t0;
        for (const [dt, hi, lo] of steps) {
          t += dt;
          app.appendBits(t, hi, lo);
          ts.push(t);
        }
        // Window edges on, just before and just after sample timestamps, or unbounded.
        const at = (i: number, off: number) => (i < 0 ? -Infinity : i >= ts.length ? Infinity : ts[i]! + off);
        const mint = at(a, a % 2 === 0 ? 0 : -1);
        const maxt = at(b, b % 3 === 0 ? 0 : 1);
        const data = c.bytes().slice();
        expect(viaBulk(d, data, mint, maxt)).toEqual(viaIterator(data, mint, maxt));
      }),
      { numRuns: 400 },
    );
  });

  test('appends after what the sink holds and grows its arrays', () => {
    const d = new XorBulkDecoder();
    const c = new XorChunk();
    const app = c.appender();
    for (let i = 0; i < 300; i++) app.append(1000 * i, i === 7 ? NaN : i);
    app.appendBits(300_000, STALE_NAN_HI, STALE_NAN_LO);
    const into = sink();
    expect(d.decodeInto(c.bytes(), -Infinity, Infinity, into)).toBe(301);
    expect(d.decodeInto(c.bytes(), 100_000, 199_000, into)).toBe(100);
    expect(into.fn).toBe(400);
    expect(into.sn).toBe(1);
    expect(into.sts[0]).toBe(300_000);
    expect(into.fts[299]).toBe(299_000);
    expect(into.fvs[299]).toBe(299);
    expect(Number.isNaN(into.fvs[7]!)).toBe(true);
    expect(isStaleNaN(into.fvs[7]!)).toBe(false);
    expect([into.fts[300], into.fvs[300]]).toEqual([100_000, 100]);
    expect([into.fts[399], into.fvs[399]]).toEqual([199_000, 199]);
  });

  test('truncated data throws the error XorIterator reports, after the samples before it', () => {
    const c = new XorChunk();
    const app = c.appender();
    for (let i = 0; i < 120; i++) app.append(1000 * i + (i % 7), Math.sin(i));
    const full = c.bytes();
    const d = new XorBulkDecoder();
    for (let cut = 0; cut < full.length; cut++) {
      const data = full.slice(0, cut);
      const got = viaBulk(d, data, -Infinity, Infinity);
      expect(got.err, `cut at ${cut}`).not.toBeNull();
      expect(got).toEqual(viaIterator(data, -Infinity, Infinity));
    }
  });
});
