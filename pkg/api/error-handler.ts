import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Request } from 'express';
import { ApiError, ErrorType, httpStatus } from './api-error.js';
import { jsonString } from './json-string.js';

/**
 * createJsonErrorHandler returns the express error handler that ends an app or router: whatever
 * reaches it (a router's URIError on a bad `%` escape, a body parser's "request entity too large",
 * an exception thrown by a handler) is answered as Prometheus's JSON error, never express's HTML
 * page with a stack trace. An ApiError keeps its type and status; an error carrying an HTTP 4xx
 * `status`/`statusCode` keeps it (bad_data, or not_found/not_acceptable for 404/406) and its
 * message when `expose` allows; anything else is 500 internal with its message. When the answer
 * has started already, the connection is closed so the client sees a truncated response.
 * onError hears of what is a failure rather than an answer: 5xx errors and errors after the
 * answer started (for the log, with the request).
 */
export function createJsonErrorHandler(opts: { canceledStatus?: number; onError?: (err: unknown, req: Request) => void } = {}): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      opts.onError?.(err, req);
      res.destroy();
      return;
    }
    const { status, errorType, message } = classify(err, opts.canceledStatus);
    // Client errors (a bad escape, a body too large) are answers, not failures worth a log line.
    if (status >= 500) opts.onError?.(err, req);
    res.status(status);
    res.setHeader('Content-Type', 'application/json');
    res.end(`{"status":"error","errorType":"${errorType}","error":${jsonString(message)}}`);
  };
}

function classify(err: unknown, canceledStatus: number | undefined): { status: number; errorType: ErrorType; message: string } {
  if (err instanceof ApiError) return { status: httpStatus(err.errorType, canceledStatus), errorType: err.errorType, message: err.message };
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  const s = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  if (s >= 400 && s < 500) {
    const errorType = s === 404 ? ErrorType.NotFound : s === 406 ? ErrorType.NotAcceptable : ErrorType.BadData;
    return { status: s, errorType, message: e.expose === false ? statusText(s) : message };
  }
  return { status: 500, errorType: ErrorType.Internal, message };
}

function statusText(s: number): string {
  return STATUS_CODES[s] ?? `HTTP ${s}`;
}
