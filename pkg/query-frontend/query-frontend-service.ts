import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import express from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { closeHttp, createHealthRouter, createHttpServer, statusMiddleware, type WebConfig } from '../api/index.js';
import { runInRequestScope } from '../errors/index.js';
import { pipeline } from 'node:stream/promises';
import { Downstream, type DownstreamResponse, type DownstreamStream } from './downstream.js';
import type { DownstreamTripperConfig } from './downstream-tripper-config.js';
import { answerFrom, mergeExtents, missingRanges, type Extent } from './extents.js';
import { WarnLimiter, formatGoDuration } from '../cache/index.js';
import { splitLabelsRequest, mergeLabelsResponses } from './labels-split.js';
import { mergeShardMatrices, type Matrix } from './matrix.js';
import { analyzeShardable, type ShardAnalysis } from './shard-analyzer.js';
import { formatSeconds, parseRangeRequest, type RangeRequest } from './range-request.js';
import type { ResultsCache } from './results-cache.js';
import { cacheFromConfig } from './cache-config.js';
import { Semaphore } from './semaphore.js';
import { alignToStep, bucketOf, lastGridPoint, splitByInterval, type StepRange } from './step-range.js';

/** QueryFrontendOptions configure the query-frontend component (Thanos flags; durations in ms). */
export interface QueryFrontendOptions {
  readonly httpAddress: string;
  readonly downstreamUrl: string;
  readonly splitIntervalMs: number;
  readonly alignRangeWithStep: boolean;
  /** httpGracePeriodMs is how long stop() lets requests in flight finish (--http-grace-period; default 2 s). */
  readonly httpGracePeriodMs?: number;
  readonly maxRetries: number;
  readonly maxQueryLengthMs: number;
  readonly maxQueryParallelism: number;
  readonly maxFreshnessMs: number;
  readonly labelsSplitIntervalMs: number;
  /** instantMaxRetries is --query.max-retries-per-request: tries of one instant query (default: maxRetries). */
  readonly instantMaxRetries?: number;
  /** labelsMaxRetries is --labels.max-retries-per-request (default: maxRetries). */
  readonly labelsMaxRetries?: number;
  /** labelsMaxQueryParallelism is --labels.max-query-parallelism (default: maxQueryParallelism). */
  readonly labelsMaxQueryParallelism?: number;
  /** labelsMaxFreshnessMs is --labels.response-cache-max-freshness (default 1m). */
  readonly labelsMaxFreshnessMs?: number;
  /** rangePartialResponse is --query-range.partial-response: sent with range queries that have no partial_response (as Thanos; default: the querier decides). */
  readonly rangePartialResponse?: boolean;
  /** labelsPartialResponse is --labels.partial-response: sent when a request has no partial_response. */
  readonly labelsPartialResponse?: boolean;
  /** labelsDefaultTimeRangeMs is --labels.default-time-range: [now - it, now] when start/end are missing; 0: none. */
  readonly labelsDefaultTimeRangeMs?: number;
  /** labelsResponseCacheConfig is --labels.response-cache-config(-file): IN-MEMORY or REDIS YAML; '' for none. */
  readonly labelsResponseCacheConfig?: string;
  readonly logQueriesLongerThanMs: number;
  readonly forwardHeaders: readonly string[];
  /**
   * verticalShards is --query-frontend.vertical-shards: shardable range queries are asked as this
   * many disjoint sets of series (Thanos `shard_info`) and the answers merged; 0 or 1 is off.
   */
  readonly verticalShards?: number;
  /** responseCacheConfig is Thanos's response cache YAML (IN-MEMORY or REDIS); '' for none. */
  readonly responseCacheConfig?: string;
  /** downstreamTripper is --query-frontend.downstream-tripper-config (pool, timeouts, TLS to the querier). */
  readonly downstreamTripper?: DownstreamTripperConfig;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** warn logs warnings (default: log), e.g. a failing results cache, at most once per 30 s per cache. */
  readonly warn?: (msg: string, fields?: Record<string, unknown>) => void;
  /** webConfig: TLS, basic auth and headers of the HTTP server (--http.config). */
  readonly webConfig?: WebConfig;
  /** now is the clock (tests); Date.now by default. */
  readonly now?: () => number;
}

interface PartOk {
  readonly ok: true;
  readonly pieces: Extent[];
  readonly warnings: string[];
  readonly infos: string[];
}
interface PartFailed {
  readonly ok: false;
  readonly response: DownstreamResponse;
}
type PartResult = PartOk | PartFailed;

interface Fetched {
  readonly ok: true;
  readonly result: Matrix;
  readonly warnings: string[];
  readonly infos: string[];
  readonly noStore: boolean;
}

const maxBodyBytes = 32 << 20;
const hopHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/**
 * QueryFrontend is the `tessera query-frontend` component: it sits in front of a querier, serves
 * the whole Prometheus HTTP API by passing requests through, and answers range queries by
 * splitting them at the split interval, running the parts in parallel, caching each part's
 * extents and merging everything exactly (every step of the query is answered by exactly one
 * part). Label and series requests with a time range are split at the labels split interval.
 */
export class QueryFrontend {
  readonly registry = new Registry();
  readonly #o: QueryFrontendOptions;
  readonly #down: Downstream;
  readonly #log: (msg: string, fields?: Record<string, unknown>) => void;
  readonly #now: () => number;
  readonly #m;
  readonly #cache: ResultsCache | undefined;
  readonly #labelsCache: ResultsCache | undefined;
  readonly #labelsDown: Downstream;
  readonly #instantDown: Downstream;
  #http: Server | undefined;
  #port = 0;

  constructor(opts: QueryFrontendOptions) {
    this.#o = opts;
    this.#log = opts.log ?? (() => {});
    this.#now = opts.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry });
    const r = [this.registry];
    this.#m = {
      queries: new Counter({ name: 'tessera_query_frontend_queries_total', help: 'Requests served, by kind.', labelNames: ['op'], registers: r }),
      downstream: new Counter({ name: 'tessera_query_frontend_downstream_requests_total', help: 'Requests sent to the downstream querier (split parts, cache misses, passthrough).', labelNames: ['op'], registers: r }),
      retries: new Counter({ name: 'tessera_query_frontend_downstream_retries_total', help: 'Downstream requests tried again after a connection error or a 5xx.', registers: r }),
      cacheLookups: new Counter({ name: 'tessera_query_frontend_cache_lookups_total', help: 'Split parts looked up in the results cache.', labelNames: ['cache'], registers: r }),
      cacheHits: new Counter({ name: 'tessera_query_frontend_cache_hits_total', help: 'Split parts answered entirely from the results cache.', labelNames: ['cache'], registers: r }),
      cacheErrors: new Counter({ name: 'tessera_query_frontend_cache_errors_total', help: 'Results cache operations that failed or timed out (the query went on uncached).', labelNames: ['cache', 'op'], registers: r }),
      cacheSkipped: new Counter({ name: 'tessera_query_frontend_cache_skipped_total', help: 'Fetched results not cached, by reason.', labelNames: ['reason'], registers: r }),
      sharded: new Counter({ name: 'tessera_query_frontend_sharding_queries_total', help: 'Range queries looked at for vertical sharding, by whether they could be sharded.', labelNames: ['shardable'], registers: r }),
      shardFallbacks: new Counter({ name: 'tessera_query_frontend_sharding_fallbacks_total', help: 'Sharded answers that disagreed on a series and were asked again unsharded.', registers: r }),
      labelsCacheLookups: new Counter({ name: 'tessera_query_frontend_labels_cache_lookups_total', help: 'Split parts of labels, label values and series requests looked up in the labels response cache.', registers: r }),
      labelsCacheHits: new Counter({ name: 'tessera_query_frontend_labels_cache_hits_total', help: 'Split parts of labels, label values and series requests answered from the labels response cache.', registers: r }),
      labelsCacheErrors: new Counter({ name: 'tessera_query_frontend_labels_cache_errors_total', help: 'Labels response cache operations that failed or timed out (the request went on uncached).', labelNames: ['op'], registers: r }),
      duration: new Histogram({ name: 'tessera_query_frontend_request_duration_seconds', help: 'Time to answer a request.', labelNames: ['op'], buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30], registers: r }),
    };
    // A down Redis fails every lookup: the counters count each failure, the log says so once per 30 s per cache.
    const warn = opts.warn ?? this.#log;
    const limiter = new WarnLimiter(30_000, this.#now);
    const cacheFailed = (cache: string, op: string, err: unknown): void => {
      if (limiter.allow(cache)) warn('results cache operation failed; answering uncached (logged at most once per 30s per cache)', { cache, op, err: err instanceof Error ? err.message : String(err) });
    };
    this.#cache = cacheFromConfig(opts.responseCacheConfig ?? '', (op, err) => {
      this.#m.cacheErrors.inc({ cache: this.#cache?.name ?? '', op });
      cacheFailed('response', op, err);
    });
    if (this.#cache !== undefined && opts.splitIntervalMs <= 0) this.#log('results cache disabled: --query-range.split-interval must be greater than 0');
    this.#down = new Downstream({
      url: opts.downstreamUrl,
      maxTries: opts.maxRetries,
      onRetry: () => this.#m.retries.inc(),
      ...(opts.downstreamTripper !== undefined ? { tripper: opts.downstreamTripper } : {}),
    });
    this.#instantDown = new Downstream({
      url: opts.downstreamUrl,
      maxTries: opts.instantMaxRetries ?? opts.maxRetries,
      onRetry: () => this.#m.retries.inc(),
      ...(opts.downstreamTripper !== undefined ? { tripper: opts.downstreamTripper } : {}),
    });
    this.#labelsDown = new Downstream({
      url: opts.downstreamUrl,
      maxTries: opts.labelsMaxRetries ?? opts.maxRetries,
      onRetry: () => this.#m.retries.inc(),
      ...(opts.downstreamTripper !== undefined ? { tripper: opts.downstreamTripper } : {}),
    });
    this.#labelsCache = cacheFromConfig(opts.labelsResponseCacheConfig ?? '', (op, err) => {
      this.#m.labelsCacheErrors.inc({ op });
      cacheFailed('labels', op, err);
    });
  }


  get httpPort(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const app = express();
    app.disable('x-powered-by');
    app.use(createHealthRouter({ ready: () => true, registry: this.registry, name: 'Tessera Query Frontend' }));
    app.use(statusMiddleware());
    app.use((req, res) => {
      void this.#serve(req, res).catch((err: unknown) => {
        this.#log('request failed', { path: req.url, err: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) writeError(res, 502, 'unavailable', `query-frontend: downstream ${this.#down.baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
        else res.destroy();
      });
    });
    const server = createHttpServer((req, res) =>
      runInRequestScope(
        {
          what: `HTTP ${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`,
          fail: (err) => {
            if (res.writableEnded) return;
            if (res.headersSent) res.destroy();
            else writeError(res, 500, 'internal', `internal error: ${err instanceof Error ? err.message : String(err)}`);
          },
        },
        () => app(req, res),
      ),
      this.#o.webConfig,
    );
    const i = this.#o.httpAddress.lastIndexOf(':');
    const host = this.#o.httpAddress.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = Number(this.#o.httpAddress.slice(i + 1));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    this.#port = typeof addr === 'object' && addr !== null ? addr.port : port;
    this.#http = server;
  }

  async stop(): Promise<void> {
    const s = this.#http;
    if (s !== undefined) await closeHttp(s, this.#o.httpGracePeriodMs ?? 2000);
    await this.#cache?.close();
    await this.#labelsCache?.close();
    this.#down.close();
    this.#instantDown.close();
    this.#labelsDown.close();
  }

  #forwarded(req: IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const h of this.#o.forwardHeaders) {
      const v = req.headers[h.toLowerCase()];
      if (v !== undefined) out[h] = Array.isArray(v) ? v.join(', ') : v;
    }
    return out;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const body = await readBody(req);
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const pairs: [string, string][] = [];
    const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (req.method === 'POST' && ct === 'application/x-www-form-urlencoded') pairs.push(...new URLSearchParams(body.toString('utf8')));
    pairs.push(...new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1)));
    let op = 'passthrough';
    try {
      if (path.endsWith('/api/v1/query_range') && (req.method === 'GET' || req.method === 'POST')) {
        op = 'query_range';
        await this.#queryRange(req, res, path, pairs, body);
      } else if ((req.method === 'GET' || req.method === 'POST') && (/\/api\/v1\/(labels|series)$/.test(path) || (req.method === 'GET' && /\/api\/v1\/label\/[^/]+\/values$/.test(path)))) {
        op = 'labels';
        await this.#labels(req, res, path, pairs, body);
      } else {
        await this.#passthrough(req, res, body);
      }
    } finally {
      const secs = (performance.now() - t0) / 1000;
      this.#m.queries.inc({ op });
      this.#m.duration.observe({ op }, secs);
      const slow = this.#o.logQueriesLongerThanMs;
      if (slow !== 0 && (slow < 0 || secs * 1000 > slow)) {
        this.#log('slow query detected', { method: req.method, path, time_taken: formatGoDuration(Math.round(secs * 1000)), ...Object.fromEntries(pairs.map(([k, v]) => [`param_${k}`, v])) });
      }
    }
  }

  async #passthrough(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const headers = this.#forwarded(req);
    for (const h of ['content-type', 'accept']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    this.#m.downstream.inc({ op: 'passthrough' });
    // Streamed: the answer goes to the client as it arrives, never whole in memory.
    const instant = /\/api\/v1\/query$/.test((req.url ?? '/').split('?')[0]!);
    await relayStream(res, await (instant ? this.#instantDown : this.#down).open(req.method ?? 'GET', req.url ?? '/', headers, body));
  }

  async #queryRange(req: IncomingMessage, res: ServerResponse, path: string, pairs: [string, string][], body: Buffer): Promise<void> {
    const partial = this.#o.rangePartialResponse;
    const parsed = parseRangeRequest(partial === undefined || pairs.some((p) => p[0] === 'partial_response') ? pairs : [...pairs, ['partial_response', String(partial)]]);
    if (parsed === undefined) return this.#passthrough(req, res, body);
    const len = parsed.range.end - parsed.range.start;
    if (this.#o.maxQueryLengthMs > 0 && len > this.#o.maxQueryLengthMs) {
      writeError(res, 400, 'bad_data', `the query time range exceeds the limit (query length: ${formatGoDuration(len)}, limit: ${formatGoDuration(this.#o.maxQueryLengthMs)})`);
      return;
    }
    const range = this.#o.alignRangeWithStep ? alignToStep(parsed.range) : parsed.range;
    const parts = splitByInterval(range, this.#o.splitIntervalMs);
    if (parts.length === 0) return this.#passthrough(req, res, body);
    const fwd = this.#forwarded(req);
    const noStore = /(^|,)\s*no-store\s*(,|$)/i.test(String(req.headers['cache-control'] ?? ''));
    const cache = this.#cache !== undefined && this.#o.splitIntervalMs > 0 && !noStore ? this.#cache : undefined;
    const sem = new Semaphore(this.#o.maxQueryParallelism);
    const keyBase = cache === undefined ? '' : this.#cacheKeyBase(path, parsed, range, fwd);
    let shard: ShardAnalysis | undefined;
    if ((this.#o.verticalShards ?? 0) > 1) {
      // A limit truncates each shard's answer, not the union: such queries are not sharded.
      shard = parsed.params.some((p) => p[0] === 'limit' || p[0] === 'shard_info') ? undefined : analyzeShardable(parsed.query);
      this.#m.sharded.inc({ shardable: String(shard !== undefined) });
    }
    const results = await Promise.all(parts.map((p) => this.#part(path, parsed, p, fwd, sem, cache, keyBase, shard)));
    const failed = results.find((r): r is PartFailed => !r.ok);
    if (failed !== undefined) {
      relay(res, failed.response);
      return;
    }
    const ok = results as PartOk[];
    const result = answerFrom(range, ok.flatMap((r) => r.pieces));
    const warnings = unique(ok.flatMap((r) => r.warnings));
    const infos = unique(ok.flatMap((r) => r.infos));
    await writeMatrix(res, result, warnings, infos);
  }

  /** #cacheKeyBase keys the grid actually asked downstream (`grid`: the range after alignment). */
  #cacheKeyBase(path: string, r: RangeRequest, grid: StepRange, fwd: Record<string, string>): string {
    const params = [...r.params].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const headers = Object.entries(fwd).map(([k, v]) => [k.toLowerCase(), v]).sort();
    const step = grid.step;
    const offset = ((grid.start % step) + step) % step;
    const raw = JSON.stringify(['v1', this.#down.baseUrl, path, step, offset, this.#o.splitIntervalMs, params, headers]);
    return `tessera:qfe:${createHash('sha256').update(raw).digest('hex')}`;
  }

  async #part(path: string, r: RangeRequest, p: StepRange, fwd: Record<string, string>, sem: Semaphore, cache: ResultsCache | undefined, keyBase: string, shard: ShardAnalysis | undefined): Promise<PartResult> {
    if (cache === undefined) {
      const f = await this.#fetch(path, r, p, fwd, sem, shard);
      return f.ok ? { ok: true, pieces: [{ start: p.start, end: p.end, result: f.result }], warnings: f.warnings, infos: f.infos } : f;
    }
    const key = `${keyBase}:${bucketOf(p.start, this.#o.splitIntervalMs)}`;
    this.#m.cacheLookups.inc({ cache: cache.name });
    const cached = decodeExtents(await cache.get(key), p.step);
    const missing = missingRanges(p, cached);
    if (missing.length === 0) {
      this.#m.cacheHits.inc({ cache: cache.name });
      return { ok: true, pieces: cached, warnings: [], infos: [] };
    }
    const fetched = await Promise.all(missing.map((m) => this.#fetch(path, r, m, fwd, sem, shard)));
    const pieces: Extent[] = [...cached];
    const warnings: string[] = [];
    const infos: string[] = [];
    let cacheable = true;
    for (let i = 0; i < fetched.length; i++) {
      const f = fetched[i]!;
      if (!f.ok) return f;
      pieces.push({ start: missing[i]!.start, end: missing[i]!.end, result: f.result });
      warnings.push(...f.warnings);
      infos.push(...f.infos);
      if (f.noStore) {
        cacheable = false;
        this.#m.cacheSkipped.inc({ reason: 'no-store' });
      } else if (f.warnings.length > 0) {
        cacheable = false;
        this.#m.cacheSkipped.inc({ reason: 'warnings' });
      }
    }
    if (cacheable) {
      const maxT = this.#now() - this.#o.maxFreshnessMs;
      const fresh: Extent[] = [];
      for (const e of pieces.slice(cached.length)) {
        const end = Math.min(e.end, lastGridPoint(p.start, p.step, maxT));
        if (end < e.start) continue;
        fresh.push(end === e.end ? e : { start: e.start, end, result: answerFrom({ start: e.start, end, step: p.step }, [e]) });
      }
      if (fresh.length > 0) await cache.set(key, encodeExtents(mergeExtents([...cached, ...fresh], p.step)));
      else this.#m.cacheSkipped.inc({ reason: 'too-fresh' });
    }
    return { ok: true, pieces, warnings, infos };
  }

  /**
   * fetch asks the downstream for one range of the query; with a shard analysis, as
   * --query-frontend.vertical-shards requests (one per shard, in parallel) whose answers are merged.
   */
  async #fetch(path: string, r: RangeRequest, p: StepRange, fwd: Record<string, string>, sem: Semaphore, shard?: ShardAnalysis): Promise<Fetched | PartFailed> {
    if (shard === undefined) return this.#fetchOne(path, r, p, fwd, sem, undefined);
    const n = this.#o.verticalShards ?? 0;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        // thanos.ShardInfo as Go's encoding/json writes it (omitempty fields left out).
        const info: Record<string, unknown> = {};
        if (i > 0) info['shard_index'] = i;
        info['total_shards'] = n;
        if (shard.by) info['by'] = true;
        if (shard.labels.length > 0) info['labels'] = shard.labels;
        return this.#fetchOne(path, r, p, fwd, sem, JSON.stringify(info));
      }),
    );
    const failed = answers.find((a): a is PartFailed => !a.ok);
    if (failed !== undefined) return failed;
    const ok = answers as Fetched[];
    const result = mergeShardMatrices(ok.map((a) => a.result));
    if (result === undefined) {
      this.#m.shardFallbacks.inc();
      this.#log('sharded answers disagree on a series; asking again unsharded', { query: r.query });
      return this.#fetchOne(path, r, p, fwd, sem, undefined);
    }
    return {
      ok: true,
      result,
      warnings: unique(ok.flatMap((a) => a.warnings)),
      infos: unique(ok.flatMap((a) => a.infos)),
      noStore: ok.some((a) => a.noStore),
    };
  }

  async #fetchOne(path: string, r: RangeRequest, p: StepRange, fwd: Record<string, string>, sem: Semaphore, shardInfo: string | undefined): Promise<Fetched | PartFailed> {
    const form = new URLSearchParams();
    for (const [k, v] of r.params) form.append(k, v);
    form.append('start', formatSeconds(p.start));
    form.append('end', formatSeconds(p.end));
    form.append('step', formatSeconds(p.step));
    if (shardInfo !== undefined) form.append('shard_info', shardInfo);
    const res = await sem.run(() => {
      this.#m.downstream.inc({ op: 'query_range' });
      return this.#down.request('POST', path, { ...fwd, 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(form.toString()));
    });
    if (res.status !== 200) return { ok: false, response: res };
    let doc: { status?: string; data?: { resultType?: string; result?: Matrix }; warnings?: string[]; infos?: string[] };
    try {
      doc = JSON.parse(res.body.toString('utf8')) as typeof doc;
    } catch {
      return { ok: false, response: res };
    }
    if (doc.status !== 'success' || doc.data?.resultType !== 'matrix' || !Array.isArray(doc.data.result)) return { ok: false, response: res };
    return {
      ok: true,
      result: doc.data.result,
      warnings: doc.warnings ?? [],
      infos: doc.infos ?? [],
      noStore: /(^|,)\s*no-store\s*(,|$)/i.test(res.headers.get('cache-control') ?? ''),
    };
  }

  /**
   * labels answers labels, label values and series requests: Thanos's defaults applied
   * (--labels.default-time-range when start or end is missing, --labels.partial-response when
   * partial_response is), split at --labels.split-interval, each part from the labels response
   * cache when it holds that exact part, the answers unioned. A part is cached only when it ends
   * before now - --labels.response-cache-max-freshness and answered without warnings or no-store;
   * its key covers every parameter and forwarded header and the part's exact start and end, so a
   * cached part is always the answer the querier would give for it. Requests with `limit`,
   * without a time range, or with nothing to do pass through.
   */
  async #labels(req: IncomingMessage, res: ServerResponse, path: string, pairs: [string, string][], body: Buffer): Promise<void> {
    const now = this.#now();
    const ps: [string, string][] = [...pairs];
    const has = (k: string) => ps.some((p) => p[0] === k);
    const dtr = this.#o.labelsDefaultTimeRangeMs ?? 0;
    if (dtr > 0 && !has('start')) ps.push(['start', formatSeconds(now - dtr)]);
    if (dtr > 0 && !has('end')) ps.push(['end', formatSeconds(now)]);
    if (this.#o.labelsPartialResponse !== undefined && !has('partial_response')) ps.push(['partial_response', String(this.#o.labelsPartialResponse)]);
    const noStore = /(^|,)\s*no-store\s*(,|$)/i.test(String(req.headers['cache-control'] ?? ''));
    const cache = noStore ? undefined : this.#labelsCache;
    const ranges = splitLabelsRequest(ps, this.#o.labelsSplitIntervalMs);
    if (ranges === undefined || (ranges.length <= 1 && cache === undefined && ps.length === pairs.length)) return this.#passthrough(req, res, body);
    const fwd = this.#forwarded(req);
    if (ranges.length === 1 && cache === undefined) {
      // One part, nothing to cache: streamed through with the filled-in parameters.
      this.#m.downstream.inc({ op: 'labels' });
      await relayStream(res, await this.#labelsSend(path, new URLSearchParams(ps), fwd, (...a) => this.#labelsDown.open(...a)));
      return;
    }
    const sem = new Semaphore(this.#o.labelsMaxQueryParallelism ?? this.#o.maxQueryParallelism);
    const rest = ps.filter((p) => p[0] !== 'start' && p[0] !== 'end');
    const keyBase = cache === undefined ? '' : this.#labelsKeyBase(path, rest, fwd);
    const freshBefore = now - (this.#o.labelsMaxFreshnessMs ?? 60_000);
    const answers = await Promise.all(
      ranges.map(async (rg): Promise<DownstreamResponse> => {
        const key = `${keyBase}:${rg.start}:${rg.end}`;
        if (cache !== undefined) {
          this.#m.labelsCacheLookups.inc();
          const hit = await cache.get(key);
          if (hit !== undefined) {
            this.#m.labelsCacheHits.inc();
            return { status: 200, headers: new Headers({ 'content-type': 'application/json' }), body: Buffer.from(hit, 'utf8') };
          }
        }
        const form = new URLSearchParams();
        for (const [k, v] of rest) form.append(k, v);
        form.append('start', formatSeconds(rg.start));
        form.append('end', formatSeconds(rg.end));
        const a = await sem.run(() => {
          this.#m.downstream.inc({ op: 'labels' });
          return this.#labelsSend(path, form, fwd, (...a) => this.#labelsDown.request(...a));
        });
        if (cache !== undefined && a.status === 200 && rg.end <= freshBefore && !/(^|,)\s*no-store\s*(,|$)/i.test(a.headers.get('cache-control') ?? '') && cleanSuccess(a.body)) {
          await cache.set(key, a.body.toString('utf8'));
        }
        return a;
      }),
    );
    const failed = answers.find((a) => a.status !== 200);
    if (failed !== undefined) return relay(res, failed);
    if (answers.length === 1) return relay(res, answers[0]!);
    const merged = mergeLabelsResponses(path.endsWith('/series') ? 'series' : 'values', answers.map((a) => a.body));
    if (merged === undefined) return relay(res, answers[0]!);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(merged);
  }

  /**
   * labelsSend asks the downstream: label values with GET (Prometheus answers them on GET only),
   * labels and series with a POST form, so that long match[] lists never make an over-long URL.
   */
  #labelsSend<T>(path: string, form: URLSearchParams, fwd: Record<string, string>, send: (method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer) => Promise<T>): Promise<T> {
    if (path.endsWith('/values')) return send('GET', `${path}?${form.toString()}`, fwd);
    return send('POST', path, { ...fwd, 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(form.toString()));
  }

  #labelsKeyBase(path: string, params: readonly [string, string][], fwd: Record<string, string>): string {
    const sorted = [...params].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const headers = Object.entries(fwd).map(([k, v]) => [k.toLowerCase(), v]).sort();
    const raw = JSON.stringify(['labels-v1', this.#down.baseUrl, path, sorted, headers]);
    return `tessera:qfe-labels:${createHash('sha256').update(raw).digest('hex')}`;
  }
}

/** cleanSuccess tells whether an answer is a success without warnings (only those are cached). */
function cleanSuccess(body: Buffer): boolean {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { status?: string; warnings?: unknown[] };
    return doc.status === 'success' && (doc.warnings === undefined || doc.warnings.length === 0);
  } catch {
    return false;
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function encodeExtents(extents: Extent[]): string {
  return JSON.stringify({ v: 1, extents });
}

function decodeExtents(s: string | undefined, step: number): Extent[] {
  if (s === undefined) return [];
  try {
    const doc = JSON.parse(s) as { v?: number; extents?: Extent[] };
    if (doc.v !== 1 || !Array.isArray(doc.extents)) return [];
    return doc.extents.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.end >= e.start && (e.end - e.start) % step === 0 && Array.isArray(e.result));
  } catch {
    return [];
  }
}

function relayHeaders(h: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  h.forEach((v, k) => {
    if (!hopHeaders.has(k)) headers[k] = v;
  });
  return headers;
}

function relay(res: ServerResponse, r: DownstreamResponse): void {
  res.writeHead(r.status, relayHeaders(r.headers));
  res.end(r.body);
}

/** relayStream passes a downstream answer through as it arrives (with backpressure). */
async function relayStream(res: ServerResponse, r: DownstreamStream): Promise<void> {
  const headers = relayHeaders(r.headers);
  const len = r.headers.get('content-length');
  if (len !== null) headers['content-length'] = len;
  res.writeHead(r.status, headers);
  await pipeline(r.body, res);
}

/**
 * writeMatrix writes a merged range-query answer a series at a time (64 KiB pieces, waiting for
 * the client to drain), so no single string holds the whole answer.
 */
async function writeMatrix(res: ServerResponse, result: Matrix, warnings: string[], infos: string[]): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let buf = '{"status":"success","data":{"resultType":"matrix","result":[';
  const flush = async (): Promise<void> => {
    const ok = res.write(buf);
    buf = '';
    if (!ok && !res.destroyed) await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  for (let i = 0; i < result.length; i++) {
    if (res.destroyed) return;
    buf += (i === 0 ? '' : ',') + JSON.stringify(result[i]);
    if (buf.length >= 65536) await flush();
  }
  buf += ']}';
  if (warnings.length > 0) buf += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length > 0) buf += `,"infos":${JSON.stringify(infos)}`;
  buf += '}';
  res.end(buf);
}

function writeError(res: ServerResponse, status: number, errorType: string, error: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ status: 'error', errorType, error }));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBodyBytes) throw new Error(`request body larger than ${maxBodyBytes} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
