import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * setCorsHeaders sets what every Prometheus HTTP API path answers about CORS: the
 * Access-Control-* headers when the request carries an Origin, and `Vary: Origin` always.
 * Works on plain node:http and on express.
 */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.origin !== undefined) {
    res.setHeader('Access-Control-Allow-Headers', 'Accept, Authorization, Content-Type, Origin');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Expose-Headers', 'Date');
    res.setHeader('Access-Control-Allow-Origin', '*');
  }
  res.setHeader('Vary', 'Origin');
}
