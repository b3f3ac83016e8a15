import type { MatrixSeries, QueryResult, VectorElement } from '../api/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';

/** PlainHistogram is a FloatHistogram after structured clone (fields, no prototype). */
type PlainHistogram = { readonly [K in keyof FloatHistogram as FloatHistogram[K] extends (...a: never[]) => unknown ? never : K]: FloatHistogram[K] };

interface Annotations {
  readonly warnings?: readonly string[];
  readonly infos?: readonly string[];
  readonly stats?: unknown;
}

/**
 * PackedQueryResult is a QueryResult in a shape that crosses threads cheaply: the label sets of
 * all series as one string array, all float samples in one Float64Array (transferred, not
 * copied), histograms (rare) as plain objects.
 */
export type PackedQueryResult = PackedScalar | PackedSeries;

interface PackedScalar extends Annotations {
  readonly resultType: 'scalar' | 'string';
  readonly result: { readonly t: number; readonly v: number | string };
}

interface PackedSeries extends Annotations {
        readonly resultType: 'vector' | 'matrix';
        /** labelCounts[i] is the number of strings (2 × labels) of series i in labelStrings. */
        readonly labelCounts: Int32Array;
        readonly labelStrings: readonly string[];
        /** vector: t, f of element i at 2i, 2i+1. matrix: series i's ts then fs, floatCounts[i] each. */
        readonly points: Float64Array;
        readonly floatCounts?: Int32Array;
        /** histograms: vector element i's h, or matrix series i's hts/hs. */
        readonly histograms: readonly { readonly i: number; readonly ts: readonly number[]; readonly hs: readonly PlainHistogram[] }[];
}

function annotations(r: QueryResult): Annotations {
  return {
    ...(r.warnings !== undefined ? { warnings: r.warnings } : {}),
    ...(r.infos !== undefined ? { infos: r.infos } : {}),
    ...(r.stats !== undefined ? { stats: r.stats } : {}),
  };
}

function packLabels(metrics: readonly Labels[]): { labelCounts: Int32Array; labelStrings: string[] } {
  const labelCounts = new Int32Array(metrics.length);
  const labelStrings: string[] = [];
  for (let i = 0; i < metrics.length; i++) {
    const l = metrics[i]!;
    const n = l.size;
    labelCounts[i] = 2 * n;
    for (let k = 0; k < n; k++) labelStrings.push(l.nameAt(k), l.valueAt(k));
  }
  return { labelCounts, labelStrings };
}

/** packQueryResult packs r for postMessage; `transfer` lists the buffers to move rather than copy. */
export function packQueryResult(r: QueryResult): { packed: PackedQueryResult; transfer: ArrayBuffer[] } {
  const a = annotations(r);
  switch (r.resultType) {
    case 'scalar':
    case 'string':
      return { packed: { resultType: r.resultType, result: { t: r.result.t, v: r.result.v }, ...a }, transfer: [] };
    case 'vector': {
      const v = r.result;
      const points = new Float64Array(2 * v.length);
      const histograms: { i: number; ts: number[]; hs: PlainHistogram[] }[] = [];
      for (let i = 0; i < v.length; i++) {
        const e = v[i]!;
        points[2 * i] = e.t;
        points[2 * i + 1] = e.f;
        if (e.h !== undefined) histograms.push({ i, ts: [], hs: [e.h] });
      }
      const { labelCounts, labelStrings } = packLabels(v.map((e) => e.metric));
      return { packed: { resultType: 'vector', labelCounts, labelStrings, points, histograms, ...a }, transfer: [points.buffer as ArrayBuffer, labelCounts.buffer as ArrayBuffer] };
    }
    case 'matrix': {
      const m = r.result;
      let total = 0;
      for (const s of m) total += s.ts.length;
      const points = new Float64Array(2 * total);
      const floatCounts = new Int32Array(m.length);
      const histograms: { i: number; ts: number[]; hs: PlainHistogram[] }[] = [];
      let off = 0;
      for (let i = 0; i < m.length; i++) {
        const s = m[i]!;
        const n = s.ts.length;
        floatCounts[i] = n;
        if (s.ts instanceof Float64Array && s.fs instanceof Float64Array) {
          points.set(s.ts, off);
          points.set(s.fs, off + n);
        } else {
          for (let k = 0; k < n; k++) {
            points[off + k] = s.ts[k]!;
            points[off + n + k] = s.fs[k]!;
          }
        }
        off += 2 * n;
        if (s.hts !== undefined && s.hs !== undefined && s.hts.length > 0) histograms.push({ i, ts: Array.from(s.hts), hs: [...s.hs] });
      }
      const { labelCounts, labelStrings } = packLabels(m.map((s) => s.metric));
      return {
        packed: { resultType: 'matrix', labelCounts, labelStrings, points, floatCounts, histograms, ...a },
        transfer: [points.buffer as ArrayBuffer, labelCounts.buffer as ArrayBuffer, floatCounts.buffer as ArrayBuffer],
      };
    }
  }
}

function histogram(p: PlainHistogram): FloatHistogram {
  return Object.assign(new FloatHistogram(), p);
}

/** unpackQueryResult rebuilds the QueryResult packQueryResult packed (samples as views of its buffer). */
export function unpackQueryResult(p: PackedQueryResult): QueryResult {
  const a = annotations(p as QueryResult);
  if (p.resultType === 'scalar' || p.resultType === 'string') {
    const r = (p as PackedScalar).result;
    return p.resultType === 'scalar' ? { resultType: 'scalar', result: { t: r.t, v: r.v as number }, ...a } : { resultType: 'string', result: { t: r.t, v: r.v as string }, ...a };
  }
  return unpackSeries(p as PackedSeries, a);
}

function unpackSeries(p: PackedSeries, a: Annotations): QueryResult {
  const n = p.labelCounts.length;
  const metrics = new Array<Labels>(n);
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const c = p.labelCounts[i]!;
    metrics[i] = Labels.fromSortedFlat(p.labelStrings.slice(lo, lo + c));
    lo += c;
  }
  const hist = new Map<number, { readonly ts: readonly number[]; readonly hs: readonly PlainHistogram[] }>();
  for (const h of p.histograms) hist.set(h.i, h);
  if (p.resultType === 'vector') {
    const result = new Array<VectorElement>(n);
    for (let i = 0; i < n; i++) {
      const h = hist.get(i)?.hs[0];
      const t = p.points[2 * i]!;
      const f = p.points[2 * i + 1]!;
      result[i] = h !== undefined ? { metric: metrics[i]!, t, f, h: histogram(h) } : { metric: metrics[i]!, t, f };
    }
    return { resultType: 'vector', result, ...a };
  }
  const counts = p.floatCounts ?? new Int32Array(n);
  const result = new Array<MatrixSeries>(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    const ts = p.points.subarray(off, off + c);
    const fs = p.points.subarray(off + c, off + 2 * c);
    off += 2 * c;
    const h = hist.get(i);
    result[i] = h !== undefined ? { metric: metrics[i]!, ts, fs, hts: h.ts, hs: h.hs.map(histogram) } : { metric: metrics[i]!, ts, fs };
  }
  return { resultType: 'matrix', result, ...a };
}
