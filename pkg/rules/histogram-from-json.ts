import { FloatHistogram, type Span } from '../histogram/index.js';

/** JsonHistogram is a native histogram sample as Prometheus's HTTP API prints it. */
export interface JsonHistogram {
  readonly count?: string;
  readonly sum?: string;
  /** [boundaryRule, lower, upper, count], non-empty buckets in ascending order. */
  readonly buckets?: readonly (readonly [number, string, string, string])[];
}

function num(s: string | undefined): number {
  if (s === undefined) return 0;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new Error(`histogram value ${JSON.stringify(s)} is not a number`);
  return v;
}

function isIndex(x: number): boolean {
  return Math.abs(x - Math.round(x)) < 1e-6;
}

/** spansOf turns ascending (index, count) pairs into spans and bucket counts. */
function spansOf(pairs: readonly (readonly [number, number])[]): { spans: Span[]; buckets: number[] } {
  const spans: Span[] = [];
  const buckets: number[] = [];
  let next = 0;
  for (const [idx, c] of pairs) {
    const last = spans[spans.length - 1];
    if (last !== undefined && idx === next) last.length++;
    else spans.push({ offset: spans.length === 0 ? idx : idx - next, length: 1 });
    buckets.push(c);
    next = idx + 1;
  }
  return { spans, buckets };
}

/**
 * histogramFromJson rebuilds a FloatHistogram from the bucket list of the HTTP API (what a rule
 * query over `--query` returns). Exponential schemas are recognised from the bucket bounds
 * (2^(i·2^-schema)); bounds reaching into the zero bucket are clamped by the API, so the upper bound
 * (positive) or lower bound (negative) names the index. Anything else (an open -Inf/+Inf bound,
 * bounds that fit no schema) becomes a custom-buckets histogram whose bounds are the finite bounds
 * seen (an empty bucket between two empty ones is not in the answer: its bound is lost and it merges
 * with its neighbour).
 */
export function histogramFromJson(j: JsonHistogram): FloatHistogram {
  const h = new FloatHistogram();
  h.count = num(j.count);
  h.sum = num(j.sum);
  const bs = (j.buckets ?? []).map(([, lo, up, c]) => ({ lo: num(lo), up: num(up), c: num(c) }));
  if (bs.length === 0) return h;
  // zero bucket: spans zero (its bounds are ±threshold)
  const zero = bs.find((b) => b.lo <= 0 && b.up >= 0 && b.lo === -b.up && Number.isFinite(b.up));
  const zt = zero?.up ?? 0;
  const rest = bs.filter((b) => b !== zero);
  const exponential = rest.every((b) => Number.isFinite(b.lo) && Number.isFinite(b.up) && (b.lo >= 0 || b.up <= 0));
  let schema: number | undefined;
  if (exponential) {
    for (let s = -4; s <= 8 && schema === undefined; s++) {
      const f = 2 ** s;
      const fits = rest.every((b) => {
        const edge = b.up > 0 ? b.up : -b.lo; // never clamped
        if (!isIndex(Math.log2(edge) * f)) return false;
        const other = b.up > 0 ? b.lo : -b.up;
        return other === zt || other === 0 || (isIndex(Math.log2(other) * f) && Math.abs(Math.log2(edge) * f - Math.log2(other) * f - 1) < 1e-6);
      });
      if (fits) schema = s;
    }
  }
  if (schema !== undefined) {
    const f = 2 ** schema;
    h.schema = schema;
    h.zeroThreshold = zero !== undefined ? zt : 2 ** -128;
    h.zeroCount = zero?.c ?? 0;
    const pos = rest.filter((b) => b.up > 0).map((b) => [Math.round(Math.log2(b.up) * f), b.c] as const);
    const neg = rest
      .filter((b) => b.up <= 0)
      .map((b) => [Math.round(Math.log2(-b.lo) * f), b.c] as const)
      .sort((a, b) => a[0] - b[0]);
    const p = spansOf(pos);
    const n = spansOf(neg);
    h.positiveSpans = p.spans;
    h.positiveBuckets = p.buckets;
    h.negativeSpans = n.spans;
    h.negativeBuckets = n.buckets;
    return h;
  }
  // custom buckets: upper bounds are the finite bounds seen
  h.schema = -53;
  const bounds = [...new Set(bs.flatMap((b) => [b.lo, b.up]).filter((x) => Number.isFinite(x)))].sort((a, b) => a - b);
  h.customValues = bounds;
  const pairs = bs.map((b) => [b.up === Infinity ? bounds.length : bounds.indexOf(b.up), b.c] as const);
  const p = spansOf(pairs);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  return h;
}
