import type { Labels } from '../../labels/index.js';
import type { BinaryOp, VectorMatching } from '../parser/index.js';
import type { Evaluator } from './evaluator.js';
import { fastPaths } from './fast-paths.js';
import { Floats } from './floats.js';
import type { Matrix, Series } from './value.js';

/** goPowFn is Go's math.Pow, passed in to avoid an import cycle with binary.ts. */
type PowFn = (x: number, y: number) => number;

/**
 * fastVectorBinary evaluates an arithmetic or comparison operator between two float vectors
 * (one-to-one, group_left or group_right, no fill modifiers) by matching series once per query
 * instead of once per step: each left series finds its right partner by signature once, its
 * result labels are computed once, and the two point lists are merged by step. Returns
 * undefined whenever per-step evaluation could raise an error or differ (native histograms,
 * several series with one signature on the "one" side, two left series for one signature in a
 * one-to-one match, or two results with the same labels); the caller then evaluates per step.
 * Output series are ordered as the per-step MatrixBuilder orders them.
 */
export function fastVectorBinary(
  ev: Evaluator,
  op: BinaryOp,
  returnBool: boolean,
  drops: boolean,
  m: VectorMatching,
  mats: readonly Matrix[],
  sigOf: (l: Labels) => string,
  resultMetric: (lhs: Labels, rhs: Labels, m: VectorMatching) => Labels,
  pow: PowFn,
): Matrix | undefined {
  if (!fastPaths.enabled) return undefined;
  const code = opCode(op);
  if (code < 0 || m.fillValues.lhs !== null || m.fillValues.rhs !== null) return undefined;
  const oneToMany = m.card === 'one-to-many';
  const lhs = oneToMany ? mats[1]! : mats[0]!;
  const rhs = oneToMany ? mats[0]! : mats[1]!;
  for (const s of lhs) if (s.histograms.length > 0) return undefined;
  for (const s of rhs) if (s.histograms.length > 0) return undefined;
  const rightBySig = new Map<string, number>();
  for (let j = 0; j < rhs.length; j++) {
    if (rhs[j]!.floats.length === 0) continue;
    const sig = sigOf(rhs[j]!.metric);
    if (rightBySig.has(sig)) return undefined;
    rightBySig.set(sig, j);
  }
  const leftSigs = m.card === 'one-to-one' ? new Set<string>() : null;
  const outKeys = new Set<string>();
  const partner = new Int32Array(lhs.length).fill(-1);
  const metrics: Labels[] = new Array<Labels>(lhs.length);
  for (let i = 0; i < lhs.length; i++) {
    const ls = lhs[i]!;
    if (ls.floats.length === 0) continue;
    const sig = sigOf(ls.metric);
    if (leftSigs !== null) {
      if (leftSigs.has(sig)) return undefined;
      leftSigs.add(sig);
    }
    const r = rightBySig.get(sig);
    if (r === undefined) continue;
    const metric = resultMetric(ls.metric, rhs[r]!.metric, m);
    const k = metric.key();
    if (outKeys.has(k)) return undefined;
    outKeys.add(k);
    partner[i] = r;
    metrics[i] = metric;
  }
  const start = ev.start;
  const interval = ev.interval;
  const made: { series: Series; first: number; idx: number }[] = [];
  for (let i = 0; i < lhs.length; i++) {
    const r = partner[i]!;
    if (r < 0) continue;
    if ((i & 255) === 255) ev.ctx.check();
    const lf = lhs[i]!.floats;
    const rf = rhs[r]!.floats;
    const floats = Floats.withCapacity(Math.min(lf.length, rf.length));
    let a = 0;
    let b = 0;
    while (a < lf.length && b < rf.length) {
      const ta = lf.ts[a]!;
      const tb = rf.ts[b]!;
      if (ta < tb) {
        a++;
        continue;
      }
      if (tb < ta) {
        b++;
        continue;
      }
      // Operands in expression order (undo the one-to-many swap).
      const l = oneToMany ? rf.fs[b]! : lf.fs[a]!;
      const rv = oneToMany ? lf.fs[a]! : rf.fs[b]!;
      a++;
      b++;
      let f: number;
      if (code < 7) {
        f = arith(code, l, rv, pow);
      } else {
        const keep = compare(code, l, rv);
        if (returnBool) f = keep ? 1 : 0;
        else if (!keep) continue;
        else f = l;
      }
      floats.push(ta, f);
    }
    if (floats.length === 0) continue;
    made.push({ series: { metric: metrics[i]!, floats, histograms: [], dropName: lhs[i]!.dropName || drops }, first: Math.round((floats.ts[0]! - start) / interval), idx: i });
  }
  made.sort((x, y) => x.first - y.first || x.idx - y.idx);
  return made.map((x) => x.series);
}

/**
 * fastScalarBinary evaluates an arithmetic or comparison operator between a float vector and a
 * scalar series by series over their typed arrays, instead of building a vector per step; the
 * result equals the per-step evaluation, in the same series order (by first step, then input
 * order). Returns undefined when it does not apply (native histograms, another operator).
 */
export function fastScalarBinary(ev: Evaluator, op: BinaryOp, returnBool: boolean, drops: boolean, swap: boolean, mats: readonly Matrix[], pow: PowFn): Matrix | undefined {
  if (!fastPaths.enabled) return undefined;
  const code = opCode(op);
  if (code < 0) return undefined;
  const vec = swap ? mats[1]! : mats[0]!;
  for (const s of vec) if (s.histograms.length > 0) return undefined;
  const n = ev.numSteps;
  const start = ev.start;
  const interval = ev.interval;
  const sv = new Float64Array(n).fill(NaN);
  const sc = (swap ? mats[0]! : mats[1]!)[0];
  if (sc !== undefined) for (let i = 0; i < sc.floats.length; i++) sv[Math.round((sc.floats.ts[i]! - start) / interval)] = sc.floats.fs[i]!;
  const made: { series: Series; first: number; idx: number }[] = [];
  for (let j = 0; j < vec.length; j++) {
    if ((j & 255) === 255) ev.ctx.check();
    const s = vec[j]!;
    const fl = s.floats;
    // Arithmetic keeps every point; a filter keeps a subset: size for the input, trim below.
    const floats = Floats.withCapacity(fl.length);
    for (let i = 0; i < fl.length; i++) {
      const t = fl.ts[i]!;
      const v = fl.fs[i]!;
      const c = sv[Math.round((t - start) / interval)]!;
      const l = swap ? c : v;
      const r = swap ? v : c;
      let f: number;
      if (code < 7) {
        f = arith(code, l, r, pow);
      } else {
        const keep = compare(code, l, r);
        if (returnBool) f = keep ? 1 : 0;
        else if (!keep) continue;
        else f = v;
      }
      floats.push(t, f);
    }
    if (floats.length === 0) continue;
    const exact = floats.length === fl.length ? floats : new Floats(floats.ts.slice(0, floats.length), floats.fs.slice(0, floats.length));
    made.push({ series: { metric: s.metric, floats: exact, histograms: [], dropName: s.dropName || drops }, first: Math.round((exact.ts[0]! - start) / interval), idx: j });
  }
  made.sort((x, y) => x.first - y.first || x.idx - y.idx);
  return made.map((x) => x.series);
}

const codes: Partial<Record<BinaryOp, number>> = { '+': 0, '-': 1, '*': 2, '/': 3, '%': 4, '^': 5, atan2: 6, '==': 7, '!=': 8, '>': 9, '<': 10, '>=': 11, '<=': 12 };

function opCode(op: BinaryOp): number {
  return codes[op] ?? -1;
}

function arith(code: number, l: number, r: number, pow: PowFn): number {
  switch (code) {
    case 0:
      return l + r;
    case 1:
      return l - r;
    case 2:
      return l * r;
    case 3:
      return l / r;
    case 4:
      return l % r;
    case 5:
      return pow(l, r);
    default:
      return Math.atan2(l, r);
  }
}

function compare(code: number, l: number, r: number): boolean {
  switch (code) {
    case 7:
      return l === r;
    case 8:
      return l !== r;
    case 9:
      return l > r;
    case 10:
      return l < r;
    case 11:
      return l >= r;
    default:
      return l <= r;
  }
}
