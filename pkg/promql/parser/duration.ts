import type { DurationExpr, Expr } from './ast.js';

/** DurationContext gives the query's values of `step()` and `range()` in milliseconds. */
export interface DurationContext {
  readonly stepMs: number;
  readonly rangeMs: number;
}

/**
 * evalDurationExpr evaluates a duration expression (or a NumberLiteral operand, in seconds) to
 * milliseconds, truncated toward zero like Go's time.Duration conversion. It returns an error text
 * instead when the result is not a finite number. `step()`/`range()` take their values from ctx.
 */
export function evalDurationExpr(e: Expr, ctx: DurationContext): number | string {
  const v = seconds(e, ctx);
  if (!Number.isFinite(v)) return `duration expression evaluated to an invalid value: ${v}`;
  return Math.trunc(Math.round(v * 1e9) / 1e6);
}

function seconds(e: Expr, ctx: DurationContext): number {
  if (e.kind === 'NumberLiteral') return e.val;
  if (e.kind !== 'DurationExpr') return NaN;
  const d: DurationExpr = e;
  switch (d.op) {
    case 'step':
      return ctx.stepMs / 1000;
    case 'range':
      return ctx.rangeMs / 1000;
  }
  const r = d.rhs === null ? NaN : seconds(d.rhs, ctx);
  if (d.lhs === null) return d.op === '-' ? -r : r;
  const l = seconds(d.lhs, ctx);
  switch (d.op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return Math.pow(l, r);
    case 'min_of':
      return Math.min(l, r);
    case 'max_of':
      return Math.max(l, r);
  }
}
