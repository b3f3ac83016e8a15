import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { answerFrom, mergeExtents, missingRanges, type Extent } from './extents.js';
import type { Matrix } from './matrix.js';
import { alignToStep, splitByInterval, type StepRange } from './step-range.js';

const grid = (r: StepRange): number[] => {
  const out: number[] = [];
  for (let t = r.start; t <= r.end; t += r.step) out.push(t);
  return out;
};

/** A matrix with one sample per grid point of r for two series (one only on even minutes). */
const matrixOf = (r: StepRange): Matrix => {
  const ts = grid(r);
  const a = ts.map((t) => [t / 1000, String(t)] as [number, string]);
  const b = ts.filter((t) => Math.floor(t / 60_000) % 2 === 0).map((t) => [t / 1000, `b${t}`] as [number, string]);
  const m: Matrix = [{ metric: { s: 'a' }, values: a }];
  if (b.length > 0) m.push({ metric: { s: 'b' }, values: b });
  return m;
};

const rangeArb = fc
  .record({ start: fc.integer({ min: -1e9, max: 1e10 }), len: fc.integer({ min: 0, max: 5e8 }), step: fc.constantFrom(1, 7, 1000, 15_000, 60_000, 3_600_000, 86_400_000) })
  .map(({ start, len, step }) => ({ start, end: start + len, step }));

describe('splitByInterval', () => {
  test('every grid point lands in exactly one part, parts stay inside interval buckets', () => {
    fc.assert(
      fc.property(rangeArb, fc.constantFrom(0, 60_000, 3_600_000, 86_400_000, 7_000), (r, interval) => {
        if ((r.end - r.start) / r.step > 20_000) return;
        const parts = splitByInterval(r, interval);
        const got = parts.flatMap(grid);
        expect(got).toEqual(grid(r));
        for (const p of parts) {
          expect((p.start - r.start) % r.step).toBe(0);
          if (interval > 0) expect(Math.floor(p.start / interval)).toBe(Math.floor(p.end / interval));
        }
      }),
      { numRuns: 120 },
    );
  });

  test('a 3-day query at 24h splits at midnight UTC', () => {
    const day = 86_400_000;
    const parts = splitByInterval({ start: day / 2, end: 3 * day, step: 60_000 }, day);
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [day / 2, day - 60_000],
      [day, 2 * day - 60_000],
      [2 * day, 3 * day - 60_000],
      [3 * day, 3 * day],
    ]);
  });

  test('alignToStep snaps both ends down to the step', () => {
    expect(alignToStep({ start: 61_000, end: 179_999, step: 60_000 })).toEqual({ start: 60_000, end: 120_000, step: 60_000 });
  });
});

describe('extents', () => {
  test('any set of cached pieces plus the missing ranges reproduces the whole answer', () => {
    fc.assert(
      fc.property(
        fc.record({ start: fc.integer({ min: 0, max: 1e7 }), n: fc.integer({ min: 1, max: 200 }), step: fc.constantFrom(15_000, 60_000, 7_000) }),
        fc.array(fc.tuple(fc.nat(220), fc.nat(60)), { maxLength: 6 }),
        ({ start, n, step }, cuts) => {
          const r = { start, end: start + (n - 1) * step, step };
          const cached: Extent[] = cuts.map(([off, len]) => {
            const s = start + (off - 10) * step;
            const e = s + len * step;
            return { start: s, end: e, result: matrixOf({ start: s, end: e, step }) };
          });
          const merged = mergeExtents(cached, step);
          for (let i = 1; i < merged.length; i++) expect(merged[i]!.start).toBeGreaterThan(merged[i - 1]!.end + step);
          for (const e of merged) expect(e.result).toEqual(matrixOf({ start: e.start, end: e.end, step }));
          const missing = missingRanges(r, merged);
          const pieces = [...merged, ...missing.map((m) => ({ ...m, result: matrixOf(m) }))];
          expect(answerFrom(r, pieces)).toEqual(matrixOf(r));
        },
      ),
      { numRuns: 300 },
    );
  });
});
