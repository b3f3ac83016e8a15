import express, { type Request, type Response, type Router } from 'express';
import { goQuote, type Matcher } from '../labels/index.js';
import { parseExpr, parseMetricSelector } from '../promql/index.js';
import { ApiError, httpStatus, invalidParam, toApiError } from './api-error.js';
import { apiPreamble } from './api-preamble.js';
import { createJsonErrorHandler } from './error-handler.js';
import { readForm, type Form } from './form.js';
import { jsonString } from './json-string.js';
import { notFound } from './not-found.js';
import { MAX_TIME, MIN_TIME, parseBool, parseDuration, parseLimit, parseTime } from './params.js';
import type { ShardInfo } from '../storepb/index.js';
import type { MetadataSource, QueryEngine, QueryOptions, QueryResult, QueryValue, SeriesSource, SeriesSourceOptions } from './query-engine.js';
import { decodePathSegment } from './path-segment.js';
import { prettyFormat } from './pretty-format.js';
import { arrayJsonPieces, labelsJson, resultJsonPieces } from './result-json.js';
import { sendJson } from './send-json.js';
import { translateAst } from './translate-ast.js';
import { processStatusInfo, type BuildInfo } from './status-info.js';
import { answerAlerts, answerRules, type RulesSource } from './rules-router.js';

/** ApiRouterOptions configure createApiRouter. Only engine and source are required. */
export interface ApiRouterOptions {
  readonly engine: QueryEngine;
  readonly source: SeriesSource;
  readonly metadata?: MetadataSource;
  /** parseSelector parses one `match[]`/`storeMatch[]` value; default: the PromQL parser's. */
  readonly parseSelector?: (s: string) => Matcher[];
  /** formatQuery pretty-prints a query for /format_query; default: parse and prettyFormat. */
  readonly formatQuery?: (q: string) => string;
  readonly buildInfo?: BuildInfo;
  readonly flags?: Readonly<Record<string, string>>;
  /** ready gates every endpoint: while false they answer 503 `Service Unavailable`. */
  readonly ready?: () => boolean;
  /** now is the clock for a missing `time` (ms). */
  readonly now?: () => number;
  /** maxTimeout caps the per-request `timeout` (ms); default 2 minutes (--query.timeout). */
  readonly maxTimeout?: number;
  /** canceledStatus is the HTTP status of `canceled` errors: 499 (Prometheus, default) or 503 (Thanos). */
  readonly canceledStatus?: number;
  /** infos adds Prometheus 3's `infos` field; false for Thanos-like answers. Default true. */
  readonly infos?: boolean;
  /** annotationLimit caps warnings and infos (Prometheus 3: 10); 0 = no cap. */
  readonly annotationLimit?: number;
  /** defaultStep makes `step` optional on query_range as in Thanos: max(range/250, defaultStep) ms. */
  readonly defaultStep?: number;
  /** maxBodyBytes limits form-encoded POST bodies; default 16 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * onError hears of failures that are not an API answer: exceptions that reach the router's
   * error handler with a 5xx status, and errors while an answer was already being streamed
   * (the connection is closed then). For logging.
   */
  readonly onError?: (err: unknown, req: Request) => void;
  /** rules serves /rules and /alerts (Prometheus's format) from this source; without it they are 404. */
  readonly rules?: RulesSource;
  /** rulesPartialResponseStrategy adds Thanos's `partialResponseStrategy` to groups and alerts (as the Thanos querier). */
  readonly rulesPartialResponseStrategy?: boolean;
}

const bodyLimit = 16 << 20;
const maxPoints = 11_000;

type Handler = (form: Form, req: Request, signal: AbortSignal) => Promise<Answer>;

/** JsonText is JSON as one string or as pieces written one after the other (see sendJson). */
type JsonText = string | Iterable<string>;

/** Answer is a handler's success: `data` as JSON text (undefined → 204) and annotations. */
interface Answer {
  readonly data: JsonText | undefined;
  readonly warnings?: readonly string[] | undefined;
  readonly infos?: readonly string[] | undefined;
}

/**
 * createApiRouter returns an express router serving Prometheus's HTTP API v1 (mount it at
 * `/api/v1`): query, query_range, series, labels, label/<name>/values, metadata, format_query,
 * status/buildinfo, status/flags. It follows Prometheus's parameter parsing, error texts, status
 * codes and JSON encodings (see the spec prometheus-http-api.md), plus Thanos's `dedup`,
 * `partial_response`, `max_source_resolution`, `replicaLabels[]`, `storeMatch[]` and `engine`
 * parameters, which it parses and hands to the engine and source.
 */
export function createApiRouter(opts: ApiRouterOptions): Router {
  const router = express.Router();
  const parseSelector = opts.parseSelector ?? parseMetricSelector;
  const formatQuery = opts.formatQuery ?? ((q: string) => prettyFormat(parseExpr(q)));
  const now = opts.now ?? Date.now;
  const maxTimeout = opts.maxTimeout ?? 120_000;
  const canceledStatus = opts.canceledStatus ?? 499;
  const withInfos = opts.infos ?? true;
  const annotationLimit = opts.annotationLimit ?? 10;
  const maxBody = opts.maxBodyBytes ?? bodyLimit;

  const cap = (list: readonly string[] | undefined, kind: string): readonly string[] => {
    if (list === undefined || list.length === 0) return [];
    if (annotationLimit <= 0 || list.length <= annotationLimit) return list;
    return [...list.slice(0, annotationLimit), `${list.length - annotationLimit} more ${kind} annotations omitted`];
  };

  const sendError = (req: Request, res: Response, err: unknown): Promise<void> => {
    const e = toApiError(err);
    return sendJson(req, res, httpStatus(e.errorType, canceledStatus), [`{"status":"error","errorType":"${e.errorType}","error":${jsonString(e.message)}}`]);
  };

  /** successPieces is the answer's JSON: data (a string or pieces), then capped annotations. */
  function* successPieces(a: Answer & { data: JsonText }): Generator<string> {
    yield '{"status":"success","data":';
    if (typeof a.data === 'string') yield a.data;
    else yield* a.data;
    const w = cap(a.warnings, 'warning');
    if (w.length > 0) yield `,"warnings":[${w.map(jsonString).join(',')}]`;
    const inf = withInfos ? cap(a.infos, 'info') : [];
    if (inf.length > 0) yield `,"infos":[${inf.map(jsonString).join(',')}]`;
    yield '}';
  }

  const wrap =
    (h: Handler) =>
    async (req: Request, res: Response): Promise<void> => {
      const ac = new AbortController();
      const onClose = (): void => {
        if (!res.writableFinished) ac.abort(new ApiError('canceled', 'context canceled'));
      };
      res.on('close', onClose);
      try {
        const form = await readForm(req, maxBody);
        const a = await h(form, req, ac.signal);
        if (a.data === undefined) {
          res.status(204).end();
          return;
        }
        // Evaluation is complete here (warnings included): only serialization streams.
        await sendJson(req, res, 200, successPieces({ ...a, data: a.data }));
      } catch (err) {
        if (!res.headersSent) await sendError(req, res, err);
        else opts.onError?.(err, req);
      } finally {
        res.off('close', onClose);
      }
    };

  // Readiness gate and CORS for every API path.
  router.use((req, res, next) => {
    if (apiPreamble(req, res, opts.ready)) next();
  });

  const route = (path: string | RegExp, methods: readonly string[], h: Handler): void => {
    const handler = wrap(h);
    router.all(path, (req, res, next) => {
      const m = req.method === 'HEAD' ? 'GET' : req.method;
      if (!methods.includes(m)) {
        // Go's router: Allow lists the route's methods and OPTIONS, sorted; http.Error's body.
        res.setHeader('Allow', [...methods, 'OPTIONS'].sort().join(', '));
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.status(405).type('text/plain; charset=utf-8').send('Method Not Allowed\n');
        return;
      }
      handler(req, res).catch(next);
    });
  };
  const getPost = ['GET', 'POST'] as const;
  const getOnly = ['GET'] as const;

  // ---- parameter helpers (Prometheus's texts) ----
  const limitParam = (form: Form): number => {
    try {
      return parseLimit(form.get('limit'));
    } catch (err) {
      throw invalidParam('limit', (err as Error).message);
    }
  };
  const timeParam = (form: Form, name: string, def: number): number => {
    const v = form.get(name);
    if (v === '') return def;
    try {
      return parseTime(v);
    } catch (err) {
      throw invalidParam(name, `invalid time value for '${name}': ${(err as Error).message}`);
    }
  };
  const requiredTime = (form: Form, name: string): number => {
    try {
      return parseTime(form.get(name));
    } catch (err) {
      throw invalidParam(name, (err as Error).message);
    }
  };
  const boolParam = (form: Form, name: string): boolean | undefined => {
    const v = form.get(name);
    if (v === '') return undefined;
    try {
      return parseBool(v);
    } catch (err) {
      throw new ApiError('bad_data', `'${name}' parameter: ${(err as Error).message}`);
    }
  };
  const matcherSets = (values: readonly string[], param: string | undefined): Matcher[][] => {
    const sets: Matcher[][] = [];
    for (const s of values) {
      let ms: Matcher[];
      try {
        ms = parseSelector(s);
      } catch (err) {
        // Prometheus's ParseMetricSelector does not check for empty-matching selectors; the API
        // does, with its own text. Our parser checks while parsing: report the API's text.
        if ((err as { detail?: unknown }).detail === 'vector selector must contain at least one non-empty matcher') ms = [];
        else throw param === undefined ? new ApiError('bad_data', (err as Error).message, { cause: err }) : invalidParam(param, (err as Error).message, err);
      }
      if (ms.every((m) => m.matches(''))) {
        const msg = 'match[] must contain at least one non-empty matcher';
        throw param === undefined ? new ApiError('bad_data', msg) : invalidParam(param, msg);
      }
      sets.push(ms);
    }
    return sets;
  };
  /** thanosOptions parses the Thanos querier extras shared by all endpoints. */
  const thanosOptions = (form: Form): { -readonly [K in 'dedup' | 'partialResponse' | 'replicaLabels' | 'storeMatchers']?: QueryOptions[K] } => {
    const o: { -readonly [K in 'dedup' | 'partialResponse' | 'replicaLabels' | 'storeMatchers']?: QueryOptions[K] } = {};
    const dedup = boolParam(form, 'dedup');
    if (dedup !== undefined) o.dedup = dedup;
    const pr = boolParam(form, 'partial_response');
    if (pr !== undefined) o.partialResponse = pr;
    const rl = form.getAll('replicaLabels[]').filter((s) => s !== '');
    if (rl.length > 0) o.replicaLabels = rl;
    const sm = form.getAll('storeMatch[]');
    if (sm.length > 0) o.storeMatchers = matcherSets(sm, 'storeMatch[]');
    return o;
  };
  const queryOptions = (form: Form, signal: AbortSignal, stepMs: number | undefined): { opts: QueryOptions; signal: AbortSignal; timedOut: () => boolean } => {
    const o: { -readonly [K in keyof QueryOptions]?: QueryOptions[K] } = {};
    let timeout = maxTimeout;
    const to = form.get('timeout');
    if (to !== '') {
      try {
        o.timeout = parseDuration(to);
      } catch (err) {
        throw invalidParam('timeout', (err as Error).message);
      }
      timeout = Math.min(timeout, o.timeout);
    }
    const lb = form.get('lookback_delta');
    if (lb !== '') {
      try {
        o.lookbackDelta = parseDuration(lb);
      } catch (err) {
        throw new ApiError('bad_data', `error parsing lookback delta duration: ${(err as Error).message}`);
      }
    }
    const stats = form.get('stats');
    if (stats !== '') o.stats = stats;
    const msr = form.get('max_source_resolution');
    if (msr !== '') {
      if (msr === 'auto') o.maxSourceResolution = stepMs === undefined ? 'auto' : stepMs / 5;
      else {
        let d: number;
        try {
          d = parseDuration(msr);
        } catch (err) {
          throw new ApiError('bad_data', `'max_source_resolution' parameter: ${(err as Error).message}`);
        }
        if (d < 0) throw new ApiError('bad_data', "negative 'max_source_resolution' is not accepted. Try a positive integer");
        o.maxSourceResolution = d;
      }
    }
    const engine = form.get('engine');
    if (engine !== '') o.engine = engine;
    const shard = form.get('shard_info');
    if (shard !== '') o.shardInfo = parseShardInfo(shard);
    Object.assign(o, thanosOptions(form));
    // timeout=0 means "already expired" in Prometheus (context.WithTimeout(ctx, 0)).
    const timer = timeout <= 0 ? AbortSignal.abort(new ApiError('timeout', 'query timed out in query queue')) : AbortSignal.timeout(timeout);
    const combined = AbortSignal.any([signal, timer]);
    o.signal = combined;
    return { opts: o as QueryOptions, signal: combined, timedOut: () => timer.aborted };
  };

  const runQuery = async (q: { opts: QueryOptions; timedOut: () => boolean }, limit: number, run: (o: QueryOptions) => Promise<QueryResult>): Promise<Answer> => {
    let res: QueryResult;
    try {
      if (q.timedOut()) throw new ApiError('timeout', 'query timed out in query queue');
      res = await run(limit > 0 ? { ...q.opts, limit } : q.opts);
    } catch (err) {
      const e = toApiError(err, 'query');
      if (q.timedOut() && (e.errorType === 'canceled' || e.errorType === 'execution')) throw new ApiError('timeout', 'query timed out in query execution', { cause: err });
      throw e;
    }
    let value: QueryValue = res;
    const warnings = res.warnings === undefined ? [] : [...res.warnings];
    if (limit > 0 && (res.resultType === 'vector' || res.resultType === 'matrix') && res.result.length > limit) {
      value = res.resultType === 'vector' ? { resultType: 'vector', result: res.result.slice(0, limit) } : { resultType: 'matrix', result: res.result.slice(0, limit) };
      warnings.push('results truncated due to limit');
    }
    const stats = q.opts.stats === undefined ? '' : `,"stats":${JSON.stringify(res.stats ?? emptyStats)}`;
    function* data(): Generator<string> {
      yield `{"resultType":"${value.resultType}","result":`;
      yield* resultJsonPieces(value);
      yield `${stats}}`;
    }
    return { data: data(), warnings, infos: res.infos };
  };

  // ---- query endpoints ----
  route('/query', getPost, async (form, _req, signal) => {
    const limit = limitParam(form);
    const ts = timeParam(form, 'time', now());
    const q = queryOptions(form, signal, undefined);
    const expr = form.get('query');
    return runQuery(q, limit, (o) => opts.engine.instantQuery(expr, ts, o));
  });

  route('/query_range', getPost, async (form, _req, signal) => {
    const limit = limitParam(form);
    const start = requiredTime(form, 'start');
    const end = requiredTime(form, 'end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    let stepNs: number;
    if (form.get('step') === '' && opts.defaultStep !== undefined) {
      stepNs = Math.max(Math.floor((end - start) / 250 / 1000) * 1e9, opts.defaultStep * 1e6);
    } else {
      try {
        stepNs = Math.round(parseDuration(form.get('step')) * 1e6);
      } catch (err) {
        throw invalidParam('step', (err as Error).message);
      }
    }
    if (stepNs <= 0) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    // Prometheus: end.Sub(start)/step > 11000, an integer division of nanosecond durations.
    if (Math.trunc(((end - start) * 1e6) / stepNs) > maxPoints) {
      throw new ApiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    const stepMs = Math.max(1, Math.trunc(stepNs / 1e6));
    const q = queryOptions(form, signal, stepMs);
    const expr = form.get('query');
    return runQuery(q, limit, (o) => opts.engine.rangeQuery(expr, start, end, stepMs, o));
  });

  route('/format_query', getPost, async (form) => {
    const expr = form.get('query');
    let out: string;
    try {
      out = formatQuery(expr);
    } catch (err) {
      throw toApiError(err, 'query');
    }
    return { data: jsonString(out) };
  });

  route('/parse_query', getPost, async (form) => {
    let expr;
    try {
      expr = parseExpr(form.get('query'));
    } catch (err) {
      throw toApiError(err, 'query');
    }
    return { data: JSON.stringify(translateAst(expr)) };
  });

  // ---- metadata endpoints ----
  const sourceOptions = (form: Form, signal: AbortSignal, limit: number): SeriesSourceOptions => ({ signal, limit: limit > 0 ? limit + 1 : 0, ...thanosOptions(form) });

  route('/series', getPost, async (form, _req, signal) => {
    const limit = limitParam(form);
    // Prometheus checks after r.ParseForm(), which does not read multipart bodies.
    if (form.parsedForm('match[]').length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const matches = form.getAll('match[]');
    const start = timeParam(form, 'start', MIN_TIME);
    const end = timeParam(form, 'end', MAX_TIME);
    const sets = matcherSets(matches, 'match[]');
    let r;
    try {
      r = await opts.source.series(sets, start, end, sourceOptions(form, signal, limit));
    } catch (err) {
      throw toApiError(err);
    }
    const warnings = r.warnings === undefined ? [] : [...r.warnings];
    let series = r.series;
    if (limit > 0 && series.length > limit) {
      series = series.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: arrayJsonPieces(series, labelsJson), warnings };
  });

  const labelsAnswer = (values: readonly string[], sourceWarnings: readonly string[] | undefined, limit: number): Answer => {
    const warnings = sourceWarnings === undefined ? [] : [...sourceWarnings];
    let v = values;
    if (limit > 0 && v.length > limit) {
      v = v.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: arrayJsonPieces(v, jsonString), warnings };
  };

  route('/labels', getPost, async (form, _req, signal) => {
    const limit = limitParam(form);
    const start = timeParam(form, 'start', MIN_TIME);
    const end = timeParam(form, 'end', MAX_TIME);
    const sets = matcherSets(form.getAll('match[]'), undefined);
    try {
      const r = await opts.source.labelNames(sets, start, end, sourceOptions(form, signal, limit));
      return labelsAnswer(r.values, r.warnings, limit);
    } catch (err) {
      throw toApiError(err);
    }
  });

  // The name is taken from the raw path and decoded here: express would decode it with
  // decodeURIComponent, which throws on invalid UTF-8 (`%FF%FE`) before any handler runs. Go
  // routes on the decoded path, so an encoded `/` (%2F) in the name matches no route there.
  router.all(/^\/label\/[^/]*%2[fF][^/]*\/values\/?$/, notFound);
  route(/^\/label\/(?:[^/]+)\/values\/?$/, getOnly, async (form, req, signal) => {
    const raw = /^\/label\/([^/]+)\//.exec(req.path)?.[1] ?? '';
    const name = unescapeLabelName(decodePathSegment(raw));
    if (name === '' || !isValidUtf16(name)) throw new ApiError('bad_data', `invalid label name: ${goQuote(name)}`);
    const limit = limitParam(form);
    const start = timeParam(form, 'start', MIN_TIME);
    const end = timeParam(form, 'end', MAX_TIME);
    const sets = matcherSets(form.getAll('match[]'), undefined);
    try {
      const r = await opts.source.labelValues(name, sets, start, end, sourceOptions(form, signal, limit));
      return labelsAnswer(r.values, r.warnings, limit);
    } catch (err) {
      throw toApiError(err);
    }
  });

  route('/metadata', getOnly, async (form, _req, signal) => {
    const num = (name: string): number => {
      const s = form.get(name);
      if (s === '') return -1;
      if (!/^[+-]?\d+$/.test(s)) throw new ApiError('bad_data', `${name} must be a number`);
      return Number(s);
    };
    const limit = num('limit');
    const limitPerMetric = num('limit_per_metric');
    const metric = form.get('metric');
    if (opts.metadata === undefined || limit === 0) return { data: '{}' };
    const r = await opts.metadata.metadata(metric === '' ? undefined : metric, limit, limitPerMetric, signal).catch((err: unknown) => {
      throw toApiError(err);
    });
    return { data: JSON.stringify(r.data), warnings: r.warnings };
  });

  // ---- status ----
  // The same answers as every other component's (statusMiddleware), behind this router's readiness gate.
  route('/status/buildinfo', getOnly, async () => ({ data: JSON.stringify(opts.buildInfo ?? processStatusInfo().buildInfo) }));
  route('/status/flags', getOnly, async () => ({ data: JSON.stringify(opts.flags ?? processStatusInfo().flags) }));

  // ---- rules and alerts ----
  const rules = opts.rules;
  if (rules !== undefined) {
    const jsonOpts = { partialResponseStrategy: opts.rulesPartialResponseStrategy === true };
    route('/rules', getOnly, async (_form, req, signal) => answerRules(rules, new URL(req.originalUrl, 'http://x').searchParams, signal, parseSelector, jsonOpts));
    route('/alerts', getOnly, async (_form, _req, signal) => answerAlerts(rules, signal, jsonOpts));
  }

  router.use(notFound);
  router.use(createJsonErrorHandler({ canceledStatus, ...(opts.onError !== undefined ? { onError: opts.onError } : {}) }));
  return router;
}


const emptyStats = {
  timings: { evalTotalTime: 0, resultSortTime: 0, queryPreparationTime: 0, innerEvalTime: 0, execQueueTime: 0, execTotalTime: 0 },
  samples: { totalQueryableSamples: 0, peakSamples: 0 },
};

/**
 * unescapeLabelName undoes Prometheus 3's `U__` value-encoding escaping of label names in paths:
 * after the prefix, `__` is `_`, `_<hex>_` is that code point, other characters are literal.
 * Names without the prefix, or with an invalid escape, are returned unchanged.
 */
function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const s = name.slice(3);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (s[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const end = s.indexOf('_', i + 1);
    if (end < 0) return name;
    const hex = s.slice(i + 1, end);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return name;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) return name;
    out += String.fromCodePoint(cp);
    i = end;
  }
  return out;
}

/** isValidUtf16 reports whether s has no lone surrogates (i.e. it is valid UTF-8 once encoded). */
function isValidUtf16(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * parseShardInfo reads Thanos's `shard_info` parameter: the JSON of thanos.ShardInfo
 * (`{"shard_index":1,"total_shards":4,"by":true,"labels":["job"]}`, fields omitted when empty).
 */
function parseShardInfo(text: string): ShardInfo {
  const bad = (why: string) => new ApiError('bad_data', `could not unmarshal parameter shard_info: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  const int = (k: string): number => {
    const v = d[k] ?? 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(`${k} is not an integer`);
    return v;
  };
  const shardIndex = int('shard_index');
  const totalShards = int('total_shards');
  const by = d['by'] ?? false;
  const labels = d['labels'] ?? [];
  if (typeof by !== 'boolean') throw bad('by is not a boolean');
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw bad('labels is not a list of strings');
  if (totalShards > 0 && (shardIndex < 0 || shardIndex >= totalShards)) throw bad(`shard_index ${shardIndex} is not below total_shards ${totalShards}`);
  return { shardIndex, totalShards, by, labels: labels as string[] };
}
