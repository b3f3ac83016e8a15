export { exprType } from './ast.js';
export type {
  AggregateExpr,
  AggregateOp,
  ArithmeticOp,
  BinaryExpr,
  BinaryOp,
  Call,
  ComparisonOp,
  DurationExpr,
  DurationOp,
  Expr,
  ExprKind,
  FillValues,
  FunctionDef,
  MatrixSelector,
  NumberLiteral,
  ParenExpr,
  PositionRange,
  SetOp,
  StartOrEnd,
  StepInvariantExpr,
  StringLiteral,
  SubqueryExpr,
  UnaryExpr,
  UnaryOp,
  ValueType,
  VectorMatchCardinality,
  VectorMatching,
  VectorSelector,
} from './ast.js';
export { evalDurationExpr } from './duration.js';
export type { DurationContext } from './duration.js';
export { FUNCTIONS, getFunction } from './functions.js';
export { formatDuration, formatFloatF, parseGoDuration } from './literals.js';
export { ParseError, formatPosition } from './parse-error.js';
export { ALL_FEATURES, parseExpr, parseMetricSelector } from './parser.js';
export type { ParseOptions } from './parser.js';
export { format } from './printer.js';
export { children, inspect } from './walk.js';
