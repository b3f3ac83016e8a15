import type { Labels } from '../labels/index.js';
import { formatFloat, formatPlainFloat, formatScalarTimestamp, formatTimestamp } from './float-format.js';
import { histogramJson } from './histogram-json.js';
import { jsonString } from './json-string.js';
import type { MatrixSeries, QueryValue, VectorElement } from './query-engine.js';

/**
 * jsonPieceSize is the size (UTF-16 code units) at which the JSON writers hand a piece on: big
 * enough that a piece costs little per write, small enough that no result becomes one string
 * (V8 caps strings at 2^29 − 24 characters, ≈ 18 M matrix points).
 */
export const jsonPieceSize = 64 * 1024;

/** labelsJson writes a label set as a JSON object in label order (sorted by name). */
export function labelsJson(l: Labels): string {
  const n = l.size;
  if (n === 0) return '{}';
  let out = '{';
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ',';
    out += `${jsonString(l.nameAt(i))}:${jsonString(l.valueAt(i))}`;
  }
  return `${out}}`;
}

function* vectorPieces(v: readonly VectorElement[], size: number): Generator<string> {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    if (i > 0) out += ',';
    out += `{"metric":${labelsJson(e.metric)},`;
    if (e.h !== undefined) out += `"histogram":[${formatTimestamp(e.t)},${histogramJson(e.h)}]}`;
    else out += `"value":[${formatTimestamp(e.t)},"${formatFloat(e.f)}"]}`;
    if (out.length >= size) {
      yield out;
      out = '';
    }
  }
  yield `${out}]`;
}

function* matrixPieces(m: readonly MatrixSeries[], size: number): Generator<string> {
  let out = '[';
  for (let i = 0; i < m.length; i++) {
    const s = m[i]!;
    if (i > 0) out += ',';
    out += `{"metric":${labelsJson(s.metric)}`;
    const ts = s.ts;
    const fs = s.fs;
    if (ts.length > 0) {
      out += ',"values":[';
      for (let k = 0; k < ts.length; k++) {
        out += `${k > 0 ? ',' : ''}[${formatTimestamp(ts[k]!)},"${formatFloat(fs[k]!)}"]`;
        if (out.length >= size) {
          yield out;
          out = '';
        }
      }
      out += ']';
    }
    const hts = s.hts;
    const hs = s.hs;
    if (hts !== undefined && hs !== undefined && hts.length > 0) {
      out += ',"histograms":[';
      for (let k = 0; k < hts.length; k++) {
        out += `${k > 0 ? ',' : ''}[${formatTimestamp(hts[k]!)},${histogramJson(hs[k]!)}]`;
        if (out.length >= size) {
          yield out;
          out = '';
        }
      }
      out += ']';
    }
    out += '}';
    if (out.length >= size) {
      yield out;
      out = '';
    }
  }
  yield `${out}]`;
}

/**
 * resultJsonPieces writes the `result` member of a query answer in Prometheus's encodings (vector
 * and matrix samples as `[<ts>, "<float>"]`, scalars as `[<sts>, "<plainfloat>"]`, strings as
 * `[<sts>, "<string>"]`, see float-format.ts) as a sequence of pieces: each is handed on once it
 * reaches `size`, so no piece is longer than size plus one sample. No object per sample.
 */
export function* resultJsonPieces(v: QueryValue, size: number = jsonPieceSize): Generator<string> {
  switch (v.resultType) {
    case 'vector':
      yield* vectorPieces(v.result, size);
      return;
    case 'matrix':
      yield* matrixPieces(v.result, size);
      return;
    case 'scalar':
      yield `[${formatScalarTimestamp(v.result.t)},"${formatPlainFloat(v.result.v)}"]`;
      return;
    case 'string':
      yield `[${formatScalarTimestamp(v.result.t)},${jsonString(v.result.v)}]`;
  }
}

/** resultJson is resultJsonPieces as one string (for small results and tests). */
export function resultJson(v: QueryValue): string {
  let out = '';
  for (const p of resultJsonPieces(v)) out += p;
  return out;
}

/**
 * arrayJsonPieces writes `[f(items[0]),f(items[1]),…]` in pieces of about `size` (series label
 * sets, label names or values).
 */
export function* arrayJsonPieces<T>(items: readonly T[], f: (x: T) => string, size: number = jsonPieceSize): Generator<string> {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += f(items[i]!);
    if (out.length >= size) {
      yield out;
      out = '';
    }
  }
  yield `${out}]`;
}
