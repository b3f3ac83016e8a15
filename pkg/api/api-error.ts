import { TesseraError } from '../errors/index.js';

/** ErrorType is Prometheus's API `errorType`. */
export const ErrorType = {
  BadData: 'bad_data',
  Execution: 'execution',
  Canceled: 'canceled',
  Timeout: 'timeout',
  Internal: 'internal',
  Unavailable: 'unavailable',
  NotFound: 'not_found',
  NotAcceptable: 'not_acceptable',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

const allTypes: ReadonlySet<string> = new Set(Object.values(ErrorType));

/**
 * ApiError is an error answered as `{"status":"error","errorType":…,"error":…}`; its code is
 * `TESSERA_API_<ERRORTYPE>`.
 */
export class ApiError extends TesseraError {
  readonly errorType: ErrorType;

  constructor(errorType: ErrorType, message: string, options?: { cause?: unknown }) {
    super(`TESSERA_API_${errorType.toUpperCase()}`, message, options);
    this.errorType = errorType;
  }
}

/** invalidParam builds Prometheus's `invalid parameter "<name>": <detail>` bad_data error. */
export function invalidParam(name: string, detail: string, cause?: unknown): ApiError {
  return new ApiError(ErrorType.BadData, `invalid parameter ${JSON.stringify(name)}: ${detail}`, cause === undefined ? undefined : { cause });
}

/**
 * httpStatus maps an errorType to Prometheus's HTTP status (web/api/v1 respondError). canceled is
 * 499 in Prometheus ≥ 2.43 and 503 in Thanos and older Prometheus: `canceledStatus` picks.
 * unavailable has no explicit mapping in Prometheus and falls to 500.
 */
export function httpStatus(type: ErrorType, canceledStatus = 499): number {
  switch (type) {
    case 'bad_data':
      return 400;
    case 'execution':
      return 422;
    case 'canceled':
      return canceledStatus;
    case 'timeout':
      return 503;
    case 'not_found':
      return 404;
    case 'not_acceptable':
      return 406;
    default:
      return 500;
  }
}

// Stable codes of other packages' errors whose errorType differs from what they carry or that
// carry none (engine storage errors are `internal` in Prometheus's returnAPIError).
const byCode: Readonly<Record<string, ErrorType>> = {
  PROMQL_STORAGE: 'internal',
  PROMQL_QUERY_TIMEOUT: 'timeout',
  PROMQL_QUERY_CANCELED: 'canceled',
  PROMQL_BAD_DATA: 'bad_data',
  PROMQL_EXECUTION: 'execution',
  TESSERA_STORAGE: 'internal',
  TESSERA_UNAVAILABLE: 'unavailable',
};

/**
 * toApiError classifies any error from an engine or source. In order: an ApiError as is; a PromQL
 * parse error (code TESSERA_PROMQL_PARSE or a SyntaxError) or an error the engine raises while
 * preparing a query (PROMQL_BAD_DATA: a wrapped parse error, a range vector in a range query — what
 * Prometheus's NewInstantQuery/NewRangeQuery reject) as bad_data prefixed with
 * `invalid parameter "<parseParam>": ` when parseParam is given; a known stable `code`; an
 * `errorType` property with a known value; AbortError → canceled; TimeoutError → timeout; anything
 * else → execution (Prometheus's default).
 */
export function toApiError(err: unknown, parseParam?: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  if (code === 'TESSERA_PROMQL_PARSE' || code === 'PROMQL_BAD_DATA' || e instanceof SyntaxError) {
    return parseParam === undefined ? new ApiError('bad_data', e.message, { cause: e }) : invalidParam(parseParam, e.message, e);
  }
  if (typeof code === 'string' && byCode[code] !== undefined) return new ApiError(byCode[code], e.message, { cause: e });
  const t = (e as { errorType?: unknown }).errorType;
  if (typeof t === 'string' && allTypes.has(t)) return new ApiError(t as ErrorType, e.message, { cause: e });
  if (e.name === 'AbortError') return new ApiError('canceled', e.message, { cause: e });
  if (e.name === 'TimeoutError') return new ApiError('timeout', e.message, { cause: e });
  return new ApiError('execution', e.message, { cause: e });
}
