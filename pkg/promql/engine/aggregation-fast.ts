import { MetricName, type Labels } from '../../labels/index.js';
import type { Evaluator } from './evaluator.js';
import { fastPaths } from './fast-paths.js';
import { Floats } from './floats.js';
import { kahanComp } from './kahan.js';
import type { Matrix, Series } from './value.js';

/** Aggregation operators fastAggregation handles. */
const fastOps = new Set(['sum', 'avg', 'count', 'group', 'min', 'max']);

/**
 * fastAggregation evaluates sum, avg, count, group, min and max over an already evaluated float
 * matrix without building per-step vectors: each series' group is computed once, and the
 * per-(group, step) accumulators live in Float64Arrays. It visits the samples of a (group, step)
 * in the same order as the per-step evaluation (series order), so results are bit-identical,
 * and orders the output series as the per-step MatrixBuilder would (by first step, then by the
 * first contributing input series). Returns undefined when it does not apply (another operator,
 * or native histograms in the input), and the caller falls back to per-step evaluation.
 */
export function fastAggregation(ev: Evaluator, op: string, grouping: readonly string[], without: boolean, m: Matrix): Matrix | undefined {
  if (!fastPaths.enabled || !fastOps.has(op)) return undefined;
  for (const s of m) if (s.histograms.length > 0) return undefined;
  const n = ev.numSteps;
  const start = ev.start;
  const interval = ev.interval;
  // Group of every series, computed once.
  const byKey = new Map<string, number>();
  const groupLabels: Labels[] = [];
  const groupDrop: boolean[] = [];
  const firstStep: number[] = [];
  const firstSeries: number[] = [];
  const seriesGroup = new Int32Array(m.length);
  const drop = without ? [...grouping, MetricName] : null;
  for (let j = 0; j < m.length; j++) {
    const s = m[j]!;
    const labels = drop !== null ? s.metric.without(drop) : s.metric.keep(grouping);
    const key = labels.key();
    let g = byKey.get(key);
    if (g === undefined) {
      g = groupLabels.length;
      byKey.set(key, g);
      groupLabels.push(labels);
      groupDrop.push(false);
      firstStep.push(n);
      firstSeries.push(-1);
    }
    seriesGroup[j] = g;
    if (s.floats.length === 0) continue;
    if (s.dropName) groupDrop[g] = true;
    const st = Math.round((s.floats.ts[0]! - start) / interval);
    if (st < firstStep[g]!) {
      firstStep[g] = st;
      firstSeries[g] = j;
    }
  }
  const G = groupLabels.length;
  const cnt = new Float64Array(G * n);
  const acc = new Float64Array(op === 'count' || op === 'group' ? 0 : G * n);
  const comp = new Float64Array(op === 'sum' || op === 'avg' ? G * n : 0);
  const mean = new Float64Array(op === 'avg' ? G * n : 0);
  const incr = new Uint8Array(op === 'avg' ? G * n : 0);
  for (let j = 0; j < m.length; j++) {
    if ((j & 255) === 255) ev.ctx.check();
    const fl = m[j]!.floats;
    const base = seriesGroup[j]! * n;
    // One loop per operator: the operator is decided once a series, not once a sample.
    switch (op) {
      case 'sum':
        accumulateSum(fl.ts, fl.fs, fl.length, base, start, interval, cnt, acc, comp);
        break;
      case 'avg':
        accumulateAvg(fl.ts, fl.fs, fl.length, base, start, interval, cnt, acc, comp, mean, incr);
        break;
      case 'min':
        accumulateMin(fl.ts, fl.fs, fl.length, base, start, interval, cnt, acc);
        break;
      case 'max':
        accumulateMax(fl.ts, fl.fs, fl.length, base, start, interval, cnt, acc);
        break;
      default:
        accumulateCount(fl.ts, fl.length, base, start, interval, cnt);
    }
  }
  const order: number[] = [];
  for (let g = 0; g < G; g++) if (firstSeries[g]! >= 0) order.push(g);
  order.sort((a, b) => firstStep[a]! - firstStep[b]! || firstSeries[a]! - firstSeries[b]!);
  const out: Matrix = [];
  for (const g of order) {
    const base = g * n;
    let len = 0;
    for (let st = 0; st < n; st++) if (cnt[base + st] !== 0) len++;
    const floats = Floats.withCapacity(len);
    for (let st = 0; st < n; st++) {
      const idx = base + st;
      const c = cnt[idx]!;
      if (c === 0) continue;
      let f: number;
      switch (op) {
        case 'sum': {
          const sum = acc[idx]!;
          f = Number.isFinite(sum) ? sum + comp[idx]! : sum;
          break;
        }
        case 'avg':
          f = incr[idx] === 1 ? mean[idx]! + comp[idx]! : acc[idx]! / c + comp[idx]! / c;
          break;
        case 'count':
          f = c;
          break;
        case 'group':
          f = 1;
          break;
        default:
          f = acc[idx]!;
      }
      floats.push(start + st * interval, f);
    }
    const metric = groupLabels[g]!;
    const series: Series = { metric, floats, histograms: [], dropName: groupDrop[g]! && metric.has(MetricName) };
    out.push(series);
  }
  return out;
}

// The accumulators below visit a series' samples in order; idx is the sample's (group, step) cell.

function accumulateCount(ts: Float64Array, len: number, base: number, start: number, interval: number, cnt: Float64Array): void {
  for (let i = 0; i < len; i++) cnt[base + Math.round((ts[i]! - start) / interval)]! += 1;
}

function accumulateSum(ts: Float64Array, fs: Float64Array, len: number, base: number, start: number, interval: number, cnt: Float64Array, acc: Float64Array, comp: Float64Array): void {
  for (let i = 0; i < len; i++) {
    const f = fs[i]!;
    const idx = base + Math.round((ts[i]! - start) / interval);
    cnt[idx]! += 1;
    const sum = acc[idx]!;
    const t = sum + f;
    comp[idx] = kahanComp(f, sum, t, comp[idx]!);
    acc[idx] = t;
  }
}

function accumulateAvg(ts: Float64Array, fs: Float64Array, len: number, base: number, start: number, interval: number, cnt: Float64Array, acc: Float64Array, comp: Float64Array, mean: Float64Array, incr: Uint8Array): void {
  for (let i = 0; i < len; i++) {
    const f = fs[i]!;
    const idx = base + Math.round((ts[i]! - start) / interval);
    const c0 = cnt[idx]!;
    cnt[idx] = c0 + 1;
    if (c0 === 0) {
      acc[idx] = f;
      continue;
    }
    const count = c0 + 1;
    if (incr[idx] === 0) {
      const sum = acc[idx]!;
      const t = sum + f;
      const c = kahanComp(f, sum, t, comp[idx]!);
      if (Number.isFinite(t) || Number.isNaN(t)) {
        acc[idx] = t;
        comp[idx] = c;
        continue;
      }
      incr[idx] = 1;
      mean[idx] = acc[idx]! / (count - 1);
      comp[idx] = comp[idx]! / (count - 1);
    }
    const q = (count - 1) / count;
    const inc = f / count;
    const sum = q * mean[idx]!;
    const t = sum + inc;
    mean[idx] = t;
    comp[idx] = kahanComp(inc, sum, t, q * comp[idx]!);
  }
}

function accumulateMin(ts: Float64Array, fs: Float64Array, len: number, base: number, start: number, interval: number, cnt: Float64Array, acc: Float64Array): void {
  for (let i = 0; i < len; i++) {
    const f = fs[i]!;
    const idx = base + Math.round((ts[i]! - start) / interval);
    const c0 = cnt[idx]!;
    cnt[idx] = c0 + 1;
    const cur = acc[idx]!;
    if (c0 === 0 || f < cur || Number.isNaN(cur)) acc[idx] = f;
  }
}

function accumulateMax(ts: Float64Array, fs: Float64Array, len: number, base: number, start: number, interval: number, cnt: Float64Array, acc: Float64Array): void {
  for (let i = 0; i < len; i++) {
    const f = fs[i]!;
    const idx = base + Math.round((ts[i]! - start) / interval);
    const c0 = cnt[idx]!;
    cnt[idx] = c0 + 1;
    const cur = acc[idx]!;
    if (c0 === 0 || f > cur || Number.isNaN(cur)) acc[idx] = f;
  }
}
