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
  // An explicit stack instead of recursion: expressions may be nested arbitrarily deep (a chain
  // of 10,000 binary operators is a tree 10,000 levels deep).
  const path: Expr[] = [];
  const stack: (Expr | typeof EXIT)[] = [e];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === EXIT) {
      path.pop();
      continue;
    }
    if (f(n, path) === false) continue;
    path.push(n);
    stack.push(EXIT);
    const cs = children(n);
    for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]!);
  }
}

const EXIT = Symbol('exit');

/** postOrder lists the nodes of e, every node after its children (no recursion). */
export function postOrder(e: Expr): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    for (const c of children(n)) stack.push(c);
  }
  return out.reverse();
}

/** maxDepth is the number of levels of e (1 for a leaf), computed without recursion. */
export function maxDepth(e: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[e, 1]];
  while (stack.length > 0) {
    const [n, d] = stack.pop()!;
    if (d > max) max = d;
    for (const c of children(n)) stack.push([c, d + 1]);
  }
  return max;
}
