import type { Matcher } from '../labels/index.js';
import type { Expr, VectorSelector } from '../promql/index.js';
import { formatPlainFloat } from './float-format.js';

const matchOp = ['=', '!=', '=~', '!~'] as const;

function matchers(ms: readonly Matcher[]): { name: string; value: string; type: string }[] {
  return ms.map((m) => ({ name: m.name, value: m.value, type: matchOp[m.type] }));
}

function selectorFields(vs: VectorSelector): Record<string, unknown> {
  return { name: vs.name, offset: vs.offset, matchers: matchers(vs.matchers), timestamp: vs.timestamp, startOrEnd: vs.startOrEnd, anchored: vs.anchored, smoothed: vs.smoothed };
}

/**
 * translateAst turns a parsed PromQL expression into the JSON tree of Prometheus 3's
 * /api/v1/parse_query (web/api/v1/translate_ast.go): nodes with a `type` field
 * (aggregation, binaryExpr, call, matrixSelector, subquery, numberLiteral, parenExpr,
 * stringLiteral, unaryExpr, vectorSelector), durations in ms. Subqueries report
 * `alignEvalTime: false` (the parser has no such flag).
 */
export function translateAst(e: Expr | null): unknown {
  if (e === null) return null;
  switch (e.kind) {
    case 'AggregateExpr':
      return { type: 'aggregation', op: e.op, expr: translateAst(e.expr), param: translateAst(e.param), grouping: e.grouping, without: e.without };
    case 'BinaryExpr': {
      const m = e.matching;
      const matching =
        m === null ? null : { card: m.card, labels: m.matchingLabels, on: m.on, include: m.include, fillValues: { lhs: m.fillValues.lhs, rhs: m.fillValues.rhs } };
      return { type: 'binaryExpr', op: e.op, lhs: translateAst(e.lhs), rhs: translateAst(e.rhs), matching, bool: e.returnBool };
    }
    case 'Call':
      return {
        type: 'call',
        func: { name: e.func.name, argTypes: e.func.argTypes, variadic: e.func.variadic, returnType: e.func.returnType },
        args: e.args.map(translateAst),
      };
    case 'MatrixSelector': {
      const vs = selectorFields(e.vectorSelector);
      return { type: 'matrixSelector', name: vs['name'], range: e.range, ...vs };
    }
    case 'SubqueryExpr':
      return { type: 'subquery', expr: translateAst(e.expr), range: e.range, offset: e.offset, step: e.step, timestamp: e.timestamp, startOrEnd: e.startOrEnd, alignEvalTime: false };
    case 'NumberLiteral':
      return { type: 'numberLiteral', val: formatPlainFloat(e.val) };
    case 'ParenExpr':
      return { type: 'parenExpr', expr: translateAst(e.expr) };
    case 'StringLiteral':
      return { type: 'stringLiteral', val: e.val };
    case 'UnaryExpr':
      return { type: 'unaryExpr', op: e.op, expr: translateAst(e.expr) };
    case 'VectorSelector':
      return { type: 'vectorSelector', ...selectorFields(e) };
    case 'StepInvariantExpr':
      return translateAst(e.expr);
    case 'DurationExpr':
      throw new RangeError('parse_query cannot translate a bare duration expression');
  }
}
