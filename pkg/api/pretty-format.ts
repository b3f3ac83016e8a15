import { format, type Expr } from '../promql/index.js';

const maxCharactersPerLine = 100;

function indent(level: number): string {
  return '  '.repeat(level);
}

/** needsSplit tells whether the single-line form of e is longer than 100 bytes. */
function needsSplit(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') > maxCharactersPerLine;
}

/**
 * prettyFormat prints a parsed expression as Prometheus's /api/v1/format_query does
 * (parser.Prettify): a node whose single-line form fits in 100 bytes stays on one line; longer
 * aggregations, calls, parentheses and binary expressions are split with their children indented
 * two spaces per level. The single-line pieces come from the parser's printer.
 */
export function prettyFormat(e: Expr, level = 0): string {
  const one = format(e);
  switch (e.kind) {
    case 'AggregateExpr': {
      if (!needsSplit(one)) return indent(level) + one;
      const inner = format(e.expr);
      const param = e.param === null ? '' : `${format(e.param)}, `;
      const opStr = one.slice(0, one.length - (param.length + inner.length + 2));
      let s = `${indent(level)}${opStr}(\n`;
      if (e.param !== null) s += `${prettyFormat(e.param, level + 1)},\n`;
      return `${s}${prettyFormat(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'BinaryExpr': {
      if (!needsSplit(one)) return indent(level) + one;
      const lhs = format(e.lhs);
      const rhs = format(e.rhs);
      const middle = one.slice(lhs.length + 1, one.length - rhs.length - 1); // op, bool, matching
      return `${prettyFormat(e.lhs, level + 1)}\n${indent(level)}${middle}\n${prettyFormat(e.rhs, level + 1)}`;
    }
    case 'Call': {
      if (!needsSplit(one)) return indent(level) + one;
      const args = e.args.map((a) => prettyFormat(a, level + 1)).join(',\n');
      return `${indent(level)}${e.func.name}(\n${args}\n${indent(level)})`;
    }
    case 'ParenExpr':
      if (!needsSplit(one)) return indent(level) + one;
      return `${indent(level)}(\n${prettyFormat(e.expr, level + 1)}\n${indent(level)})`;
    case 'SubqueryExpr': {
      if (!needsSplit(one)) return one;
      const inner = format(e.expr);
      return prettyFormat(e.expr, level) + one.slice(inner.length);
    }
    case 'StepInvariantExpr':
      return prettyFormat(e.expr, level);
    case 'UnaryExpr':
      return `${indent(level)}${e.op}${prettyFormat(e.expr, level).trim()}`;
    default:
      return indent(level) + one;
  }
}
