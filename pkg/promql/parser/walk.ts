import type { Expr } from './ast.js';

/** children returns the direct child expressions of a node in source order (Prometheus Children()). */
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'AggregateExpr':
      return e.param === null ? [e.expr] : [e.expr, e.param];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'Call':
      return e.args;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    case 'MatrixSelector':
      return [e.vectorSelector];
    case 'DurationExpr': {
      const out: Expr[] = [];
      if (e.lhs !== null) out.push(e.lhs);
      if (e.rhs !== null) out.push(e.rhs);
      return out;
    }
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
  }
}

/**
 * inspect walks an expression depth-first, calling f with each node and the path of its ancestors
 * (root first). Returning false from f skips the node's children.
 */
export function inspect(e: Expr, f: (node: Expr, path: readonly Expr[]) => boolean | void): void {
  const path: Expr[] = [];
  const visit = (n: Expr): void => {
    if (f(n, path) === false) return;
    path.push(n);
    for (const c of children(n)) visit(c);
    path.pop();
  };
  visit(e);
}
