import { TesseraError } from '../../errors/index.js';

/**
 * PromQLErrorType is the Prometheus HTTP API errorType a query error maps to.
 */
export type PromQLErrorType = 'timeout' | 'canceled' | 'execution' | 'bad_data';

/**
 * QueryError is the base class of errors returned by query evaluation. `errorType` says how the
 * HTTP API reports it; `code` is stable and machine-readable.
 */
export class QueryError extends TesseraError {
  readonly errorType: PromQLErrorType;

  constructor(code: string, errorType: PromQLErrorType, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.errorType = errorType;
  }
}

/** ErrQueryTimeout: evaluation ran longer than the engine's timeout. */
export class ErrQueryTimeout extends QueryError {
  static readonly code = 'PROMQL_QUERY_TIMEOUT';
  constructor(where: string) {
    super(ErrQueryTimeout.code, 'timeout', `query timed out in ${where}`);
  }
}

/** ErrQueryCanceled: the caller's AbortSignal fired. */
export class ErrQueryCanceled extends QueryError {
  static readonly code = 'PROMQL_QUERY_CANCELED';
  constructor(where: string, cause?: unknown) {
    super(ErrQueryCanceled.code, 'canceled', `query was canceled in ${where}`, { cause });
  }
}

/** ErrTooManySamples: the query would hold more samples in memory than maxSamples. */
export class ErrTooManySamples extends QueryError {
  static readonly code = 'PROMQL_TOO_MANY_SAMPLES';
  constructor(where: string) {
    super(ErrTooManySamples.code, 'execution', `query processing would load too many samples into memory in ${where}`);
  }
}

/**
 * ErrQueryMemory: the query would exceed the per-query memory budget (--query.max-memory), counted
 * as the bytes of the series data loaded from storage plus 16 bytes a sample held in evaluation.
 */
export class ErrQueryMemory extends QueryError {
  static readonly code = 'PROMQL_QUERY_MEMORY';
  constructor(where: string, bytes: number, budget: number) {
    super(ErrQueryMemory.code, 'execution', `query processing would use more than the per-query memory budget of ${budget} bytes (--query.max-memory) in ${where}: about ${bytes} bytes`);
  }
}

/** ErrStorage wraps an error returned by the queried storage. */
export class ErrStorage extends QueryError {
  static readonly code = 'PROMQL_STORAGE';
  constructor(cause: unknown) {
    super(ErrStorage.code, 'execution', cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * ErrExecution is a runtime error of the query itself (e.g. many-to-many matching, duplicate
 * series, invalid function arguments). Its message is Prometheus's text.
 */
export class ErrExecution extends QueryError {
  static readonly code = 'PROMQL_EXECUTION';
  constructor(message: string) {
    super(ErrExecution.code, 'execution', message);
  }
}

/** ErrBadData is an invalid query or parameter (parse errors, bad time range, ...). */
export class ErrBadData extends QueryError {
  static readonly code = 'PROMQL_BAD_DATA';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrBadData.code, 'bad_data', message, options);
  }
}
