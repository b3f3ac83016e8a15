import type { Labels } from '../labels/index.js';
import { formatFloat, formatPlainFloat, formatScalarTimestamp, formatTimestamp } from './float-format.js';
import { histogramJson } from './histogram-json.js';
import { jsonString } from './json-string.js';
import type { MatrixSeries, QueryValue, VectorElement } from './query-engine.js';

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

function vectorJson(v: readonly VectorElement[]): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    if (i > 0) out += ',';
    out += `{"metric":${labelsJson(e.metric)},`;
    if (e.h !== undefined) out += `"histogram":[${formatTimestamp(e.t)},${histogramJson(e.h)}]}`;
    else out += `"value":[${formatTimestamp(e.t)},"${formatFloat(e.f)}"]}`;
  }
  return `${out}]`;
}

function matrixJson(m: readonly MatrixSeries[]): string {
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
      }
      out += ']';
    }
    const hts = s.hts;
    const hs = s.hs;
    if (hts !== undefined && hs !== undefined && hts.length > 0) {
      out += ',"histograms":[';
      for (let k = 0; k < hts.length; k++) {
        out += `${k > 0 ? ',' : ''}[${formatTimestamp(hts[k]!)},${histogramJson(hs[k]!)}]`;
      }
      out += ']';
    }
    out += '}';
  }
  return `${out}]`;
}

/**
 * resultJson writes the `result` member of a query answer in Prometheus's encodings: vector and
 * matrix samples as `[<ts>, "<float>"]`, scalars as `[<sts>, "<plainfloat>"]`, strings as
 * `[<sts>, "<string>"]` (see float-format.ts). Builds one string, no object per sample.
 */
export function resultJson(v: QueryValue): string {
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
