import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CounterResetHint, FloatHistogram, type Span } from '../histogram/index.js';
import { BitReader } from './bit-reader.js';
import { BitWriter } from './bstream.js';
import { Encoding } from './chunk.js';
import { chunkFromData } from './chunk-from-data.js';
import { isStaleNaN, staleNaN } from './float-bits.js';
import { FloatHistogramChunk } from './float-histogram-chunk.js';
import { HistogramAppendResult } from './histogram-append-result.js';
import { HistogramChunk } from './histogram-chunk.js';
import { CounterResetHeader } from './histogram-layout.js';
import { putVarbitInt, putVarbitUint } from './varbit.js';
import { ValueType } from './value-type.js';

function hist(o: Partial<FloatHistogram> & { positiveSpans?: Span[] }): FloatHistogram {
  const h = new FloatHistogram();
  Object.assign(h, o);
  return h;
}

/** bytesOfBits packs a string of 0/1 (spaces ignored) into bytes, zero-padded. */
function bytesOfBits(bits: string): Uint8Array {
  const b = bits.replace(/ /g, '');
  const out = new Uint8Array(Math.ceil(b.length / 8));
  for (let i = 0; i < b.length; i++) if (b[i] === '1') out[i >>> 3]! |= 0x80 >>> (i & 7);
  return out;
}

function decodeAll(data: Uint8Array, encoding: number): [number, FloatHistogram][] {
  const it = chunkFromData(encoding, data).iterator();
  const out: [number, FloatHistogram][] = [];
  let vt: ValueType;
  while ((vt = it.next()) !== ValueType.None) {
    expect(vt).toBe(encoding === Encoding.Histogram ? ValueType.Histogram : ValueType.FloatHistogram);
    out.push([it.atT(), it.atFloatHistogram().copy()]);
  }
  expect(it.err()).toBeNull();
  return out;
}

/** A histogram series with a fixed layout whose counts only grow (a counter). */
const counterSeries = (integer: boolean) =>
  fc
    .record({
      schema: fc.integer({ min: -4, max: 8 }),
      zeroThreshold: fc.constantFrom(0, 2 ** -128, 0.001, 1e-300),
      spans: fc.array(fc.record({ offset: fc.integer({ min: -5, max: 40 }), length: fc.integer({ min: 0, max: 6 }) }), { maxLength: 4 }),
      neg: fc.array(fc.record({ offset: fc.integer({ min: -5, max: 40 }), length: fc.integer({ min: 1, max: 3 }) }), { maxLength: 2 }),
      steps: fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.array(fc.nat(integer ? 5000 : 1000), { minLength: 30, maxLength: 30 })), { minLength: 1, maxLength: 40 }),
      t0: fc.integer({ min: -1e12, max: 1e13 }),
    })
    .map(({ schema, zeroThreshold, spans, neg, steps, t0 }) => {
      const np = spans.reduce((n, s) => n + s.length, 0);
      const nn = neg.reduce((n, s) => n + s.length, 0);
      const pos = new Array<number>(np).fill(0);
      const negv = new Array<number>(nn).fill(0);
      let zero = 0;
      let t = t0;
      let sum = 0;
      const out: [number, FloatHistogram][] = [];
      for (const [dt, incs] of steps) {
        t += dt;
        for (let i = 0; i < np; i++) pos[i]! += integer ? incs[i % 30]! : incs[i % 30]! / 8;
        for (let i = 0; i < nn; i++) negv[i]! += integer ? incs[(i + 7) % 30]! : incs[(i + 7) % 30]! / 4;
        zero += integer ? incs[29]! : incs[29]! * 0.1;
        sum += incs[0]! * 1.37 - 50;
        const count = zero + pos.reduce((a, b) => a + b, 0) + negv.reduce((a, b) => a + b, 0);
        out.push([t, hist({ schema, zeroThreshold, count, zeroCount: zero, sum, positiveSpans: spans.map((s) => ({ ...s })), negativeSpans: neg.map((s) => ({ ...s })), positiveBuckets: pos.slice(), negativeBuckets: negv.slice() })]);
      }
      return out;
    });

function expectHist(got: FloatHistogram, want: FloatHistogram, hint: CounterResetHint): void {
  expect(got.schema).toBe(want.schema);
  expect(got.zeroThreshold).toBe(want.zeroThreshold);
  expect(got.count).toBe(want.count);
  expect(got.zeroCount).toBe(want.zeroCount);
  expect(Object.is(got.sum, want.sum)).toBe(true);
  expect(got.positiveSpans).toEqual(want.positiveSpans);
  expect(got.negativeSpans).toEqual(want.negativeSpans);
  expect(got.positiveBuckets).toEqual(want.positiveBuckets);
  expect(got.negativeBuckets).toEqual(want.negativeBuckets);
  expect(got.counterResetHint).toBe(hint);
}

describe('varbit', () => {
  test('int and uint round trip at every bucket boundary and random values', () => {
    const ints = [0, 1, -1, 4, -3, 5, -4, 32, -31, 33, -32, 256, -255, 257, 2048, -2047, 2049, 131072, -131071, 131073, 16777216, -16777215, 16777217, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 40, -(2 ** 40)];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...ints), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -70000, max: 70000 })), { maxLength: 60 }), (vals) => {
        const w = new BitWriter(0);
        for (const v of vals) {
          putVarbitInt(w, v);
          putVarbitUint(w, Math.abs(v));
        }
        const r = new BitReader();
        r.reset(w.buffer.subarray(0, w.byteLength()), 0);
        for (const v of vals) {
          expect(r.readVarbitInt()).toBe(v);
          expect(r.readVarbitUint()).toBe(Math.abs(v));
        }
        expect(r.position).toBe(w.bitLength);
      }),
    );
  });

  test.each([
    [0, '0'],
    [4, '10 100'],
    [-3, '10 101'],
    [5, '110 000101'],
    [-4, '110 111100'],
    [257, '11110 000100000001'],
  ])('varbit int %d is %s', (v, bits) => {
    const w = new BitWriter(0);
    putVarbitInt(w, v);
    expect(w.bitLength).toBe(bits.replace(/ /g, '').length);
    expect(Buffer.from(w.buffer.subarray(0, w.byteLength())).toString('hex')).toBe(Buffer.from(bytesOfBits(bits)).toString('hex'));
  });
});

describe('histogram chunks', () => {
  test('integer histogram chunk: one sample, layout written field by field (chunks.md §4)', () => {
    const c = new HistogramChunk();
    const h = hist({ schema: 0, zeroThreshold: 2 ** -128, count: 3, zeroCount: 0, sum: 4, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 2] });
    expect(c.appender().appendHistogram(5, h)).toBe(HistogramAppendResult.Appended);
    const want = bytesOfBits(
      [
        '00000000 00000001 00000000', // 1 sample, counter reset header unknown
        '01110100', // zero threshold 2^-128: byte 116
        '0', // schema 0
        '10 001', // 1 positive span
        '10 010 0', // length 2, offset 0
        '0', // no negative spans
        '110 000101', // t = 5
        '10 011', // count 3
        '0', // zero count 0
        '0100000000010000' + '0'.repeat(48), // sum 4.0 raw
        '10 001', // bucket 0: 1
        '10 001', // bucket 1: delta +1 to bucket 0
      ].join(''),
    );
    expect(Buffer.from(c.bytes()).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    const got = decodeAll(c.bytes(), Encoding.Histogram);
    expect(got.length).toBe(1);
    expect(got[0]![0]).toBe(5);
    expectHist(got[0]![1], h, CounterResetHint.Unknown);
  });

  test.each([
    ['integer', true],
    ['float', false],
  ])('%s histogram chunks round trip (same layout, growing counts)', (_name, integer) => {
    fc.assert(
      fc.property(counterSeries(integer), (series) => {
        const c = integer ? new HistogramChunk() : new FloatHistogramChunk();
        const app = c.appender();
        for (const [t, h] of series) expect(app.appendHistogram(t, h)).toBe(HistogramAppendResult.Appended);
        expect(c.numSamples()).toBe(series.length);
        const enc = integer ? Encoding.Histogram : Encoding.FloatHistogram;
        const got = decodeAll(c.bytes(), enc);
        expect(got.length).toBe(series.length);
        got.forEach(([t, h], i) => {
          expect(t).toBe(series[i]![0]);
          expectHist(h, series[i]![1], i === 0 ? CounterResetHint.Unknown : CounterResetHint.NotCounterReset);
        });
        // seek lands on the first sample at or after t, and never goes back.
        const it = chunkFromData(enc, c.bytes()).iterator();
        const mid = series[series.length >> 1]![0];
        expect(it.seek(mid)).not.toBe(ValueType.None);
        expect(it.atT()).toBe(mid);
        expect(it.seek(series[0]![0])).not.toBe(ValueType.None);
        expect(it.atT()).toBe(mid);
      }),
      { numRuns: 60 },
    );
  });

  test('stale markers, gauge chunks, counter resets and layout changes', () => {
    const base = { schema: 1, zeroThreshold: 0.001, positiveSpans: [{ offset: 2, length: 2 }] };
    for (const integer of [true, false]) {
      const c = integer ? new HistogramChunk() : new FloatHistogramChunk();
      const app = c.appender();
      expect(app.appendHistogram(1000, hist({ ...base, count: 5, zeroCount: 1, sum: 2, positiveBuckets: [1, 3] }))).toBe(HistogramAppendResult.Appended);
      // A lower count is a counter reset; other layouts need a new chunk; gauges never share a counter chunk.
      expect(app.appendHistogram(2000, hist({ ...base, count: 4, zeroCount: 1, sum: 2, positiveBuckets: [1, 2] }))).toBe(HistogramAppendResult.CounterReset);
      expect(app.appendHistogram(2000, hist({ ...base, count: 6, zeroCount: 1, sum: 2, positiveBuckets: [2, 2] }))).toBe(HistogramAppendResult.CounterReset);
      expect(app.appendHistogram(2000, hist({ ...base, schema: 2, count: 6, zeroCount: 1, sum: 2, positiveBuckets: [1, 4] }))).toBe(HistogramAppendResult.NewChunk);
      expect(app.appendHistogram(2000, hist({ ...base, positiveSpans: [{ offset: 2, length: 3 }], count: 6, zeroCount: 1, sum: 2, positiveBuckets: [1, 4, 0] }))).toBe(HistogramAppendResult.NewChunk);
      expect(app.appendHistogram(2000, hist({ ...base, counterResetHint: CounterResetHint.Gauge, count: 6, zeroCount: 1, sum: 2, positiveBuckets: [1, 4] }))).toBe(HistogramAppendResult.NewChunk);
      expect(app.appendHistogram(2000, hist({ ...base, count: 7, zeroCount: 2, sum: 3.5, positiveBuckets: [1, 4] }))).toBe(HistogramAppendResult.Appended);
      expect(app.appendHistogram(3000, hist({ sum: staleNaN() }))).toBe(HistogramAppendResult.Appended);
      expect(app.appendHistogram(4000, hist({ ...base, count: 8, zeroCount: 2, sum: 4, positiveBuckets: [1, 5] }))).toBe(HistogramAppendResult.NewChunk);
      expect(app.appendHistogram(4000, hist({ sum: staleNaN() }))).toBe(HistogramAppendResult.Appended);
      const enc = integer ? Encoding.Histogram : Encoding.FloatHistogram;
      const it = chunkFromData(enc, c.bytes()).iterator();
      const seen: [number, number, boolean][] = [];
      while (it.next() !== ValueType.None) {
        const h = it.atFloatHistogram();
        seen.push([it.atT(), h.count, isStaleNaN(h.sum)]);
        if (isStaleNaN(h.sum)) expect(h.positiveBuckets).toEqual([]);
        else expect(h.positiveBuckets.length).toBe(2);
      }
      expect(it.err()).toBeNull();
      expect(seen).toEqual([
        [1000, 5, false],
        [2000, 7, false],
        [3000, 0, true],
        [4000, 0, true],
      ]);
      expect(() => it.atF()).toThrow(TypeError);

      const g = integer ? new HistogramChunk() : new FloatHistogramChunk();
      const gapp = g.appender();
      const gauge = { ...base, counterResetHint: CounterResetHint.Gauge };
      expect(gapp.appendHistogram(1, hist({ ...gauge, count: 5, zeroCount: 1, sum: -2, positiveBuckets: [1, 3] }))).toBe(HistogramAppendResult.Appended);
      expect(gapp.appendHistogram(2, hist({ ...gauge, count: 2, zeroCount: 0, sum: -7, positiveBuckets: [0, 2] }))).toBe(HistogramAppendResult.Appended);
      expect(g.counterResetHeader()).toBe(CounterResetHeader.Gauge);
      const got = decodeAll(g.bytes(), enc);
      expect(got.map(([t, h]) => [t, h.count, h.sum, h.positiveBuckets, h.counterResetHint])).toEqual([
        [1, 5, -2, [1, 3], CounterResetHint.Gauge],
        [2, 2, -7, [0, 2], CounterResetHint.Gauge],
      ]);

      const r = integer ? new HistogramChunk() : new FloatHistogramChunk();
      r.appender().appendHistogram(1, hist({ ...base, counterResetHint: CounterResetHint.CounterReset, count: 1, positiveBuckets: [0, 1] }));
      expect(r.counterResetHeader()).toBe(CounterResetHeader.CounterReset);
    }
  });

  test('custom bucket bounds (schema -53) and unusual zero thresholds survive', () => {
    for (const integer of [true, false]) {
      const c = integer ? new HistogramChunk() : new FloatHistogramChunk();
      const customValues = [0.005, 0.1, 1, 2.5, 33554.43, 33554.431, -1, 1 / 3, Infinity];
      const h1 = hist({ schema: -53, customValues, count: 6, sum: 10, positiveSpans: [{ offset: 0, length: 3 }, { offset: 5, length: 1 }], positiveBuckets: [1, 2, 2, 1] });
      const h2 = hist({ schema: -53, customValues, count: 9, sum: 20, positiveSpans: h1.positiveSpans, positiveBuckets: [2, 3, 3, 1] });
      const app = c.appender();
      app.appendHistogram(10, h1);
      app.appendHistogram(20, h2);
      expect(app.appendHistogram(30, hist({ ...h2, customValues: [1, 2] }))).toBe(HistogramAppendResult.CounterReset);
      const got = decodeAll(c.bytes(), integer ? Encoding.Histogram : Encoding.FloatHistogram);
      expect(got[1]![1].customValues).toEqual(customValues);
      expectHist(got[1]![1], h2, CounterResetHint.NotCounterReset);
      for (const zt of [0, 2 ** -243, 2 ** 10, 2 ** 11, 2 ** -244, 0.001, 3]) {
        const z = integer ? new HistogramChunk() : new FloatHistogramChunk();
        z.appender().appendHistogram(0, hist({ zeroThreshold: zt, count: 1, zeroCount: 1, sum: 0 }));
        expect(decodeAll(z.bytes(), integer ? Encoding.Histogram : Encoding.FloatHistogram)[0]![1].zeroThreshold).toBe(zt);
      }
    }
  });

  test('truncated or malformed chunks end the iteration with an error', () => {
    for (const integer of [true, false]) {
      const c = integer ? new HistogramChunk() : new FloatHistogramChunk();
      const app = c.appender();
      for (let i = 0; i < 20; i++) app.appendHistogram(i * 1000, hist({ count: i * 3, zeroCount: i, sum: i * 1.5, positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [i, i] }));
      const enc = integer ? Encoding.Histogram : Encoding.FloatHistogram;
      const full = c.bytes();
      const it = chunkFromData(enc, full.subarray(0, full.length - 8)).iterator();
      let n = 0;
      while (it.next() !== ValueType.None) n++;
      expect(n).toBeLessThan(20);
      expect(it.err()?.message).toMatch(/decode (float )?histogram chunk: sample \d+ of 20 reads beyond the \d+-byte chunk/);
      const short = chunkFromData(enc, full.subarray(0, 2)).iterator();
      expect(short.next()).toBe(ValueType.None);
      expect(short.err()?.message).toMatch(/shorter than the 3-byte header/);
      // Unknown schema 9.
      const bad = new Uint8Array([0, 1, 0, 0, 0b11000100, 0b10000000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const bi = chunkFromData(enc, bad).iterator();
      expect(bi.next()).toBe(ValueType.None);
      expect(bi.err()?.message).toMatch(/unknown histogram schema 9/);
    }
  });

  test('iterators are reused, and atFloatHistogram fills the given object in place', () => {
    const c = new FloatHistogramChunk();
    c.appender().appendHistogram(7, hist({ count: 2, sum: 1, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] }));
    const c2 = new HistogramChunk();
    c2.appender().appendHistogram(8, hist({ count: 3, sum: 1, negativeSpans: [{ offset: 1, length: 1 }], negativeBuckets: [3] }));
    const it = c.iterator();
    expect(c.iterator(it)).toBe(it);
    const into = new FloatHistogram();
    it.next();
    expect(it.atFloatHistogram(into)).toBe(into);
    expect(into.positiveBuckets).toEqual([2]);
    const it2 = c2.iterator(it);
    expect(it2).not.toBe(it);
    it2.next();
    it2.atFloatHistogram(into);
    expect([into.count, into.positiveBuckets, into.negativeBuckets, into.negativeSpans]).toEqual([3, [], [3], [{ offset: 1, length: 1 }]]);
    expect(() => HistogramChunk.fromBytes(c2.bytes()).appender()).toThrow(TypeError);
  });
});
