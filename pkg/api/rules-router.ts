import express, { type Request, type Router } from 'express';
import type { Matcher } from '../labels/index.js';
import { parseMetricSelector } from '../promql/index.js';
import type { RulesSnapshot } from '../rules/index.js';
import { httpStatus, toApiError } from './api-error.js';
import { apiPreamble } from './api-preamble.js';
import { jsonString } from './json-string.js';
import { alertsJson, ALL_RULES, parseRulesQuery, rulesJson, type RulesJsonOptions, type RulesQuery } from './rules-json.js';
import { sendJson } from './send-json.js';

/**
 * RulesSource gives the rule state to render. It gets the parsed request so a querier can push
 * the filters down to its endpoints (the renderer applies them again); a plain `() => snapshot`
 * fits too. Snapshot warnings become the answer's `warnings`.
 */
export type RulesSource = (query: RulesQuery, signal: AbortSignal) => RulesSnapshot | Promise<RulesSnapshot>;

/** RulesAnswer is the `data` JSON and warnings of a rules or alerts request. */
export interface RulesAnswer {
  readonly data: string;
  readonly warnings: readonly string[];
}

/** answerRules serves /api/v1/rules: parses the URL query, asks the source, renders. Throws ApiError. */
export async function answerRules(source: RulesSource, url: URLSearchParams, signal: AbortSignal, parseSelector: (s: string) => Matcher[] = parseMetricSelector, opts: RulesJsonOptions = {}): Promise<RulesAnswer> {
  const q = parseRulesQuery(url, parseSelector);
  const snap = await source(q, signal);
  return { data: rulesJson(snap, q, opts), warnings: snap.warnings ?? [] };
}

/** answerAlerts serves /api/v1/alerts. */
export async function answerAlerts(source: RulesSource, signal: AbortSignal, opts: RulesJsonOptions = {}): Promise<RulesAnswer> {
  const snap = await source({ ...ALL_RULES, type: 'alert' }, signal);
  return { data: alertsJson(snap, opts), warnings: snap.warnings ?? [] };
}

/** RulesApiRouterOptions configure createRulesApiRouter. */
export interface RulesApiRouterOptions {
  readonly rules: RulesSource;
  /** while false both endpoints answer 503 `Service Unavailable`. */
  readonly ready?: () => boolean;
  readonly parseSelector?: (s: string) => Matcher[];
  readonly onError?: (err: unknown, req: Request) => void;
  /** Thanos's `partialResponseStrategy` fields on groups and alerts (the Thanos ruler writes them). */
  readonly partialResponseStrategy?: boolean;
}

/**
 * createRulesApiRouter serves only `/rules` and `/alerts` of Prometheus's API v1 (mount it at
 * `/api/v1`, e.g. on the ruler); other paths fall through. GET/HEAD only (others 405), CORS
 * headers when an Origin is sent, JSON `{"status":"success","data":…}` as Prometheus writes it.
 * createApiRouter serves the same endpoints when given `rules`.
 */
export function createRulesApiRouter(opts: RulesApiRouterOptions): Router {
  const router = express.Router();
  const serve = (path: string, answer: (req: Request, signal: AbortSignal) => Promise<RulesAnswer>): void => {
    router.all(path, (req, res) => {
      if (!apiPreamble(req, res, opts.ready)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, OPTIONS');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.status(405).type('text/plain; charset=utf-8').send('Method Not Allowed\n');
        return;
      }
      const ac = new AbortController();
      const onClose = (): void => {
        if (!res.writableFinished) ac.abort();
      };
      res.on('close', onClose);
      answer(req, ac.signal)
        .then(
          (a) => {
            const w = a.warnings.length > 0 ? `,"warnings":[${a.warnings.map(jsonString).join(',')}]` : '';
            return sendJson(req, res, 200, [`{"status":"success","data":${a.data}${w}}`]);
          },
          (err: unknown) => {
            const e = toApiError(err);
            if (httpStatus(e.errorType) >= 500) opts.onError?.(err, req);
            return sendJson(req, res, httpStatus(e.errorType), [`{"status":"error","errorType":"${e.errorType}","error":${jsonString(e.message)}}`]);
          },
        )
        .catch((err: unknown) => opts.onError?.(err, req))
        .finally(() => res.off('close', onClose));
    });
  };
  const urlQuery = (req: Request): URLSearchParams => new URL(req.originalUrl, 'http://x').searchParams;
  const jsonOpts: RulesJsonOptions = { partialResponseStrategy: opts.partialResponseStrategy === true };
  serve('/rules', (req, signal) => answerRules(opts.rules, urlQuery(req), signal, opts.parseSelector, jsonOpts));
  serve('/alerts', (_req, signal) => answerAlerts(opts.rules, signal, jsonOpts));
  return router;
}
