import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * RequestScope is the request a piece of asynchronous work belongs to: servers run each request's
 * handler inside one (runInRequestScope), so that an error escaping that handler (an unhandled
 * rejection or an uncaught exception, caught at process level) can be named and fail only that
 * request.
 */
export interface RequestScope {
  /** what names the request for logs, e.g. `HTTP GET /api/v1/query` or `gRPC series`. */
  readonly what: string;
  /** fail ends the request with err (a 500, a gRPC INTERNAL status); called at most once matters to the caller. */
  fail(err: unknown): void;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** runInRequestScope runs fn, and everything asynchronous it starts, in scope. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** currentRequestScope is the scope of the running code, if it runs for a request. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
