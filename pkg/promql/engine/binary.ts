import { CounterResetHint, type FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName } from '../../labels/index.js';
import { exprType, type BinaryExpr, type BinaryOp, type PositionRange, type VectorMatching } from '../parser/index.js';
import { annos } from './annotations.js';
import { fastScalarBinary, fastVectorBinary } from './binary-fast.js';
import { ErrExecution } from './errors.js';
import type { EvalHelper } from './eval-helper.js';
import type { Evaluator } from './evaluator.js';
import { combine, compactHistogram, histogramsEqual, scaleHistogram } from './histogram-ops.js';
import { trimHistogram } from './histogram-trim.js';
import type { Matrix, Sample, Vector } from './value.js';

const arithmetic = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^', 'atan2']);
const comparison = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);

/** goPow is Go's math.Pow (differs from JS for 1**NaN, (-1)**±Inf). */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/**
 * ElemResult is where floatOp and vectorElemBinop leave their result: one object per module,
 * overwritten by every call, so the per-element path allocates nothing (no result object, no
 * tuple). Read it right after the call.
 */
interface ElemResult {
  f: number;
  h: FloatHistogram | undefined;
  keep: boolean;
}

const res: ElemResult = { f: 0, h: undefined, keep: false };

/** floatOp applies op to two floats into res (h undefined). */
function floatOp(op: BinaryOp, l: number, r: number): void {
  res.h = undefined;
  res.keep = true;
  switch (op) {
    case '+': res.f = l + r; return;
    case '-': res.f = l - r; return;
    case '*': res.f = l * r; return;
    case '/': res.f = l / r; return;
    case '^': res.f = goPow(l, r); return;
    case '%': res.f = l % r; return;
    case 'atan2': res.f = Math.atan2(l, r); return;
    case '==': res.f = l; res.keep = l === r; return;
    case '!=': res.f = l; res.keep = l !== r; return;
    case '>': res.f = l; res.keep = l > r; return;
    case '<': res.f = l; res.keep = l < r; return;
    case '>=': res.f = l; res.keep = l >= r; return;
    case '<=': res.f = l; res.keep = l <= r; return;
    default: throw new ErrExecution(`operator ${op} not allowed for float operations`);
  }
}

function setRes(f: number, h: FloatHistogram | undefined, keep: boolean): true {
  res.f = f;
  res.h = h;
  res.keep = keep;
  return true;
}

/**
 * vectorElemBinop applies op to one pair of values (float or histogram on each side) into res.
 * It returns false when the operand types do not combine (the pair yields nothing).
 */
function vectorElemBinop(op: BinaryOp, lf: number, rf: number, lh: FloatHistogram | undefined, rh: FloatHistogram | undefined, pos: PositionRange, enh: EvalHelper): boolean {
  if (lh === undefined && rh === undefined) {
    if (op === '</' || op === '>/') return false;
    floatOp(op, lf, rf);
    return true;
  }
  if ((op === '</' || op === '>/') && (lh === undefined || rh !== undefined)) {
    // Trim operators only apply to a histogram on the left and a float on the right.
    return false;
  }
  if (lh === undefined && rh !== undefined) {
    if (op === '*') return setRes(0, compactHistogram(scaleHistogram(rh, lf)), true);
    return incompatible(enh, 'float', op, 'histogram', pos);
  }
  if (lh !== undefined && rh === undefined) {
    if (op === '*') return setRes(0, compactHistogram(scaleHistogram(lh, rf)), true);
    if (op === '/') {
      const q = scaleHistogram(lh, 1 / rf);
      if (rf === 0) {
        // Division by zero removes all buckets (as FloatHistogram.Div); count, sum and zero count become ±Inf/NaN.
        q.zeroCount = lh.zeroCount / rf;
        q.count = lh.count / rf;
        q.sum = lh.sum / rf;
        q.positiveSpans = [];
        q.positiveBuckets = [];
        q.negativeSpans = [];
        q.negativeBuckets = [];
      }
      return setRes(0, compactHistogram(q), true);
    }
    if (op === '</' || op === '>/') return setRes(0, trimHistogram(lh, rf, op === '</'), true);
    return incompatible(enh, 'histogram', op, 'float', pos);
  }
  const a = lh!;
  const b = rh!;
  switch (op) {
    case '+':
    case '-': {
      const r = combine(a, b, op === '-');
      if (r.h === undefined) {
        enh.annotate(annos.incompatibleBucketLayoutInBinOp(op, pos));
        return false;
      }
      if (r.reconciled) enh.annotate(annos.mismatchedCustomBuckets(op === '+' ? 'addition' : 'subtraction', pos));
      const out = compactHistogram(r.h);
      if (op === '-') out.counterResetHint = CounterResetHint.Gauge;
      return setRes(0, out, true);
    }
    case '==':
      return setRes(0, a, histogramsEqual(compactHistogram(a), compactHistogram(b)));
    case '!=':
      return setRes(0, a, !histogramsEqual(compactHistogram(a), compactHistogram(b)));
    default:
      return incompatible(enh, 'histogram', op, 'histogram', pos);
  }
}

function incompatible(enh: EvalHelper, l: string, op: BinaryOp, r: string, pos: PositionRange): false {
  enh.annotate(annos.incompatibleTypesInBinOp(l, op, r, pos));
  return false;
}

function signatureFn(m: VectorMatching): (l: Labels) => string {
  const names = m.matchingLabels;
  if (m.on) return (l) => l.keep(names).key();
  const drop = [...names, MetricName];
  return (l) => l.without(drop).key();
}

function matchLabelsString(l: Labels, m: VectorMatching): string {
  return (m.on ? l.keep(m.matchingLabels) : l.without([...m.matchingLabels, MetricName])).toString();
}

function resultMetric(lhs: Labels, rhs: Labels, m: VectorMatching): Labels {
  const b = lhs.builder();
  if (m.card === 'one-to-one') {
    if (m.on) b.keep(...m.matchingLabels);
    else b.del(...m.matchingLabels);
  }
  for (const ln of m.include) {
    const v = rhs.get(ln);
    if (v !== '') b.set(ln, v);
    else b.del(ln);
  }
  return b.labels();
}

/** evalBinary evaluates a binary expression at every step. */
export function evalBinary(ev: Evaluator, e: BinaryExpr): Matrix {
  const lt = exprType(e.lhs);
  const rt = exprType(e.rhs);
  const op = e.op;
  const drops = arithmetic.has(op) || e.returnBool;
  const pos = e.posRange;
  if (lt === 'scalar' && rt === 'scalar') {
    return ev.rangeEval([e.lhs, e.rhs], (args, enh) => {
      const l = args[0]![0]?.f ?? NaN;
      const r = args[1]![0]?.f ?? NaN;
      floatOp(op, l, r);
      const f = comparison.has(op) ? (res.keep ? 1 : 0) : res.f;
      return [{ metric: Labels.EMPTY, t: enh.ts, f, h: undefined, dropName: false }];
    });
  }
  if (lt === 'scalar' || rt === 'scalar') {
    const swap = lt === 'scalar';
    const isComparison = comparison.has(op);
    const original = ev.ctx.currentSamples;
    const mats = ev.evalArgs([e.lhs, e.rhs]);
    const fast = fastScalarBinary(ev, op, e.returnBool, drops, swap, mats, goPow);
    if (fast !== undefined) return ev.settle(original, fast);
    return ev.rangeEvalMatrices(mats, (args, enh) => {
      const vec = swap ? args[1]! : args[0]!;
      const sv = (swap ? args[0]! : args[1]!)[0]?.f ?? NaN;
      const out: Vector = [];
      for (const s of vec) {
        const ok = swap ? vectorElemBinop(op, sv, s.f, undefined, s.h, pos, enh) : vectorElemBinop(op, s.f, sv, s.h, undefined, pos, enh);
        if (!ok) continue;
        let f = res.f;
        let h = res.h;
        let keep = res.keep;
        if (isComparison && swap) {
          f = s.f;
          h = s.h;
        }
        if (e.returnBool) {
          f = keep ? 1 : 0;
          h = undefined;
          keep = true;
        }
        if (keep) out.push({ metric: s.metric, t: enh.ts, f, h, dropName: s.dropName || drops });
      }
      return out;
    }, original);
  }
  const m = e.matching;
  if (m === null) throw new ErrExecution('vector matching missing for binary operation between vectors');
  const sig = signatureFn(m);
  const sigCache = new Map<string, string>();
  const sigOf = (l: Labels): string => {
    const k = l.key();
    let s = sigCache.get(k);
    if (s === undefined) {
      s = sig(l);
      sigCache.set(k, s);
    }
    return s;
  };
  if (op === 'and' || op === 'or' || op === 'unless') {
    return ev.rangeEval([e.lhs, e.rhs], (args, enh) => {
      const lhs = args[0]!;
      const rhs = args[1]!;
      const out: Vector = [];
      if (op === 'and') {
        if (lhs.length === 0 || rhs.length === 0) return out;
        const rs = new Set<string>();
        for (const s of rhs) rs.add(sigOf(s.metric));
        for (const s of lhs) if (rs.has(sigOf(s.metric))) out.push(s);
      } else if (op === 'or') {
        const ls = new Set<string>();
        for (const s of lhs) {
          ls.add(sigOf(s.metric));
          out.push(s);
        }
        for (const s of rhs) if (!ls.has(sigOf(s.metric))) out.push(s);
      } else {
        const rs = new Set<string>();
        for (const s of rhs) rs.add(sigOf(s.metric));
        for (const s of lhs) if (!rs.has(sigOf(s.metric))) out.push(s);
      }
      void enh;
      return out;
    });
  }
  if (m.card === 'many-to-many') throw new ErrExecution('many-to-many only allowed for set operators');
  const original = ev.ctx.currentSamples;
  const mats = ev.evalArgs([e.lhs, e.rhs]);
  const fast = fastVectorBinary(ev, op, e.returnBool, drops, m, mats, sigOf, resultMetric, goPow);
  if (fast !== undefined) return ev.settle(original, fast);
  return ev.rangeEvalMatrices(mats, (args, enh) => {
    let lhs = args[0]!;
    let rhs = args[1]!;
    const out: Vector = [];
    const fillL = m.fillValues.lhs;
    const fillR = m.fillValues.rhs;
    if ((lhs.length === 0 && (fillL === null || rhs.length === 0)) || (rhs.length === 0 && fillR === null)) return out;
    const oneToMany = m.card === 'one-to-many';
    if (oneToMany) [lhs, rhs] = [rhs, lhs];
    const rightSigs = new Map<string, Sample>();
    for (const rs of rhs) {
      const s = sigOf(rs.metric);
      const dup = rightSigs.get(s);
      if (dup !== undefined) {
        const side = oneToMany ? 'left' : 'right';
        const [a, b] = Labels.compare(dup.metric, rs.metric) <= 0 ? [dup, rs] : [rs, dup];
        throw new ErrExecution(
          `found duplicate series for the match group ${matchLabelsString(rs.metric, m)} on the ${side} hand-side of the operation: [${a.metric.toString()}, ${b.metric.toString()}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightSigs.set(s, rs);
    }
    const matched = new Map<string, Set<string> | null>();
    // emit applies op to a pair where one side may be a fill value (experimental fill modifiers);
    // fill values apply to the sides after the one-to-many swap, as upstream does.
    const emit = (lf0: number, lh0: FloatHistogram | undefined, rf0: number, rh0: FloatHistogram | undefined, metric: Labels, dropName: boolean): void => {
      const ok = oneToMany ? vectorElemBinop(op, rf0, lf0, rh0, lh0, pos, enh) : vectorElemBinop(op, lf0, rf0, lh0, rh0, pos, enh);
      if (!ok) return;
      let f = res.f;
      let h = res.h;
      if (e.returnBool) {
        h = undefined;
        f = res.keep ? 1 : 0;
      } else if (!res.keep) return;
      out.push({ metric, t: enh.ts, f, h, dropName });
    };
    const matchedRight = new Set<string>();
    for (const ls of lhs) {
      const s = sigOf(ls.metric);
      const rs = rightSigs.get(s);
      if (rs === undefined) {
        if (fillR !== null) emit(ls.f, ls.h, fillR, undefined, resultMetric(ls.metric, Labels.EMPTY, m), ls.dropName || drops);
        continue;
      }
      matchedRight.add(s);
      const ok = oneToMany ? vectorElemBinop(op, rs.f, ls.f, rs.h, ls.h, pos, enh) : vectorElemBinop(op, ls.f, rs.f, ls.h, rs.h, pos, enh);
      const seen = matched.get(s);
      if (m.card === 'one-to-one') {
        if (seen !== undefined) throw new ErrExecution('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matched.set(s, null);
      }
      if (!ok) continue;
      let f = res.f;
      let h = res.h;
      if (e.returnBool) {
        h = undefined;
        f = res.keep ? 1 : 0;
      } else if (!res.keep) continue;
      const metric = resultMetric(ls.metric, rs.metric, m);
      if (m.card !== 'one-to-one') {
        const ik = metric.key();
        if (seen === undefined || seen === null) matched.set(s, new Set([ik]));
        else if (seen.has(ik)) throw new ErrExecution('multiple matches for labels: grouping labels must ensure unique matches');
        else seen.add(ik);
      }
      out.push({ metric, t: enh.ts, f, h, dropName: ls.dropName || drops });
    }
    if (fillL !== null) {
      for (const [s, rs] of rightSigs) {
        if (matchedRight.has(s)) continue;
        const metric = m.on ? rs.metric.keep(m.matchingLabels) : rs.metric.without([...m.matchingLabels, MetricName]);
        emit(fillL, undefined, rs.f, rs.h, metric, false);
      }
    }
    return out;
  }, original);
}
