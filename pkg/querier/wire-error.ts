import { ApiError, type ErrorType } from '../api/index.js';
import { TesseraError } from '../errors/index.js';
import { ParseError, QueryError } from '../promql/index.js';
import { StoreError, type GrpcCode } from '../store/index.js';

/**
 * WireError is an error as it crosses between a query worker and the main thread (structured
 * clone keeps no prototypes): enough to rebuild the same class with the same code, errorType,
 * message and (for PromQL parse errors) position.
 */
export interface WireError {
  readonly kind: 'parse' | 'query' | 'api' | 'store' | 'tessera' | 'syntax' | 'plain';
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly errorType?: string;
  readonly grpcCode?: number;
  readonly positionRange?: { readonly start: number; readonly end: number };
  readonly query?: string;
  readonly detail?: string;
  readonly cause?: WireError;
}

const maxCauseDepth = 4;

/** toWireError describes any thrown value (and up to a few levels of its causes) for postMessage. */
export function toWireError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) {
    // DOMException (AbortSignal.timeout's TimeoutError) is an Error in Node; anything else is text.
    return { kind: 'plain', name: 'Error', message: String(err) };
  }
  const e = err as Error & { code?: unknown; errorType?: unknown };
  const cause = depth < maxCauseDepth && e.cause !== undefined ? { cause: toWireError(e.cause, depth + 1) } : {};
  const base = {
    name: e.name,
    message: e.message,
    ...(e.stack !== undefined ? { stack: e.stack } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.errorType === 'string' ? { errorType: e.errorType } : {}),
    ...cause,
  };
  if (err instanceof ParseError) return { ...base, kind: 'parse', positionRange: { start: err.positionRange.start, end: err.positionRange.end }, query: err.query, detail: err.detail };
  if (err instanceof QueryError) return { ...base, kind: 'query' };
  if (err instanceof ApiError) return { ...base, kind: 'api' };
  if (err instanceof StoreError) return { ...base, kind: 'store', grpcCode: err.grpcCode };
  if (err instanceof TesseraError) return { ...base, kind: 'tessera' };
  if (err instanceof SyntaxError) return { ...base, kind: 'syntax' };
  return { ...base, kind: 'plain' };
}

/** fromWireError rebuilds the error toWireError described: same class, code, errorType and message. */
export function fromWireError(w: WireError): Error {
  const options = w.cause !== undefined ? { cause: fromWireError(w.cause) } : undefined;
  let e: Error;
  switch (w.kind) {
    case 'parse':
      e = new ParseError(w.detail ?? w.message, w.positionRange ?? { start: -1, end: -1 }, w.query ?? '');
      break;
    case 'query':
      e = new QueryError(w.code ?? 'PROMQL_EXECUTION', (w.errorType ?? 'execution') as QueryError['errorType'], w.message, options);
      break;
    case 'api':
      e = new ApiError((w.errorType ?? 'internal') as ErrorType, w.message, options);
      break;
    case 'store':
      e = new StoreError((w.grpcCode ?? 2) as GrpcCode, w.message, options);
      break;
    case 'tessera':
      e = new TesseraError(w.code ?? 'TESSERA_UNKNOWN', w.message, options);
      break;
    case 'syntax':
      e = new SyntaxError(w.message, options);
      break;
    default:
      e = new Error(w.message, options);
  }
  // The subclass name (ErrQueryTimeout, …) and any errorType/code a plain error carried.
  e.name = w.name;
  if (w.errorType !== undefined && (e as { errorType?: unknown }).errorType === undefined) Object.defineProperty(e, 'errorType', { value: w.errorType, enumerable: true });
  if (w.code !== undefined && (e as { code?: unknown }).code === undefined) Object.defineProperty(e, 'code', { value: w.code, enumerable: true });
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
