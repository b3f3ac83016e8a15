import type { Server } from 'node:http';
import type { Express } from 'express';
import { createHttpServer } from '../api/index.js';

/**
 * listenHttp starts an HTTP server (createHttpServer: Go's header limits) for app on `host:port` (port 0 picks a free one) and resolves
 * with the server and its bound port.
 */
export function listenHttp(app: Express, address: string): Promise<{ server: Server; port: number }> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : port });
    });
  });
}

/** closeHttp stops accepting connections and closes idle ones; resolves when closed. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}
