import type { Server } from 'node:http';

/**
 * closeHttp stops accepting connections and closes idle ones; requests in flight get graceMs
 * (default 2 s; --http-grace-period) to finish before their connections are cut. Resolves when
 * closed (as soon as the last request in flight ends); the grace timer never outlives the server.
 */
export function closeHttp(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    // A connection whose request finishes now closes at once instead of idling for keepAliveTimeout
    // (Node reads it when each response ends; closeIdleConnections below only sees today's idle ones).
    server.keepAliveTimeout = 1;
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
