import { MetricName, MatchType, goQuote } from '../../labels/index.js';
import type { DurationExpr, Expr, StartOrEnd, VectorMatching, VectorSelector } from './ast.js';
import { formatDuration, formatFloatF, formatFloatV } from './literals.js';
import { postOrder } from './walk.js';

const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * format prints an expression as canonical PromQL, exactly like Prometheus's Expr.String()
 * (what /api/v1/format_query returns): `sum by (job) (rate(x[5m]))`. The output parses back to an
 * equivalent AST.
 */
export function format(e: Expr): string {
  if (printed !== undefined) return printed.get(e) ?? formatNode(e);
  // Print bottom-up, each node from its children's strings: no recursion however deep e is.
  printed = new Map();
  try {
    for (const n of postOrder(e)) printed.set(n, formatNode(n));
    return printed.get(e)!;
  } finally {
    printed = undefined;
  }
}

let printed: Map<Expr, string> | undefined;

function formatNode(e: Expr): string {
  switch (e.kind) {
    case 'AggregateExpr': {
      let s = e.op;
      if (e.without) s += ` without (${labelList(e.grouping)}) `;
      else if (e.grouping.length > 0) s += ` by (${labelList(e.grouping)}) `;
      s += '(';
      if (e.param !== null) s += `${format(e.param)}, `;
      return `${s}${format(e.expr)})`;
    }
    case 'BinaryExpr':
      return `${format(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matchingString(e.matching)} ${format(e.rhs)}`;
    case 'Call':
      return `${e.func.name}(${e.args.map(format).join(', ')})`;
    case 'DurationExpr':
      return durationString(e);
    case 'MatrixSelector': {
      const vs = e.vectorSelector;
      const inner = selectorCore(vs);
      const range = e.rangeExpr !== null ? durationString(e.rangeExpr) : formatDuration(e.range);
      const ext = vs.anchored ? ' anchored' : vs.smoothed ? ' smoothed' : '';
      return `${inner}[${range}]${ext}${atString(vs.timestamp, vs.startOrEnd)}${offsetString(vs.offset, vs.offsetExpr)}`;
    }
    case 'SubqueryExpr': {
      const range = e.rangeExpr !== null ? durationString(e.rangeExpr) : formatDuration(e.range);
      const step = e.stepExpr !== null ? durationString(e.stepExpr) : e.step !== 0 ? formatDuration(e.step) : '';
      return `${format(e.expr)}[${range}:${step}]${atString(e.timestamp, e.startOrEnd)}${offsetString(e.offset, e.offsetExpr)}`;
    }
    case 'NumberLiteral':
      if (e.duration) return e.val < 0 ? `-${formatDuration(-e.val * 1000)}` : formatDuration(e.val * 1000);
      return formatFloatF(e.val);
    case 'ParenExpr':
      return `(${format(e.expr)})`;
    case 'StringLiteral':
      return goQuote(e.val);
    case 'UnaryExpr':
      return `${e.op}${format(e.expr)}`;
    case 'StepInvariantExpr':
      return format(e.expr);
    case 'VectorSelector': {
      let s = selectorCore(e) + atString(e.timestamp, e.startOrEnd);
      if (e.anchored) s += ' anchored';
      else if (e.smoothed) s += ' smoothed';
      return s + offsetString(e.offset, e.offsetExpr);
    }
  }
}

/** The name and sorted matchers of a selector, without modifiers. */
function selectorCore(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    if (m.name === MetricName && m.type === MatchType.Equal && m.value === vs.name && m.value !== '') continue;
    parts.push(m.toString());
  }
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.length === 0 ? vs.name : `${vs.name}{${parts.join(',')}}`;
}

function labelList(ls: readonly string[]): string {
  return ls.map((l) => (LEGACY_LABEL.test(l) ? l : goQuote(l))).join(', ');
}

function matchingString(vm: VectorMatching | null): string {
  if (vm === null) return '';
  let s = '';
  const grouped = vm.card === 'many-to-one' || vm.card === 'one-to-many';
  if (vm.matchingLabels.length > 0 || vm.on || grouped) {
    s += ` ${vm.on ? 'on' : 'ignoring'} (${labelList(vm.matchingLabels)})`;
  }
  if (grouped) s += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${labelList(vm.include)})`;
  const { lhs, rhs } = vm.fillValues;
  if (lhs !== null || rhs !== null) {
    if (lhs !== null && rhs !== null && Object.is(lhs, rhs)) s += ` fill (${formatFloatV(lhs)})`;
    else {
      if (lhs !== null) s += ` fill_left (${formatFloatV(lhs)})`;
      if (rhs !== null) s += ` fill_right (${formatFloatV(rhs)})`;
    }
  }
  return s;
}

function atString(ts: number | null, soe: StartOrEnd): string {
  if (ts !== null) return ` @ ${(ts / 1000).toFixed(3)}`;
  if (soe === 'start') return ' @ start()';
  if (soe === 'end') return ' @ end()';
  return '';
}

function offsetString(ms: number, expr: DurationExpr | null): string {
  if (expr !== null) return ` offset ${durationString(expr)}`;
  if (ms > 0) return ` offset ${formatDuration(ms)}`;
  if (ms < 0) return ` offset -${formatDuration(-ms)}`;
  return '';
}

function durationString(e: DurationExpr): string {
  let s: string;
  switch (e.op) {
    case 'step':
      s = 'step()';
      break;
    case 'range':
      s = 'range()';
      break;
    case 'min_of':
    case 'max_of':
      s = `${e.op}(${format(e.lhs!)}, ${format(e.rhs!)})`;
      break;
    default:
      if (e.lhs === null) s = e.op === '-' ? `-${format(e.rhs!)}` : format(e.rhs!);
      else s = `${format(e.lhs)} ${e.op} ${format(e.rhs!)}`;
  }
  return e.wrapped ? `(${s})` : s;
}
