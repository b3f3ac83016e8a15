import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import { TesseraError } from '../errors/index.js';

/** WebUiAssets is the browser bundle of web/ui: one ES module and its stylesheet. */
export interface WebUiAssets {
  readonly js: string;
  readonly css: string;
}

const escapeAttr = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/**
 * WebUiKind selects the pages of the UI: the querier's (query, alerts, rules, stores), a ruler's
 * (alerts, rules: pages `/`, `/alerts`, `/rules` beside /api/v1/rules) or a bucket's (blocks).
 */
export type WebUiKind = 'query' | 'rule' | 'bucket';

/** WebUiShellOptions describe the page shell of one component's UI. */
export interface WebUiShellOptions {
  /** kind picks the navigation and pages the bundle renders (default 'query'). */
  readonly kind?: WebUiKind;
  /** blocksView is the /api/v1/blocks view the bucket page shows: 'global' (default) or 'loaded'. */
  readonly blocksView?: 'global' | 'loaded';
  /** title of the browser tab (default "Tessera"). */
  readonly title?: string;
}

/**
 * webUiHtml returns the page shell of the web UI (web/ui/src): the bundle does the rest. `prefix`
 * is the external path prefix the UI, its assets and the API are reached under.
 */
export function webUiHtml(prefix: string, o: WebUiShellOptions = {}): string {
  const base = escapeAttr(prefix.replace(/\/+$/, ''));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeAttr(o.title ?? 'Tessera')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="tessera-prefix" content="${base}">
<meta name="tessera-ui" content="${o.kind ?? 'query'}">
<meta name="tessera-blocks-view" content="${o.blocksView ?? 'global'}">
<link rel="stylesheet" href="${base}/static/ui/app.css">
<script type="module" src="${base}/static/ui/app.js"></script>
</head><body><noscript>The Tessera UI needs JavaScript.</noscript></body></html>`;
}

/** queryUiHtml is the querier's page shell (webUiHtml with the query pages). */
export function queryUiHtml(prefix: string): string {
  return webUiHtml(prefix);
}

/**
 * serveWebUi mounts the UI on app: the page shell on each of `pages` (paths under routePrefix)
 * and the bundle under `<routePrefix>/static/ui/`. `externalPrefix` (default routePrefix) is
 * the prefix the browser reaches them under (behind a path-stripping proxy).
 */
export function serveWebUi(app: Express, o: WebUiShellOptions & { readonly routePrefix?: string; readonly externalPrefix?: string; readonly pages: readonly string[] }): void {
  const prefix = (o.routePrefix ?? '').replace(/\/+$/, '');
  const html = webUiHtml(o.externalPrefix ?? prefix, o);
  app.get(
    o.pages.map((p) => `${prefix}${p}`),
    (_req, res) => {
      res.type('html').send(html);
    },
  );
  app.get([`${prefix}/static/ui/app.js`, `${prefix}/static/ui/app.css`], (req, res, next) => {
    webUiAssets().then(
      (a) => {
        const css = req.path.endsWith('.css');
        res.type(css ? 'text/css' : 'text/javascript').set('Cache-Control', 'no-cache').send(css ? a.css : a.js);
      },
      (err: unknown) => next(err),
    );
  });
}

/** webUiRoot finds the project directory holding web/ui (source) or dist/web/ui (built bundle). */
function webUiRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'web', 'ui', 'src', 'main.ts')) || existsSync(join(dir, 'dist', 'web', 'ui', 'app.js'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new TesseraError('TESSERA_WEB_UI_MISSING', `web UI: neither web/ui/src nor dist/web/ui found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * bundleWebUi builds web/ui/src/main.ts with esbuild (a development dependency) in memory:
 * `npm run build` writes the result to dist/web/ui; `npm start` and the tests call it on first request.
 */
export async function bundleWebUi(root = webUiRoot(), minify = true): Promise<WebUiAssets> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new TesseraError('TESSERA_WEB_UI_MISSING', 'web UI: no built bundle in dist/web/ui and esbuild is not installed to build one (run `npm run build`)', { cause: err });
  }
  const out = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: join(root, 'web', 'ui', 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify,
    legalComments: 'none',
    write: false,
    outdir: join(root, 'dist', 'web', 'ui'),
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))?.text;
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  if (js === undefined) throw new TesseraError('TESSERA_WEB_UI_BUILD', 'web UI: esbuild produced no JavaScript for web/ui/src/main.ts');
  return { js, css };
}

let rootMemo: string | undefined;
let cached: { promise: Promise<WebUiAssets>; stamp: number } | undefined;

/** sourceStamp is the newest modification time under web/ui/src (0 when unreadable). */
function sourceStamp(root: string): number {
  const src = join(root, 'web', 'ui', 'src');
  try {
    return Math.max(0, ...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  } catch {
    return 0;
  }
}

/**
 * webUiAssets returns the UI bundle, kept in memory: run from source (tsx), it bundles web/ui/src
 * and bundles again when a source file changes (edit, reload); run from dist/, it reads
 * dist/web/ui once and bundles only when that is missing.
 */
export function webUiAssets(): Promise<WebUiAssets> {
  const fromSource = import.meta.url.endsWith('.ts');
  const root = (rootMemo ??= webUiRoot());
  const stamp = fromSource ? sourceStamp(root) : 0;
  if (cached !== undefined && cached.stamp === stamp) return cached.promise;
  const promise = (async () => {
    const built = join(root, 'dist', 'web', 'ui');
    if (!fromSource && existsSync(join(built, 'app.js'))) {
      const [js, css] = await Promise.all([readFile(join(built, 'app.js'), 'utf8'), readFile(join(built, 'app.css'), 'utf8').catch(() => '')]);
      return { js, css };
    }
    return bundleWebUi(root);
  })();
  const entry = { promise, stamp };
  cached = entry;
  // A failed build is retried on the next request (the sources may have been fixed meanwhile).
  promise.catch(() => {
    if (cached === entry) cached = undefined;
  });
  return promise;
}
