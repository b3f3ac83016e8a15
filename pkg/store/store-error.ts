import { TesseraError } from '../errors/index.js';

/** GrpcCode holds the gRPC status codes the StoreAPI uses (google.rpc.Code numbers). */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

const codeNames: Record<number, string> = Object.fromEntries(Object.entries(GrpcCode).map(([k, v]) => [v, k]));

/**
 * StoreError is a StoreAPI failure with the gRPC status code it maps to (and came from, on the
 * client side). `code` is `TESSERA_STORE_<NAME>` for the gRPC code name.
 */
export class StoreError extends TesseraError {
  readonly grpcCode: GrpcCode;
  constructor(grpcCode: GrpcCode, message: string, options?: { cause?: unknown }) {
    super(`TESSERA_STORE_${(codeNames[grpcCode] ?? 'UNKNOWN').toUpperCase()}`, message, options);
    this.grpcCode = grpcCode;
  }
}

/**
 * toStoreError maps any thrown value to a StoreError: StoreErrors pass through, aborts become
 * Canceled (or DeadlineExceeded for timeouts), invalid regexps InvalidArgument, the rest Internal.
 */
export function toStoreError(err: unknown, action: string): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof TesseraError && err.code === 'TESSERA_BAD_REGEXP') return new StoreError(GrpcCode.InvalidArgument, `${action}: ${err.message}`, { cause: err });
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new StoreError(err.name === 'TimeoutError' ? GrpcCode.DeadlineExceeded : GrpcCode.Canceled, `${action}: ${err.message}`, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new StoreError(GrpcCode.Internal, `${action}: ${msg}`, { cause: err });
}

/** abortError returns the reason of an aborted signal as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'operation was aborted');
  e.name = 'AbortError';
  return e;
}
