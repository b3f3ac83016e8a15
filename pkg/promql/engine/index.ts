export { Engine, Query } from './engine.js';
export type { EngineOptions, QueryOptions, QueryResult } from './engine.js';
export { QueryError, ErrQueryTimeout, ErrQueryCanceled, ErrTooManySamples, ErrStorage, ErrExecution, ErrBadData } from './errors.js';
export type { PromQLErrorType } from './errors.js';
export { Annotations, startPosInput } from './annotations.js';
export type { Annotation } from './annotations.js';
export { staleNaN, isStaleNaN } from './stale.js';
export { formatFloat } from './format-float.js';
export type { Sample, Vector, Series, Matrix, Scalar, StringValue, FPoint, HPoint, QueryValue } from './value.js';
