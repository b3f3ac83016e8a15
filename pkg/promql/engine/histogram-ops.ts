import { CounterResetHint, FloatHistogram, type Span } from '../../histogram/index.js';
import type { PositionRange } from '../parser/index.js';
import { annos, type Annotation } from './annotations.js';
import type { RangeWindow } from './eval-helper.js';

/** CUSTOM_BUCKETS_SCHEMA is the schema of native histograms with custom buckets (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;

interface Annotator {
  annotate(a: Annotation): void;
}

/** usesCustomBuckets reports whether h is an NHCB. */
export function usesCustomBuckets(h: FloatHistogram): boolean {
  return h.schema === CUSTOM_BUCKETS_SCHEMA;
}

/** bucketMap returns absolute bucket index → count for the given spans and buckets. */
function bucketMap(spans: readonly Span[], buckets: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  let idx = 0;
  let bi = 0;
  for (let si = 0; si < spans.length; si++) {
    const s = spans[si]!;
    idx += s.offset;
    for (let j = 0; j < s.length; j++) {
      const v = buckets[bi++] ?? 0;
      m.set(idx, (m.get(idx) ?? 0) + v);
      idx++;
    }
  }
  return m;
}

/** fromMap builds spans and buckets from a bucket map, keeping explicit zeros when keepZeros. */
function fromMap(m: Map<number, number>, keepZeros: boolean): { spans: Span[]; buckets: number[] } {
  const idxs = [...m.keys()].filter((i) => keepZeros || m.get(i) !== 0).sort((a, b) => a - b);
  const spans: Span[] = [];
  const buckets: number[] = [];
  let prevEnd = 0;
  for (let k = 0; k < idxs.length; k++) {
    const i = idxs[k]!;
    const last = spans[spans.length - 1];
    if (last !== undefined && i === prevEnd) last.length++;
    else spans.push({ offset: spans.length === 0 ? i : i - prevEnd, length: 1 });
    prevEnd = i + 1;
    buckets.push(m.get(i)!);
  }
  return { spans, buckets };
}

/** reduceIndex maps a bucket index from schema `from` to the coarser schema `to`. */
function reduceIndex(idx: number, from: number, to: number): number {
  return ((idx - 1) >> (from - to)) + 1;
}

function mapToSchema(m: Map<number, number>, from: number, to: number): Map<number, number> {
  if (from === to) return m;
  const out = new Map<number, number>();
  for (const [i, v] of m) {
    const j = reduceIndex(i, from, to);
    out.set(j, (out.get(j) ?? 0) + v);
  }
  return out;
}

/** upperBound of exponential bucket idx at schema. */
export function bucketUpperBound(idx: number, schema: number): number {
  if (schema < 0) {
    const exp = idx << -schema;
    return Math.pow(2, exp);
  }
  const frac = Math.pow(2, -schema);
  return Math.pow(2, idx * frac);
}

/** bucketLowerBound of exponential bucket idx at schema. */
export function bucketLowerBound(idx: number, schema: number): number {
  return bucketUpperBound(idx - 1, schema);
}

/** State is an expanded histogram used for arithmetic. */
interface State {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  pos: Map<number, number>;
  neg: Map<number, number>;
  customValues: number[];
  hint: CounterResetHint;
}

function expand(h: FloatHistogram): State {
  return {
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    pos: bucketMap(h.positiveSpans, h.positiveBuckets),
    neg: bucketMap(h.negativeSpans, h.negativeBuckets),
    customValues: h.customValues,
    hint: h.counterResetHint,
  };
}

function build(s: State, keepZeros = true): FloatHistogram {
  const h = new FloatHistogram();
  h.schema = s.schema;
  h.zeroThreshold = s.zeroThreshold;
  h.zeroCount = s.zeroCount;
  h.count = s.count;
  h.sum = s.sum;
  h.counterResetHint = s.hint;
  const p = fromMap(s.pos, keepZeros);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  const n = fromMap(s.neg, keepZeros);
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
  h.customValues = s.customValues.slice();
  return h;
}

/** widenZero folds buckets entirely below threshold into the zero bucket. */
function widenZero(s: State, threshold: number): void {
  if (threshold <= s.zeroThreshold) return;
  for (const [map] of [[s.pos], [s.neg]] as const) {
    for (const [i, v] of [...map]) {
      if (bucketUpperBound(i, s.schema) <= threshold) {
        s.zeroCount += v;
        map.delete(i);
      }
    }
  }
  s.zeroThreshold = threshold;
}

function toSchema(s: State, schema: number): void {
  if (s.schema === schema) return;
  s.pos = mapToSchema(s.pos, s.schema, schema);
  s.neg = mapToSchema(s.neg, s.schema, schema);
  s.schema = schema;
}

/** reconcileCustom rebuckets custom-bucket state s onto the given (coarser) bounds. */
function reconcileCustom(s: State, bounds: number[]): void {
  const out = new Map<number, number>();
  for (const [i, v] of s.pos) {
    const ub = i < s.customValues.length ? s.customValues[i]! : Infinity;
    let j = bounds.findIndex((b) => b >= ub);
    if (j < 0) j = bounds.length;
    out.set(j, (out.get(j) ?? 0) + v);
  }
  s.pos = out;
  s.customValues = bounds;
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** OpResult tells callers about incompatibilities of a histogram operation. */
export type HistOpError = 'mixed-schema' | undefined;

/**
 * combine returns a (+ or −) b. It returns undefined when exponential and custom buckets are
 * mixed. reconciled is set when custom bounds had to be intersected.
 */
export function combine(a: FloatHistogram, b: FloatHistogram, negate: boolean): { h: FloatHistogram | undefined; reconciled: boolean } {
  const ca = usesCustomBuckets(a);
  const cb = usesCustomBuckets(b);
  if (ca !== cb) return { h: undefined, reconciled: false };
  const sa = expand(a);
  const sb = expand(b);
  let reconciled = false;
  if (ca) {
    if (!sameBounds(sa.customValues, sb.customValues)) {
      const setB = new Set(sb.customValues);
      const common = sa.customValues.filter((v) => setB.has(v));
      reconcileCustom(sa, common);
      reconcileCustom(sb, common);
      reconciled = true;
    }
  } else {
    const schema = Math.min(sa.schema, sb.schema);
    toSchema(sa, schema);
    toSchema(sb, schema);
    const zt = Math.max(sa.zeroThreshold, sb.zeroThreshold);
    widenZero(sa, zt);
    widenZero(sb, zt);
  }
  const sign = negate ? -1 : 1;
  sa.count += sign * sb.count;
  sa.sum += sign * sb.sum;
  sa.zeroCount += sign * sb.zeroCount;
  for (const [i, v] of sb.pos) sa.pos.set(i, (sa.pos.get(i) ?? 0) + sign * v);
  for (const [i, v] of sb.neg) sa.neg.set(i, (sa.neg.get(i) ?? 0) + sign * v);
  return { h: build(sa), reconciled };
}

/** addHistograms returns a + b (or a − b when negate); throws on incompatible layouts. */
export function addHistograms(a: FloatHistogram, b: FloatHistogram, negate = false): FloatHistogram {
  const r = combine(a, b, negate);
  if (r.h === undefined) throw new RangeError('cannot add histograms with exponential and custom buckets');
  return r.h;
}

/** subHistograms returns a − b, annotating incompatibilities; undefined if incompatible. */
export function subHistograms(a: FloatHistogram, b: FloatHistogram, metricName: string, pos: PositionRange, enh: Annotator, opName: string): FloatHistogram | undefined {
  const r = combine(a, b, true);
  if (r.h === undefined) {
    enh.annotate(annos.mixedExponentialCustom(metricName, pos));
    return undefined;
  }
  if (r.reconciled) enh.annotate(annos.mismatchedCustomBuckets(opName, pos));
  return r.h;
}

/** scaleHistogram returns h with all counts and the sum multiplied by f. */
export function scaleHistogram(h: FloatHistogram, f: number): FloatHistogram {
  const r = h.copy();
  r.count *= f;
  r.sum *= f;
  r.zeroCount *= f;
  for (let i = 0; i < r.positiveBuckets.length; i++) r.positiveBuckets[i]! *= f;
  for (let i = 0; i < r.negativeBuckets.length; i++) r.negativeBuckets[i]! *= f;
  return r;
}

/** negateHistogram returns −h. */
export function negateHistogram(h: FloatHistogram): FloatHistogram {
  const r = scaleHistogram(h, -1);
  r.counterResetHint = CounterResetHint.Gauge;
  return r;
}

/** compactHistogram drops empty buckets and merges adjacent spans. */
export function compactHistogram(h: FloatHistogram): FloatHistogram {
  return build(expand(h), false);
}

/** histogramsEqual reports exact equality of two histograms (after compaction). */
export function histogramsEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema || a.count !== b.count || a.sum !== b.sum || a.zeroThreshold !== b.zeroThreshold || a.zeroCount !== b.zeroCount) {
    if (!(Number.isNaN(a.sum) && Number.isNaN(b.sum))) return false;
  }
  if (usesCustomBuckets(a) && !sameBounds(a.customValues, b.customValues)) return false;
  const ea = expand(a);
  const eb = expand(b);
  return mapsEqual(ea.pos, eb.pos) && mapsEqual(ea.neg, eb.neg);
}

function mapsEqual(a: Map<number, number>, b: Map<number, number>): boolean {
  for (const [i, v] of a) if (v !== 0 && b.get(i) !== v) return false;
  for (const [i, v] of b) if (v !== 0 && a.get(i) !== v) return false;
  return true;
}

/** detectReset reports whether cur is a counter reset relative to prev (FloatHistogram.DetectReset). */
export function detectReset(prev: FloatHistogram, cur: FloatHistogram): boolean {
  if (cur.counterResetHint === CounterResetHint.CounterReset) return true;
  if (cur.counterResetHint === CounterResetHint.NotCounterReset) return false;
  if (cur.count < prev.count) return true;
  if (usesCustomBuckets(cur) !== usesCustomBuckets(prev)) return true;
  if (sameLayout(prev, cur)) {
    // The usual case (same schema, threshold, spans and bounds): compare bucket by bucket, allocating nothing.
    if (cur.zeroCount < prev.zeroCount) return true;
    return anyBelow(cur.positiveBuckets, prev.positiveBuckets) || anyBelow(cur.negativeBuckets, prev.negativeBuckets);
  }
  if (usesCustomBuckets(cur) && !sameBounds(cur.customValues, prev.customValues)) {
    const p = expand(prev);
    const c = expand(cur);
    const setC = new Set(c.customValues);
    const common = p.customValues.filter((v) => setC.has(v));
    reconcileCustom(p, common);
    reconcileCustom(c, common);
    for (const [i, v] of p.pos) if ((c.pos.get(i) ?? 0) < v) return true;
    return false;
  }
  if (cur.schema > prev.schema) return true;
  if (cur.zeroThreshold < prev.zeroThreshold) return true;
  const p = expand(prev);
  toSchema(p, cur.schema);
  widenZero(p, cur.zeroThreshold);
  if (p.zeroThreshold !== cur.zeroThreshold) return true;
  if (cur.zeroCount < p.zeroCount) return true;
  const c = expand(cur);
  for (const [i, v] of p.pos) if ((c.pos.get(i) ?? 0) < v) return true;
  for (const [i, v] of p.neg) if ((c.neg.get(i) ?? 0) < v) return true;
  return false;
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.offset !== b[i]!.offset || a[i]!.length !== b[i]!.length) return false;
  return true;
}

function sameLayout(a: FloatHistogram, b: FloatHistogram): boolean {
  return (
    a.schema === b.schema &&
    a.zeroThreshold === b.zeroThreshold &&
    a.positiveBuckets.length === b.positiveBuckets.length &&
    a.negativeBuckets.length === b.negativeBuckets.length &&
    sameSpans(a.positiveSpans, b.positiveSpans) &&
    sameSpans(a.negativeSpans, b.negativeSpans) &&
    (!usesCustomBuckets(a) || sameBounds(a.customValues, b.customValues))
  );
}

function anyBelow(cur: readonly number[], prev: readonly number[]): boolean {
  for (let i = 0; i < cur.length; i++) if (cur[i]! < prev[i]!) return true;
  return false;
}

/** histogramRate computes the (unextrapolated) increase of the histograms of w. */
export function histogramRate(w: RangeWindow, isCounter: boolean, enh: Annotator): FloatHistogram | undefined {
  const pts = w.hvs;
  const lo = w.hlo;
  const hi = w.hhi;
  let prev = pts[lo]!;
  const last = pts[hi - 1]!;
  let custom = usesCustomBuckets(prev);
  if (isCounter && (prev.counterResetHint === CounterResetHint.Gauge || last.counterResetHint === CounterResetHint.Gauge)) {
    enh.annotate(annos.nativeHistogramNotCounter(w.metricName, w.pos));
  }
  if (isCounter && hi - lo > 1) {
    const second = pts[lo + 1]!;
    if (detectReset(prev, second)) {
      const z = new FloatHistogram();
      z.schema = second.schema;
      z.customValues = second.customValues.slice();
      prev = z;
      custom = usesCustomBuckets(second);
    }
  }
  if (usesCustomBuckets(last) !== custom) {
    enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
    return undefined;
  }
  for (let i = lo + 1; i < hi - 1; i++) {
    const cur = pts[i]!;
    if (!isCounter) continue;
    if (cur.counterResetHint === CounterResetHint.Gauge) enh.annotate(annos.nativeHistogramNotCounter(w.metricName, w.pos));
    if (usesCustomBuckets(cur) !== custom) {
      enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
      return undefined;
    }
  }
  const r = combine(last, prev, true);
  if (r.h === undefined) {
    enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
    return undefined;
  }
  if (r.reconciled) enh.annotate(annos.mismatchedCustomBuckets('subtraction', w.pos));
  let h = r.h;
  if (isCounter) {
    let p = prev;
    for (let i = lo + 1; i < hi; i++) {
      const cur = pts[i]!;
      if (detectReset(p, cur)) {
        const a = combine(h, p, false);
        if (a.h === undefined) {
          enh.annotate(annos.mixedExponentialCustom(w.metricName, w.pos));
          return undefined;
        }
        if (a.reconciled) enh.annotate(annos.mismatchedCustomBuckets('addition', w.pos));
        h = a.h;
      }
      p = cur;
    }
  } else if (pts[lo]!.counterResetHint !== CounterResetHint.Gauge || last.counterResetHint !== CounterResetHint.Gauge) {
    enh.annotate(annos.nativeHistogramNotGauge(w.metricName, w.pos));
  }
  h.counterResetHint = CounterResetHint.Gauge;
  return compactHistogram(h);
}

/**
 * combineHints folds the counter reset hints of summed histograms as FloatHistogram.Add does
 * (adjustCounterReset): equal hints stay, a gauge makes a gauge, an unknown makes unknown, and a
 * reset meeting a not-reset makes unknown. As Prometheus's sum/avg aggregations and
 * sum_over_time/avg_over_time, it warns of conflicting counter resets when the histograms hold both
 * a reset and a not-reset hint, wherever they are in the list.
 */
export function combineHints(hs: readonly FloatHistogram[], enh: Annotator, pos: PositionRange): CounterResetHint {
  let hint = hs[0]!.counterResetHint;
  let resetSeen = false;
  let notResetSeen = false;
  for (let i = 0; i < hs.length; i++) {
    const o = hs[i]!.counterResetHint;
    if (o === CounterResetHint.CounterReset) resetSeen = true;
    else if (o === CounterResetHint.NotCounterReset) notResetSeen = true;
    if (i === 0 || o === hint || hint === CounterResetHint.Gauge) continue;
    if (o === CounterResetHint.Gauge) hint = CounterResetHint.Gauge;
    else if (hint === CounterResetHint.Unknown) continue;
    else hint = CounterResetHint.Unknown;
  }
  if (resetSeen && notResetSeen) enh.annotate(annos.histogramCounterResetCollision(pos));
  return hint;
}

/** histSumOverTime sums the histograms of w. */
export function histSumOverTime(w: RangeWindow, enh: Annotator): FloatHistogram | undefined {
  return sumHistograms(w.hvs.slice(w.hlo, w.hhi), false, enh, w.metricName, w.pos);
}

/** histAvgOverTime averages the histograms of w. */
export function histAvgOverTime(w: RangeWindow, enh: Annotator): FloatHistogram | undefined {
  return sumHistograms(w.hvs.slice(w.hlo, w.hhi), true, enh, w.metricName, w.pos);
}

/**
 * sumHistograms adds hs with Kahan-compensated summation per field (as Prometheus's histogram
 * KahanAdd). With `mean`, it returns the average, falling back to an incremental mean for fields
 * whose sum overflows. Returns undefined (after annotating) for mixed exponential/custom buckets.
 */
export function sumHistograms(hs: readonly FloatHistogram[], mean: boolean, enh: Annotator, metricName: string, pos: PositionRange, opName = 'aggregation'): FloatHistogram | undefined {
  const first = hs[0]!;
  const custom = usesCustomBuckets(first);
  for (const h of hs) {
    if (usesCustomBuckets(h) !== custom) {
      enh.annotate(annos.mixedExponentialCustom(metricName, pos));
      return undefined;
    }
  }
  const states = hs.map(expand);
  if (custom) {
    let common = states[0]!.customValues;
    let mismatch = false;
    for (const s of states) {
      if (!sameBounds(s.customValues, common)) {
        mismatch = true;
        const set = new Set(s.customValues);
        common = common.filter((v) => set.has(v));
      }
    }
    if (mismatch) {
      for (const s of states) if (!sameBounds(s.customValues, common)) reconcileCustom(s, common);
      enh.annotate(annos.mismatchedCustomBuckets(opName, pos));
    }
  } else {
    const schema = Math.min(...states.map((s) => s.schema));
    const zt = Math.max(...states.map((s) => s.zeroThreshold));
    for (const s of states) {
      toSchema(s, schema);
      widenZero(s, zt);
    }
  }
  const n = states.length;
  const field = (get: (s: State) => number): number => {
    let sum = 0;
    let c = 0;
    let incremental = false;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const x = get(states[i]!);
      if (!incremental) {
        const t = sum + x;
        if (mean && !Number.isFinite(t) && Number.isFinite(sum) && Number.isFinite(x)) {
          incremental = true;
          m = sum / i;
          c /= i;
        } else {
          if (!Number.isFinite(t)) c = 0;
          else if (Math.abs(sum) >= Math.abs(x)) c += sum - t + x;
          else c += x - t + sum;
          sum = t;
          continue;
        }
      }
      const k = i + 1;
      const q = (k - 1) / k;
      const inc = x / k;
      const base = q * m;
      const t = base + inc;
      let cc = q * c;
      if (Math.abs(base) >= Math.abs(inc)) cc += base - t + inc;
      else cc += inc - t + base;
      m = t;
      c = cc;
    }
    if (incremental) return m + c;
    const total = Number.isFinite(sum) ? sum + c : sum;
    return mean ? total / n : total;
  };
  const out: State = {
    schema: states[0]!.schema,
    zeroThreshold: states[0]!.zeroThreshold,
    zeroCount: field((s) => s.zeroCount),
    count: field((s) => s.count),
    sum: field((s) => s.sum),
    pos: new Map(),
    neg: new Map(),
    customValues: states[0]!.customValues,
    hint: combineHints(hs, enh, pos),
  };
  const posIdx = new Set<number>();
  const negIdx = new Set<number>();
  for (const s of states) {
    for (const i of s.pos.keys()) posIdx.add(i);
    for (const i of s.neg.keys()) negIdx.add(i);
  }
  for (const i of posIdx) out.pos.set(i, field((s) => s.pos.get(i) ?? 0));
  for (const i of negIdx) out.neg.set(i, field((s) => s.neg.get(i) ?? 0));
  return build(out, false);
}
