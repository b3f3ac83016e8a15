import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { formatFloat, formatPlainFloat, formatScalarTimestamp, formatTimestamp } from './float-format.js';
import { histogramJson } from './histogram-json.js';
import { jsonString } from './json-string.js';
import type { MatrixSeries, QueryValue, VectorElement } from './query-engine.js';
import { arrayJsonPieces, labelsJson, resultJson, resultJsonPieces } from './result-json.js';

/**
 * previousResultJson is the formatter as it was before results were streamed (one string built
 * with +=), kept verbatim as the reference the pieces must reproduce byte for byte.
 */
export function previousResultJson(v: QueryValue): string {
  const vectorJson = (vec: readonly VectorElement[]): string => {
    let out = '[';
    for (let i = 0; i < vec.length; i++) {
      const e = vec[i]!;
      if (i > 0) out += ',';
      out += `{"metric":${labelsJson(e.metric)},`;
      if (e.h !== undefined) out += `"histogram":[${formatTimestamp(e.t)},${histogramJson(e.h)}]}`;
      else out += `"value":[${formatTimestamp(e.t)},"${formatFloat(e.f)}"]}`;
    }
    return `${out}]`;
  };
  const matrixJson = (m: readonly MatrixSeries[]): string => {
    let out = '[';
    for (let i = 0; i < m.length; i++) {
      const s = m[i]!;
      if (i > 0) out += ',';
      out += `{"metric":${labelsJson(s.metric)}`;
      if (s.ts.length > 0) {
        out += ',"values":[';
        for (let k = 0; k < s.ts.length; k++) out += `${k > 0 ? ',' : ''}[${formatTimestamp(s.ts[k]!)},"${formatFloat(s.fs[k]!)}"]`;
        out += ']';
      }
      if (s.hts !== undefined && s.hs !== undefined && s.hts.length > 0) {
        out += ',"histograms":[';
        for (let k = 0; k < s.hts.length; k++) out += `${k > 0 ? ',' : ''}[${formatTimestamp(s.hts[k]!)},${histogramJson(s.hs[k]!)}]`;
        out += ']';
      }
      out += '}';
    }
    return `${out}]`;
  };
  switch (v.resultType) {
    case 'vector':
      return vectorJson(v.result);
    case 'matrix':
      return matrixJson(v.result);
    case 'scalar':
      return `[${formatScalarTimestamp(v.result.t)},"${formatPlainFloat(v.result.v)}"]`;
    case 'string':
      return `[${formatScalarTimestamp(v.result.t)},${jsonString(v.result.v)}]`;
  }
}

// ---- arbitraries: varied results, with histograms, odd floats and label texts ----
const float = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1e-300, 1.5, Infinity, -Infinity, NaN), fc.integer().map((i) => i / 1000));
const ts = fc.integer({ min: -1e13, max: 1e13 });
const text = fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'z', '_', '<', '&', '"', '\\', '\n', 'é', '€', '\u2028', '😀') });
const labels = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), text), { selector: (x) => x[0], maxLength: 5 })
  .map((pairs) => Labels.fromStrings(...pairs.flat()));
const histogram = fc
  .record({ schema: fc.integer({ min: -4, max: 8 }), zc: fc.nat(100), sum: float, buckets: fc.array(fc.nat(1000), { maxLength: 6 }), offset: fc.integer({ min: -5, max: 5 }) })
  .map(({ schema, zc, sum, buckets, offset }) => {
    const h = new FloatHistogram();
    h.schema = schema;
    h.zeroThreshold = 1e-128;
    h.zeroCount = zc;
    h.sum = sum;
    h.positiveSpans = buckets.length === 0 ? [] : [{ offset, length: buckets.length }];
    h.positiveBuckets = buckets;
    h.count = zc + buckets.reduce((a, b) => a + b, 0);
    return h;
  });
const vectorEl: fc.Arbitrary<VectorElement> = fc.record({ metric: labels, t: ts, f: float, h: fc.option(histogram, { nil: undefined }) });
const series: fc.Arbitrary<MatrixSeries> = fc
  .record({ metric: labels, fl: fc.array(fc.tuple(ts, float), { maxLength: 30 }), hl: fc.array(fc.tuple(ts, histogram), { maxLength: 4 }) })
  .map(({ metric, fl, hl }) => ({
    metric,
    ts: Float64Array.from(fl, (x) => x[0]),
    fs: Float64Array.from(fl, (x) => x[1]),
    ...(hl.length > 0 ? { hts: hl.map((x) => x[0]), hs: hl.map((x) => x[1]) } : {}),
  }));
export const queryValue: fc.Arbitrary<QueryValue> = fc.oneof(
  fc.array(vectorEl, { maxLength: 12 }).map((result) => ({ resultType: 'vector' as const, result })),
  fc.array(series, { maxLength: 8 }).map((result) => ({ resultType: 'matrix' as const, result })),
  fc.record({ t: ts, v: float }).map((result) => ({ resultType: 'scalar' as const, result })),
  fc.record({ t: ts, v: text }).map((result) => ({ resultType: 'string' as const, result })),
);

/** longestElement bounds what one step of the writers appends: a series header, a point, a histogram. */
function longestElement(v: QueryValue): number {
  let max = 64;
  if (v.resultType === 'scalar' || v.resultType === 'string') return previousResultJson(v).length;
  if (v.resultType === 'vector') for (const e of v.result) max = Math.max(max, previousResultJson({ resultType: 'vector', result: [e] }).length);
  if (v.resultType === 'matrix')
    for (const s of v.result) {
      max = Math.max(max, labelsJson(s.metric).length + 64);
      for (let k = 0; k < s.fs.length; k++) max = Math.max(max, formatFloat(s.fs[k]!).length + 64);
      for (const h of s.hs ?? []) max = Math.max(max, histogramJson(h).length + 64);
    }
  return max;
}

describe('resultJsonPieces', () => {
  test('pieces concatenate to exactly the previous formatter’s output, for any piece size', () => {
    fc.assert(
      fc.property(queryValue, fc.integer({ min: 1, max: 400 }), (v, size) => {
        const pieces = [...resultJsonPieces(v, size)];
        const want = previousResultJson(v);
        expect(pieces.join('')).toBe(want);
        expect(resultJson(v)).toBe(want);
        // A piece may end with a series header followed by its first point.
        const bound = size + 2 * longestElement(v);
        for (const p of pieces) expect(p.length).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 400 },
    );
  });

  test('a large matrix comes in pieces of about the piece size, none of them the whole text', () => {
    const n = 2000;
    const result: MatrixSeries[] = Array.from({ length: 50 }, (_, s) => ({
      metric: Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', `host-${s}:9100`),
      ts: Float64Array.from({ length: n }, (_, i) => 1_767_225_600_000 + i * 2000),
      fs: Float64Array.from({ length: n }, (_, i) => Math.sin(i + s) * 1e3),
    }));
    const v: QueryValue = { resultType: 'matrix', result };
    const pieces = [...resultJsonPieces(v, 64 * 1024)];
    const total = pieces.reduce((a, p) => a + p.length, 0);
    expect(total).toBe(previousResultJson(v).length);
    expect(total).toBeGreaterThan(3_000_000);
    expect(pieces.length).toBeGreaterThan(40);
    for (const p of pieces) expect(p.length).toBeLessThan(64 * 1024 + 64);
  });

  test('arrayJsonPieces writes a JSON array in bounded pieces', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 50 }), fc.integer({ min: 1, max: 64 }), (items, size) => {
        const pieces = [...arrayJsonPieces(items, jsonString, size)];
        expect(pieces.join('')).toBe(`[${items.map(jsonString).join(',')}]`);
        for (const p of pieces) expect(p.length).toBeLessThanOrEqual(size + 1 + Math.max(2, ...items.map((s) => jsonString(s).length)));
      }),
    );
  });
});
