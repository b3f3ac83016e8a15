import express, { type Router } from 'express';
import type { Registry } from 'prom-client';

/** HealthRouterOptions configure createHealthRouter. */
export interface HealthRouterOptions {
  /** ready tells whether the component serves queries; /-/ready answers 503 until it does. */
  readonly ready?: () => boolean;
  /** registry is exposed on /metrics when given. */
  readonly registry?: Registry;
  /** name fills the texts, e.g. "Prometheus Server" (default) or "Tessera Querier". */
  readonly name?: string;
}

/**
 * createHealthRouter serves `/-/healthy` (always 200), `/-/ready` (200 once ready, else 503
 * `Service Unavailable`) with Prometheus's plain-text bodies, HEAD on both, 405 for other
 * methods, and `/metrics` from a prom-client registry. Mount it at the root.
 */
export function createHealthRouter(opts: HealthRouterOptions = {}): Router {
  const router = express.Router();
  const name = opts.name ?? 'Prometheus Server';
  const text = (res: express.Response, status: number, body: string): void => {
    res.status(status).setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };
  router.all('/-/healthy', (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method Not Allowed\n');
    text(res, 200, `${name} is Healthy.\n`);
  });
  router.all('/-/ready', (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method Not Allowed\n');
    if (opts.ready !== undefined && !opts.ready()) return text(res, 503, 'Service Unavailable');
    text(res, 200, `${name} is Ready.\n`);
  });
  const registry = opts.registry;
  if (registry !== undefined) {
    router.get('/metrics', (_req, res, next) => {
      registry.metrics().then(
        (body) => {
          res.status(200).setHeader('Content-Type', registry.contentType);
          res.end(body);
        },
        (err: unknown) => next(err),
      );
    });
  }
  return router;
}
