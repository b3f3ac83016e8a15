import { Labels } from '../labels/index.js';

/** A float sample as the Prometheus HTTP API writes it: [unix seconds, "value"]. */
export type SamplePair = [number, string];
/** A native histogram sample: [unix seconds, histogram object], kept as the downstream wrote it. */
export type HistogramPair = [number, unknown];

/** MatrixSeries is one series of a `matrix` result, as JSON. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values?: SamplePair[];
  histograms?: HistogramPair[];
}

/** Matrix is a range query's result: the series, sorted by labels, samples in time order. */
export type Matrix = MatrixSeries[];

const ms = (sec: number): number => Math.round(sec * 1000);

function seriesKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * concatMatrices merges results of disjoint time ranges given in time order: series are matched
 * by their labels, samples appended in order, and the series sorted as Prometheus sorts a matrix
 * (labels.Compare). The inputs are not modified.
 */
export function concatMatrices(parts: readonly Matrix[]): Matrix {
  if (parts.length === 1) return parts[0]!;
  const byKey = new Map<string, MatrixSeries>();
  for (const part of parts) {
    for (const s of part) {
      const k = seriesKey(s.metric);
      let out = byKey.get(k);
      if (out === undefined) {
        out = { metric: s.metric };
        byKey.set(k, out);
      }
      if (s.values !== undefined && s.values.length > 0) out.values = out.values === undefined ? s.values.slice() : out.values.concat(s.values);
      if (s.histograms !== undefined && s.histograms.length > 0) {
        out.histograms = out.histograms === undefined ? s.histograms.slice() : out.histograms.concat(s.histograms);
      }
    }
  }
  return sortMatrix([...byKey.values()]);
}

/** sortMatrix sorts series in place by labels, as Prometheus does, and returns the array. */
export function sortMatrix(m: Matrix): Matrix {
  const keyed = m.map((s) => ({ s, l: Labels.fromRecord(s.metric) }));
  keyed.sort((a, b) => Labels.compare(a.l, b.l));
  for (let i = 0; i < keyed.length; i++) m[i] = keyed[i]!.s;
  return m;
}

/** sliceMatrix keeps the samples with start <= t <= end (ms); series left empty are dropped. */
export function sliceMatrix(m: Matrix, start: number, end: number): Matrix {
  const out: Matrix = [];
  for (const s of m) {
    const values = s.values?.filter((p) => ms(p[0]) >= start && ms(p[0]) <= end);
    const histograms = s.histograms?.filter((p) => ms(p[0]) >= start && ms(p[0]) <= end);
    if ((values === undefined || values.length === 0) && (histograms === undefined || histograms.length === 0)) continue;
    const n: MatrixSeries = { metric: s.metric };
    if (values !== undefined && values.length > 0) n.values = values;
    if (histograms !== undefined && histograms.length > 0) n.histograms = histograms;
    out.push(n);
  }
  return out;
}

/**
 * mergeShardMatrices unions the answers of vertical shards, which hold disjoint series. A series
 * in several answers (one computed from no shard's data, e.g. `or vector(0)`) is kept once when
 * its samples are equal everywhere; when they differ the shards disagree and undefined is
 * returned (the caller asks again unsharded).
 */
export function mergeShardMatrices(parts: readonly Matrix[]): Matrix | undefined {
  const byKey = new Map<string, MatrixSeries>();
  for (const part of parts) {
    for (const s of part) {
      const k = seriesKey(s.metric);
      const seen = byKey.get(k);
      if (seen === undefined) byKey.set(k, s);
      else if (JSON.stringify([seen.values ?? [], seen.histograms ?? []]) !== JSON.stringify([s.values ?? [], s.histograms ?? []])) return undefined;
    }
  }
  return sortMatrix([...byKey.values()]);
}
