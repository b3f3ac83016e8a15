import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { createHttpServer, type WebConfig } from '../api/index.js';
import { runInRequestScope } from '../errors/index.js';

/**
 * scoped runs each request in a RequestScope: an error escaping its handlers (caught at process
 * level) fails that request with a Prometheus-style JSON 500, or cuts the response if it started.
 */
function scoped(app: Express): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const what = `HTTP ${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`;
    runInRequestScope(
      {
        what,
        fail: (err) => {
          if (res.writableEnded) return;
          if (res.headersSent) {
            res.destroy(err instanceof Error ? err : undefined);
            return;
          }
          const msg = `internal error while serving ${what}: ${err instanceof Error ? err.message : String(err)}`;
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ status: 'error', errorType: 'internal', error: msg }));
        },
      },
      () => app(req, res),
    );
  };
}

/**
 * listenHttp starts an HTTP server (createHttpServer: Go's header limits) for app on `host:port` (port 0 picks a free one) and resolves
 * with the server and its bound port.
 */
export function listenHttp(app: Express, address: string, web?: WebConfig): Promise<{ server: Server; port: number }> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const server = createHttpServer(scoped(app), web);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : port });
    });
  });
}
