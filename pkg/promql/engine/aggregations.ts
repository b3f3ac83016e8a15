import type { FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName, goQuote } from '../../labels/index.js';
import { xxhash64 } from '../../storepb/index.js';
import type { AggregateExpr } from '../parser/index.js';
import { fastAggregation } from './aggregation-fast.js';
import { annos } from './annotations.js';
import { ErrExecution } from './errors.js';
import type { Evaluator } from './evaluator.js';
import { isValidLabelName, stringArg } from './functions.js';
import { sumHistograms, usesCustomBuckets } from './histogram-ops.js';
import { allBuckets } from './histogram-buckets.js';
import { formatG } from './annotations.js';
import { kahanSumInc } from './kahan.js';
import { floatQuantile } from './range-functions.js';
import type { Matrix, Sample, Vector } from './value.js';
import { formatFloat } from './format-float.js';

interface Group {
  metric: Labels;
  dropName: boolean;
  samples: Sample[];
}

function groupLabels(metric: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return metric.without([...grouping, MetricName]);
  return metric.keep(grouping);
}

const hashOut = { hi: 0, lo: 0 };
const utf8 = new TextEncoder();

/**
 * hashRatio places a label set in [0, 1] as Prometheus's limit_ratio does: labels.Hash (xxHash64
 * of name 0xff value 0xff …) divided by MaxUint64 as floats.
 */
function hashRatio(l: Labels): number {
  const parts: Uint8Array[] = [];
  let n = 0;
  l.forEach((name, value) => {
    const a = utf8.encode(name);
    const b = utf8.encode(value);
    parts.push(a, b);
    n += a.length + b.length + 2;
  });
  const buf = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    buf.set(parts[i]!, o);
    o += parts[i]!.length;
    buf[o++] = 0xff;
  }
  const h = xxhash64(buf, hashOut);
  return (h.hi * 2 ** 32 + h.lo) / 2 ** 64;
}

/**
 * topK selects the k largest (top) or smallest samples exactly as Prometheus does, so ties and
 * NaNs resolve alike: a container/heap of up to k samples with the weakest at the root, then
 * sort.Sort(sort.Reverse(heap)) (Go's insertion sort for up to 12 elements; larger heaps use a
 * stable sort, which can order ties differently from Go's pdqsort).
 */
function topK(samples: readonly Sample[], k: number, top: boolean): Sample[] {
  // less is Go's vectorByValueHeap (top) or vectorByReverseValueHeap (bottom) Less.
  const less = (a: Sample, b: Sample): boolean => (Number.isNaN(a.f) ? true : top ? a.f < b.f : a.f > b.f);
  const h: Sample[] = [];
  const up = (j: number): void => {
    while (j > 0) {
      const i = (j - 1) >> 1;
      if (i === j || !less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      j = i;
    }
  };
  const down = (i0: number): boolean => {
    let i = i0;
    const n = h.length;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && less(h[j2]!, h[j1]!)) j = j2;
      if (!less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      i = j;
    }
    return i > i0;
  };
  for (const s of samples) {
    if (h.length < k) {
      h.push(s);
      up(h.length - 1);
      continue;
    }
    const root = h[0]!;
    const better = (top ? root.f < s.f : root.f > s.f) || (Number.isNaN(root.f) && !Number.isNaN(s.f));
    if (!better) continue;
    h[0] = s;
    if (k > 1 && !down(0)) up(0);
  }
  if (h.length > 1) {
    // sort.Reverse: Less(i, j) = less(h[j], h[i]).
    if (h.length <= 12) {
      for (let i = 1; i < h.length; i++) {
        for (let j = i; j > 0 && less(h[j - 1]!, h[j]!); j--) [h[j], h[j - 1]] = [h[j - 1]!, h[j]!];
      }
    } else {
      h.sort((a, b) => (less(b, a) ? -1 : less(a, b) ? 1 : 0));
    }
  }
  return h;
}

/** evalAggregation evaluates an aggregation expression at every step. */
export function evalAggregation(ev: Evaluator, e: AggregateExpr): Matrix {
  const op = e.op;
  const grouping = [...e.grouping].sort();
  const exprs = e.param !== null && op !== 'count_values' ? [e.param, e.expr] : [e.expr];
  const valueIdx = exprs.length - 1;
  const cvLabel = op === 'count_values' ? stringArg(e.param ?? undefined) : '';
  if (op === 'count_values' && !isValidLabelName(cvLabel)) throw new ErrExecution(`invalid label name ${goQuote(cvLabel)}`);
  const keyCache = new Map<string, { key: string; labels: Labels }>();
  // count_values groups by the grouping labels plus (by) or minus (without) its output label.
  const cvGrouping = op !== 'count_values' ? grouping : e.without ? grouping.filter((g) => g !== cvLabel) : [...new Set([...grouping, cvLabel])].sort();
  const pos = e.posRange;
  const original = ev.ctx.currentSamples;
  const mats = ev.evalArgs(exprs);
  if (e.param === null) {
    const fast = fastAggregation(ev, op, grouping, e.without, mats[0]!);
    if (fast !== undefined) return ev.settle(original, fast);
  }
  return ev.rangeEvalMatrices(mats, (args, enh) => {
    let vec = args[valueIdx]!;
    if (op === 'count_values') {
      vec = vec.map((s) => ({ ...s, metric: s.metric.builder().set(cvLabel, s.h !== undefined ? histogramString(s.h) : formatFloat(s.f)).labels() }));
    }
    let param = NaN;
    if (valueIdx === 1) param = args[0]![0]?.f ?? NaN;
    if (op === 'topk' || op === 'bottomk' || op === 'limitk') {
      if (Number.isNaN(param)) throw new ErrExecution('Parameter value is NaN');
    }
    if (op === 'limit_ratio') {
      if (Number.isNaN(param)) throw new ErrExecution('Ratio value is NaN');
      if (param < -1 || param > 1) {
        const to = param < -1 ? -1 : 1;
        enh.annotate(annos.invalidRatio(param, to, e.param!.posRange));
        param = to;
      }
    }
    if (op === 'quantile' && (Number.isNaN(param) || param < 0 || param > 1)) enh.annotate(annos.invalidQuantile(param, e.param!.posRange));
    const groups = new Map<string, Group>();
    const order: Group[] = [];
    for (const s of vec) {
      const mk = s.metric.key();
      let gk = keyCache.get(mk);
      if (gk === undefined) {
        const labels = groupLabels(s.metric, cvGrouping, e.without);
        gk = { key: labels.key(), labels };
        keyCache.set(mk, gk);
      }
      let g = groups.get(gk.key);
      if (g === undefined) {
        g = { metric: gk.labels, dropName: false, samples: [] };
        groups.set(gk.key, g);
        order.push(g);
      }
      g.samples.push(s);
      if (s.dropName) g.dropName = true;
    }
    const out: Vector = [];
    const ts = enh.ts;
    const push = (g: Group, f: number, h?: FloatHistogram): void => {
      out.push({ metric: g.metric, t: ts, f, h, dropName: g.dropName && g.metric.has(MetricName) });
    };
    for (const g of order) {
      const floats = g.samples.filter((s) => s.h === undefined);
      const hists = g.samples.filter((s) => s.h !== undefined);
      switch (op) {
        case 'sum':
        case 'avg': {
          if (floats.length > 0 && hists.length > 0) {
            enh.annotate(annos.mixedFloatsHistogramsAgg(pos));
            continue;
          }
          if (hists.length > 0) {
            const h = sumHistograms(
              hists.map((x) => x.h!),
              op === 'avg',
              enh,
              g.samples[0]!.metric.get(MetricName),
              e.expr.posRange,
            );
            if (h === undefined) continue;
            push(g, 0, h);
            continue;
          }
          if (op === 'sum') {
            let sum = 0;
            let c = 0;
            for (const s of floats) [sum, c] = kahanSumInc(s.f, sum, c);
            push(g, Number.isFinite(sum) ? sum + c : sum);
          } else {
            let sum = floats[0]!.f;
            let c = 0;
            let mean = 0;
            let incremental = false;
            for (let i = 1; i < floats.length; i++) {
              const f = floats[i]!.f;
              const count = i + 1;
              if (!incremental) {
                const [ns, nc] = kahanSumInc(f, sum, c);
                if (Number.isFinite(ns) || Number.isNaN(ns)) {
                  sum = ns;
                  c = nc;
                  continue;
                }
                incremental = true;
                mean = sum / (count - 1);
                c /= count - 1;
              }
              const q = (count - 1) / count;
              [mean, c] = kahanSumInc(f / count, q * mean, q * c);
            }
            const n = floats.length;
            push(g, incremental ? mean + c : sum / n + c / n);
          }
          break;
        }
        case 'count':
          push(g, g.samples.length);
          break;
        case 'group':
          push(g, 1);
          break;
        case 'min':
        case 'max': {
          if (hists.length > 0) enh.annotate(annos.histogramIgnoredInAggregation(op, pos));
          if (floats.length === 0) continue;
          let m = floats[0]!.f;
          for (const s of floats) {
            if (op === 'max' ? s.f > m || Number.isNaN(m) : s.f < m || Number.isNaN(m)) m = s.f;
          }
          push(g, m);
          break;
        }
        case 'stddev':
        case 'stdvar': {
          if (hists.length > 0) enh.annotate(annos.histogramIgnoredInAggregation(op, pos));
          if (floats.length === 0) continue;
          let count = 0;
          let mean = 0;
          let cMean = 0;
          let aux = 0;
          let cAux = 0;
          for (const s of floats) {
            count++;
            const delta = s.f - (mean + cMean);
            [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
            [aux, cAux] = kahanSumInc(delta * (s.f - (mean + cMean)), aux, cAux);
          }
          const variance = (aux + cAux) / count;
          push(g, op === 'stddev' ? Math.sqrt(variance) : variance);
          break;
        }
        case 'quantile': {
          if (hists.length > 0) enh.annotate(annos.histogramIgnoredInAggregation(op, pos));
          if (floats.length === 0) continue;
          push(
            g,
            floatQuantile(
              param,
              floats.map((s) => s.f),
            ),
          );
          break;
        }
        case 'topk':
        case 'bottomk': {
          if (hists.length > 0) enh.annotate(annos.histogramIgnoredInAggregation(op, pos));
          const k = Math.min(param, Number.MAX_SAFE_INTEGER);
          if (k < 1) continue;
          for (const s of topK(floats, Math.floor(k), op === 'topk')) out.push({ ...s, t: ts });
          break;
        }
        case 'limitk': {
          const k = Math.min(param, Number.MAX_SAFE_INTEGER);
          if (k < 1) continue;
          for (const s of g.samples.slice(0, Math.floor(k))) out.push({ ...s, t: ts });
          break;
        }
        case 'limit_ratio': {
          for (const s of g.samples) {
            const r = hashRatio(s.metric);
            if ((param >= 0 && r < param) || (param < 0 && r >= 1 + param)) out.push({ ...s, t: ts });
          }
          break;
        }
        case 'count_values':
          out.push({ metric: g.metric, t: ts, f: g.samples.length, h: undefined, dropName: false });
          break;
      }
    }
    return out;
  }, original);
}

function histogramString(h: FloatHistogram): string {
  const parts = [`count:${formatG(h.count)}`, `sum:${formatG(h.sum)}`];
  const custom = usesCustomBuckets(h);
  for (const b of allBuckets(h)) {
    if (b.count === 0) continue;
    const isZero = !custom && b.lower === -h.zeroThreshold && b.upper === h.zeroThreshold;
    const neg = !custom && b.upper < 0;
    const lo = isZero || neg ? '[' : '(';
    const hi = isZero || !neg ? ']' : ')';
    parts.push(`${lo}${formatG(b.lower)},${formatG(b.upper)}${hi}:${formatG(b.count)}`);
  }
  return `{${parts.join(', ')}}`;
}
