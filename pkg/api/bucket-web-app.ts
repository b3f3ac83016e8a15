import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { createBlocksRouter, type BlocksInfo, type MarkAction } from './blocks-api.js';
import { createJsonErrorHandler } from './error-handler.js';
import { createHealthRouter } from './health.js';
import { notFound } from './not-found.js';
import { statusMiddleware } from './status-info.js';
import { serveWebUi } from './web-ui.js';

/** BucketWebAppOptions configure createBucketWebApp. */
export interface BucketWebAppOptions {
  readonly global: BlocksInfo;
  readonly loaded?: BlocksInfo;
  /** view the UI page shows: 'global' (bucket web, compactor) or 'loaded' (store). */
  readonly view?: 'global' | 'loaded';
  readonly mark?: (id: string, action: MarkAction, detail: string) => Promise<void>;
  /** name for /-/healthy and /-/ready texts, e.g. "Tessera Store". */
  readonly name: string;
  readonly ready?: () => boolean;
  readonly registry?: Registry;
  /** routePrefix serves everything under a path (--web.route-prefix). */
  readonly routePrefix?: string;
  /** externalPrefix is the prefix of links in the UI (--web.external-prefix; default routePrefix). */
  readonly externalPrefix?: string;
  /** web: false serves health, metrics and status only, no blocks API and no UI (Thanos's --web.disable; default true). */
  readonly web?: boolean;
}

/**
 * createBucketWebApp is the HTTP app of the components that show a bucket's blocks (store,
 * compactor, `tools bucket web`): /metrics, /-/healthy, /-/ready, /api/v1/blocks, /api/v1/status/{buildinfo,flags} and the bucket
 * UI page (/, /blocks, /loaded).
 */
export function createBucketWebApp(o: BucketWebAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  const prefix = (o.routePrefix ?? '').replace(/\/+$/, '');
  app.use(prefix || '/', createHealthRouter({ name: o.name, ...(o.ready !== undefined ? { ready: o.ready } : {}), ...(o.registry !== undefined ? { registry: o.registry } : {}) }));
  app.use(statusMiddleware(prefix));
  if (o.web !== false) {
    app.use(`${prefix}/api/v1`, createBlocksRouter({ global: o.global, ...(o.loaded !== undefined ? { loaded: o.loaded } : {}), ...(o.mark !== undefined ? { mark: o.mark } : {}) }));
    serveWebUi(app, {
      kind: 'bucket',
      blocksView: o.view ?? 'global',
      title: `${o.name} – blocks`,
      routePrefix: prefix,
      externalPrefix: o.externalPrefix ?? prefix,
      pages: ['/', '/blocks', '/loaded', '/global'],
    });
  }
  app.use(notFound);
  app.use(createJsonErrorHandler({}));
  return app;
}
