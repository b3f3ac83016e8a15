import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { createHealthRouter, createJsonErrorHandler, createRulesApiRouter, notFound, serveWebUi, statusMiddleware } from '../api/index.js';
import { snapshotRuleGroups } from '../rules/index.js';
import type { Ruler } from './ruler.js';

/** RulerHttpOptions configure rulerHttpApp. */
export interface RulerHttpOptions {
  readonly registry?: Registry;
  /** ready is /-/ready's condition besides the ruler's own (e.g. the gRPC server listening). */
  readonly ready?: () => boolean;
  readonly onError?: (err: unknown) => void;
  /** routePrefix serves everything under a path (--web.route-prefix). */
  readonly routePrefix?: string;
  /** externalPrefix is the prefix of links in the UI (--web.external-prefix; default routePrefix). */
  readonly externalPrefix?: string;
}

/**
 * rulerHttpApp serves the ruler's HTTP endpoints: /api/v1/rules and /api/v1/alerts (Prometheus's
 * format with Thanos's partialResponseStrategy; a failed reload shows as a warning there),
 * /metrics, /-/healthy, /-/ready and POST /-/reload (200 once reloaded; 500 with every error,
 * file and line, when a rule file is bad — the previous rules stay in place), and the web UI's
 * Alerts and Rules pages at /, /alerts and /rules.
 */
export function rulerHttpApp(ruler: Ruler, opts: RulerHttpOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  const ready = (): boolean => ruler.ready() && (opts.ready?.() ?? true);
  const prefix = (opts.routePrefix ?? '').replace(/\/+$/, '');
  app.use(prefix || '/', createHealthRouter({ ready, ...(opts.registry === undefined ? {} : { registry: opts.registry }), name: 'Tessera Ruler' }));
  app.use(statusMiddleware(prefix));
  app.all(`${prefix}/-/reload`, (req, res) => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.status(405).type('text/plain; charset=utf-8').send('Only POST or PUT requests allowed\n');
      return;
    }
    ruler.reload().then(
      (st) => {
        if (st.ok) res.status(200).type('text/plain; charset=utf-8').send('');
        else res.status(500).type('text/plain; charset=utf-8').send(`failed to reload config: ${st.errors.join('\n')}\n`);
      },
      (err: unknown) => {
        opts.onError?.(err);
        res.status(500).type('text/plain; charset=utf-8').send(`failed to reload config: ${String(err)}\n`);
      },
    );
  });
  app.use(
    `${prefix}/api/v1`,
    createRulesApiRouter({
      rules: () => {
        const snap = snapshotRuleGroups(ruler.groups());
        const st = ruler.reloadStatus();
        return st.ok ? snap : { ...snap, warnings: [`the last reload of the rule files failed; serving the previous rules: ${st.errors.join('; ')}`] };
      },
      ready,
      partialResponseStrategy: true,
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    }),
  );
  // the web UI's Alerts and Rules pages (Thanos's ruler UI) over the same API
  serveWebUi(app, { kind: 'rule', title: 'Tessera Ruler', routePrefix: prefix, externalPrefix: opts.externalPrefix ?? prefix, pages: ['/', '/alerts', '/rules'] });
  app.use(notFound);
  app.use(createJsonErrorHandler());
  return app;
}
