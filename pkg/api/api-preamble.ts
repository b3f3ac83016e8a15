import type { Request, Response } from 'express';
import { setCorsHeaders } from './cors-headers.js';

/**
 * apiPreamble does what every Prometheus HTTP API path does before its handler: 503 `Service
 * Unavailable` while ready() is false, the CORS headers when the request carries an Origin,
 * `Vary: Origin`, and 204 to OPTIONS. It returns false when it has answered the request itself.
 */
export function apiPreamble(req: Request, res: Response, ready: (() => boolean) | undefined): boolean {
  if (ready !== undefined && !ready()) {
    res.status(503).type('text/plain; charset=utf-8').send('Service Unavailable');
    return false;
  }
  setCorsHeaders(req, res);
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return false;
  }
  return true;
}
