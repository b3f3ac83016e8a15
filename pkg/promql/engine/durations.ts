import type { DurationExpr, Expr } from '../parser/index.js';
import { ErrExecution } from './errors.js';

/** DurationEnv gives duration expressions the step and range of the evaluation. */
export interface DurationEnv {
  readonly start: number;
  readonly end: number;
  readonly interval: number;
}

function val(e: Expr | null, env: DurationEnv): number {
  if (e === null) return 0;
  switch (e.kind) {
    case 'NumberLiteral':
      return e.val;
    case 'DurationExpr':
      return evalSeconds(e, env);
    case 'ParenExpr':
      return val(e.expr, env);
    case 'UnaryExpr':
      return e.op === '-' ? -val(e.expr, env) : val(e.expr, env);
    default:
      throw new ErrExecution('invalid duration expression');
  }
}

function evalSeconds(e: DurationExpr, env: DurationEnv): number {
  switch (e.op) {
    case 'step':
      return env.interval / 1000;
    case 'range':
      return (env.end - env.start) / 1000;
    case 'min_of':
      return Math.min(val(e.lhs, env), val(e.rhs, env));
    case 'max_of':
      return Math.max(val(e.lhs, env), val(e.rhs, env));
    case '+':
      return e.lhs === null ? val(e.rhs, env) : val(e.lhs, env) + val(e.rhs, env);
    case '-':
      return e.lhs === null ? -val(e.rhs, env) : val(e.lhs, env) - val(e.rhs, env);
    case '*':
      return val(e.lhs, env) * val(e.rhs, env);
    case '/':
      return val(e.lhs, env) / val(e.rhs, env);
    case '%':
      return val(e.lhs, env) % val(e.rhs, env);
    case '^':
      return Math.pow(val(e.lhs, env), val(e.rhs, env));
  }
}

/** evalDuration evaluates a duration expression to milliseconds. */
export function evalDuration(e: DurationExpr, env: DurationEnv): number {
  return Math.round(evalSeconds(e, env) * 1000);
}
