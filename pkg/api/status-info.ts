import type { IncomingMessage, ServerResponse } from 'node:http';
import { setCorsHeaders } from './cors-headers.js';

/** BuildInfo is the answer of /api/v1/status/buildinfo (Prometheus's fields). */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

/** StatusInfo is what /api/v1/status/buildinfo and /api/v1/status/flags answer. */
export interface StatusInfo {
  readonly buildInfo: BuildInfo;
  /** flags maps every flag name (without `--`) to its value as given or defaulted. */
  readonly flags: Readonly<Record<string, string>>;
}

let processStatus: StatusInfo | undefined;

/** setProcessStatus records the running command's build info and flags (cmd does it once, before running a command). */
export function setProcessStatus(s: StatusInfo): void {
  processStatus = s;
}

/** processStatusInfo is what setProcessStatus recorded, else a build info without version details and no flags. */
export function processStatusInfo(): StatusInfo {
  return processStatus ?? { buildInfo: { version: 'unknown', revision: 'unknown', branch: 'unknown', buildUser: 'tessera', buildDate: '', goVersion: process.version }, flags: {} };
}

const statusPaths: Readonly<Record<string, (s: StatusInfo) => unknown>> = {
  '/api/v1/status/buildinfo': (s) => s.buildInfo,
  '/api/v1/status/flags': (s) => s.flags,
};

/**
 * answerStatus serves /api/v1/status/buildinfo and /api/v1/status/flags as every Thanos component
 * does (Prometheus's envelope, CORS headers, 204 to OPTIONS, 405 to other methods than GET/HEAD)
 * and returns true; for any other path it returns false and leaves the request alone. `path` is
 * the request's path below the route prefix. Works on plain node:http and on express.
 */
export function answerStatus(path: string, req: IncomingMessage, res: ServerResponse, status: StatusInfo = processStatusInfo()): boolean {
  const data = statusPaths[path];
  if (data === undefined) return false;
  setCorsHeaders(req, res);
  if (req.method === 'OPTIONS') {
    res.writeHead(204).end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, OPTIONS', 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end('Method Not Allowed\n');
    return true;
  }
  const body = `{"status":"success","data":${JSON.stringify(data(status))}}`;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * statusMiddleware is answerStatus as connect/express middleware for an app whose routes sit
 * under `prefix` (--web.route-prefix; '' for the root).
 */
export function statusMiddleware(prefix = ''): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const path = statusRequestPath(req.url, prefix);
    if (path === undefined || !answerStatus(path, req, res)) next();
  };
}

/** statusRequestPath is the path of a request (no query string) relative to a route prefix, or undefined outside it. */
export function statusRequestPath(url: string | undefined, prefix = ''): string | undefined {
  const path = (url ?? '/').split('?')[0] ?? '/';
  if (prefix === '') return path;
  return path.startsWith(prefix + '/') ? path.slice(prefix.length) : undefined;
}

