export {
  ALL_FEATURES,
  ParseError,
  evalDurationExpr,
  exprType,
  format,
  formatDuration,
  formatPosition,
  getFunction,
  FUNCTIONS,
  inspect,
  children,
  parseExpr,
  parseMetricSelector,
} from './parser/index.js';
export type { Expr, ParseOptions, PositionRange, VectorSelector, MatrixSelector, Call, AggregateExpr, BinaryExpr } from './parser/index.js';
export {
  Engine,
  Query,
  QueryError,
  ErrQueryTimeout,
  ErrQueryCanceled,
  ErrTooManySamples,
  ErrStorage,
  ErrExecution,
  ErrBadData,
  Annotations,
  staleNaN,
  isStaleNaN,
  formatFloat,
} from './engine/index.js';
export type { EngineOptions, QueryOptions, QueryResult, PromQLErrorType, Sample, Vector, Series, Matrix, Scalar, StringValue, QueryValue } from './engine/index.js';
export { ScriptRunner, MemoryStorage, parseScript, histogramTestExpression } from './promqltest/index.js';
export type { EvalOutcome, FileOutcome } from './promqltest/index.js';
