import { Labels } from '../labels/index.js';
import { histogramFromJson, type JsonHistogram } from './histogram-from-json.js';
import { RuleEvalError } from './recording-rule.js';
import type { RuleQueryFunc, RuleSample } from './rule-types.js';
import { fetchRequest, toHttpTarget, type HttpTarget } from './http-target.js';

/** HttpQueryOptions configure rule queries against Prometheus-compatible HTTP query APIs. */
export interface HttpQueryOptions {
  /** `host:port`, URLs with a path prefix (`http://q:10902/prefix`), or targets with their own HTTP client. */
  readonly endpoints: readonly (string | HttpTarget)[];
  /** Thanos's partial_response parameter (the group's strategy: warn → true, abort → false). */
  readonly partialResponse: boolean;
  /** send Thanos's dedup and partial_response parameters (true; off for plain Prometheus). */
  readonly thanosParams?: boolean;
  readonly method?: 'POST' | 'GET';
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** order in which endpoints are tried (default: random, as Thanos). */
  readonly order?: <T>(endpoints: readonly T[]) => readonly T[];
  readonly onWarnings?: (endpoint: string, warnings: readonly string[]) => void;
  readonly onError?: (endpoint: string, err: Error) => void;
}

interface ApiResponse {
  status?: string;
  errorType?: string;
  error?: string;
  warnings?: string[];
  data?: { resultType?: string; result?: unknown };
}

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new Error(`sample value ${JSON.stringify(s)} is not a number`);
  return v;
}

/** formatRFC3339Nano prints ms as Go's RFC3339Nano in UTC (fraction without trailing zeros). */
function formatRFC3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_m, f: string) => (f === '000' ? 'Z' : `.${f.replace(/0+$/, '')}Z`));
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function decode(body: ApiResponse, t: number): RuleSample[] {
  const d = body.data;
  if (d === undefined) throw new Error('answer has no data');
  if (d.resultType === 'scalar') {
    const [, v] = d.result as [number, string];
    return [{ labels: Labels.EMPTY, t, v: parseValue(v) }];
  }
  if (d.resultType !== 'vector') throw new RuleEvalError('rule result is not a vector or scalar');
  const out: RuleSample[] = [];
  for (const s of d.result as { metric: Record<string, string>; value?: [number, string]; histogram?: [number, JsonHistogram] }[]) {
    if (s.histogram !== undefined) out.push({ labels: Labels.fromRecord(s.metric), t, v: 0, h: histogramFromJson(s.histogram[1]) });
    else if (s.value !== undefined) out.push({ labels: Labels.fromRecord(s.metric), t, v: parseValue(s.value[1]) });
  }
  return out;
}

/**
 * endpointError names the endpoint and the reason of a request that got no answer: fetch only says
 * "fetch failed" (the reason, e.g. ECONNREFUSED, is its cause) and a timeout does not say where.
 */
function endpointError(base: string, err: Error): Error {
  if (err.message === 'fetch failed' && err.cause instanceof Error) return new Error(`query ${base}: ${err.cause.message}`, { cause: err.cause });
  if (err.name === 'TimeoutError') return new Error(`query ${base}: timed out`, { cause: err });
  return err;
}

/**
 * httpQueryFunc evaluates rule expressions as instant queries over HTTP (`/api/v1/query`), as the
 * Thanos ruler does: endpoints tried in random order until one answers; warnings reported, not
 * fatal; when none answers the evaluation fails with "no query API server reachable".
 */
export function httpQueryFunc(opts: HttpQueryOptions): RuleQueryFunc {
  return async (expr, qt) => {
    const params = new URLSearchParams({ query: expr, time: formatRFC3339Nano(qt) });
    if (opts.thanosParams ?? true) {
      params.set('dedup', 'true');
      params.set('partial_response', String(opts.partialResponse));
    }
    const order = opts.order ?? shuffled;
    let lastErr: Error | undefined;
    for (const target of order(opts.endpoints)) {
      const t = toHttpTarget(target);
      const ep = typeof target === 'string' ? target : t.url;
      const base = t.url.replace(/\/+$/, '');
      try {
        const method = opts.method ?? 'POST';
        const url = method === 'GET' ? `${base}/api/v1/query?${params.toString()}` : `${base}/api/v1/query`;
        const res = await (t.request ?? fetchRequest)(url, {
          method,
          headers: { ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...opts.headers },
          ...(method === 'POST' ? { body: params.toString() } : {}),
          signal: AbortSignal.timeout(t.timeoutMs ?? opts.timeoutMs ?? 120_000),
        });
        const text = res.text;
        let body: ApiResponse;
        try {
          body = JSON.parse(text) as ApiResponse;
        } catch {
          throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 200)}`);
        }
        if (body.status !== 'success') {
          // A query the server rejects (bad_data, execution) fails on every endpoint alike.
          if (res.status === 400 || res.status === 422) throw new RuleEvalError(`${body.errorType ?? 'error'}: ${body.error ?? text.slice(0, 200)}`);
          throw new Error(`HTTP ${res.status} from ${url}: ${body.errorType ?? ''}: ${body.error ?? ''}`);
        }
        if (body.warnings !== undefined && body.warnings.length > 0) opts.onWarnings?.(ep, body.warnings);
        return decode(body, qt);
      } catch (err) {
        if (err instanceof RuleEvalError) throw err;
        lastErr = endpointError(base, err as Error);
        opts.onError?.(ep, lastErr);
      }
    }
    throw new RuleEvalError(`no query API server reachable${lastErr === undefined ? '' : `: ${lastErr.message}`}`, lastErr);
  };
}
