import type { Server } from 'node:http';
import express from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { closeHttp, createApiRouter, createHealthRouter, createJsonErrorHandler, int64Json, jsonString, notFound, serveWebUi, type WebConfig } from '../api/index.js';
import type { Logger } from '../block/index.js';
import { Labels, type Matcher } from '../labels/index.js';
import { Engine } from '../promql/index.js';
import { GrpcStoreClient, ProxyStore, StoreGrpcServer, inProcessClient, type GrpcClientTls, type GrpcClientTlsOptions, type ProxyTarget, type StoreGrpcServerOptions } from '../store/index.js';
import { EndpointDiscovery } from './endpoint-discovery.js';
import { EndpointSet } from './endpoint-set.js';
import { listenHttp } from './http-server.js';
import { QueryApiAdapter } from './query-api-adapter.js';
import { storeMatchesSelectors } from './store-match.js';
import { SelectorLabelsStore } from './selector-labels-store.js';
import { gatherRules, gatheringRulesServer } from './rules-gatherer.js';
import { WorkerQueryEngine } from './worker-query-engine.js';
import type { QueryWorkerData } from './query-worker-messages.js';

/** QuerierOptions configure the querier component (Thanos `query` flags). Durations in ms. */
export interface QuerierOptions {
  readonly httpAddress: string;
  readonly grpcAddress: string;
  readonly endpoints: readonly string[];
  readonly sdFiles?: readonly string[];
  readonly sdFileIntervalMs?: number;
  readonly dnsIntervalMs?: number;
  readonly replicaLabels: readonly string[];
  readonly timeoutMs: number;
  readonly maxConcurrent: number;
  readonly lookbackDeltaMs: number;
  readonly maxSamples: number;
  /** maxMemoryBytes is the engine's per-query memory budget (--query.max-memory; 0: none). */
  readonly maxMemoryBytes?: number;
  readonly partialResponse: boolean;
  readonly autoDownsampling: boolean;
  /** instantDefaultMaxSourceResolutionMs is --query.instant.default.max_source_resolution (default 0). */
  readonly instantDefaultMaxSourceResolutionMs?: number;
  readonly defaultEvaluationIntervalMs: number;
  readonly storeResponseTimeoutMs?: number;
  readonly unhealthyTimeoutMs?: number;
  readonly infoTimeoutMs?: number;
  readonly endpointPollIntervalMs?: number;
  /** routePrefix is where the HTTP routes are served (--web.route-prefix, default ""). */
  readonly routePrefix?: string;
  /** externalPrefix is the path prefix links use (--web.external-prefix). */
  readonly externalPrefix?: string;
  /**
   * selectorLabels (--selector-label) extend the label sets the querier's StoreAPI advertises in
   * Info, so a parent querier can select it; StoreAPI requests whose matchers contradict them get
   * empty answers (see SelectorLabelsStore). The querier's own HTTP queries are not filtered.
   */
  readonly selectorLabels?: Labels;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** logger, when given, gets the querier's lines at their levels (endpoint trouble as warn); else log gets them all. */
  readonly logger?: Logger;
  /** grpcCredentials of the querier's own StoreAPI server (--grpc-server-tls-*; default plain text). */
  readonly grpcCredentials?: StoreGrpcServerOptions['credentials'];
  /** grpcClientTls: how endpoints are dialled (--grpc-client-tls-*; default plain text). */
  readonly grpcClientTls?: GrpcClientTls;
  /**
   * grpcClientTlsOptions are the flags grpcClientTls was built from: query worker threads build
   * their own credentials from them. With grpcClientTls but without these, queries are evaluated
   * on the main thread.
   */
  readonly grpcClientTlsOptions?: GrpcClientTlsOptions;
  /**
   * workerThreads evaluates instant and range queries in this many worker threads
   * (--query.worker-threads; default 0: on the main thread). Series, labels, metadata, health and
   * endpoint discovery stay on the main thread.
   */
  readonly workerThreads?: number;
  /** webConfig: TLS, basic auth and headers of the HTTP server (--http.config). */
  readonly webConfig?: WebConfig;
  /** httpGracePeriodMs/grpcGracePeriodMs: how long stop() lets requests in flight finish (--http-grace-period, --grpc-grace-period; default 2 s). */
  readonly httpGracePeriodMs?: number;
  readonly grpcGracePeriodMs?: number;
  /** grpcMaxConnectionAgeMs: gRPC connections to the StoreAPI are closed gracefully after this long (--grpc-server-max-connection-age; default no limit). */
  readonly grpcMaxConnectionAgeMs?: number;
  /** version/branch/revision for /api/v1/status/buildinfo (cmd reads them from package.json and git). */
  readonly version?: { readonly version: string; readonly branch: string; readonly revision: string };
}

/**
 * Querier is the `tessera query` component: it discovers StoreAPI endpoints, fans queries out
 * through a ProxyStore, deduplicates replicas, evaluates PromQL and serves the Prometheus HTTP
 * API, a small web UI, and the StoreAPI itself (so queriers stack).
 */
export class Querier {
  readonly #opts: QuerierOptions;
  readonly registry = new Registry();
  readonly #discovery: EndpointDiscovery;
  readonly #endpoints: EndpointSet;
  readonly #proxy: ProxyStore;
  readonly #grpc: StoreGrpcServer;
  #http: Server | undefined;
  #httpPort = 0;
  #grpcPort = 0;
  #endpointTimer: NodeJS.Timeout | undefined;
  #workers: WorkerQueryEngine | undefined;
  readonly #workerEnds: Counter;
  /** #epochs counts each endpoint's turns to healthy (query workers reset their backoff on a change). */
  readonly #epochs = new Map<string, number>();

  constructor(opts: QuerierOptions) {
    this.#opts = opts;
    const log = opts.log ?? (() => {});
    collectDefaultMetrics({ register: this.registry });
    const endpointUp = new Gauge({ name: 'thanos_store_nodes_grpc_connections', help: 'Number of healthy StoreAPI endpoints.', registers: [this.registry] });
    const endpointChanges = new Counter({ name: 'tessera_querier_endpoint_health_changes_total', help: 'Endpoint health transitions.', labelNames: ['healthy'], registers: [this.registry] });
    const workers = (): WorkerQueryEngine | undefined => this.#workers;
    new Gauge({
      name: 'tessera_querier_query_worker_threads',
      help: 'Worker threads evaluating queries that are running (--query.worker-threads).',
      registers: [this.registry],
      collect() {
        this.set(workers()?.load().filter((l) => l.alive).length ?? 0);
      },
    });
    new Gauge({
      name: 'tessera_querier_query_worker_queries_in_flight',
      help: 'Queries being evaluated in worker threads.',
      registers: [this.registry],
      collect() {
        this.set(workers()?.load().reduce((n, l) => n + l.inFlight, 0) ?? 0);
      },
    });
    this.#workerEnds = new Counter({ name: 'tessera_querier_query_worker_failures_total', help: 'Query worker threads that ended unexpectedly (crash, out of memory) and were replaced.', registers: [this.registry] });
    this.#discovery = new EndpointDiscovery({
      endpoints: opts.endpoints,
      ...(opts.sdFiles !== undefined ? { sdFiles: opts.sdFiles } : {}),
      ...(opts.sdFileIntervalMs !== undefined ? { sdFileIntervalMs: opts.sdFileIntervalMs } : {}),
      ...(opts.dnsIntervalMs !== undefined ? { dnsIntervalMs: opts.dnsIntervalMs } : {}),
      onError: (err) => (opts.logger !== undefined ? opts.logger.warn('endpoint discovery', { err: err.message }) : log('endpoint discovery', { err: err.message })),
    });
    this.#endpoints = new EndpointSet({
      addresses: () => this.#discovery.addresses(),
      newClient: (addr) => new GrpcStoreClient(addr, opts.grpcClientTls !== undefined ? { credentials: opts.grpcClientTls.credentials, serverName: opts.grpcClientTls.serverName } : {}),
      ...(opts.infoTimeoutMs !== undefined ? { infoTimeoutMs: opts.infoTimeoutMs } : {}),
      ...(opts.unhealthyTimeoutMs !== undefined ? { unhealthyTimeoutMs: opts.unhealthyTimeoutMs } : {}),
      onChange: (address, healthy, err) => {
        if (healthy) this.#epochs.set(address, (this.#epochs.get(address) ?? 0) + 1);
        endpointChanges.inc({ healthy: String(healthy) });
        endpointUp.set(this.#endpoints.status().filter((s) => s.healthy).length);
        const fields = { address, ...(err ? { err: err.message } : {}) };
        if (opts.logger !== undefined) opts.logger[healthy ? 'info' : 'warn'](healthy ? 'endpoint healthy' : 'endpoint unhealthy', fields);
        else log(healthy ? 'endpoint healthy' : 'endpoint unhealthy', fields);
      },
    });
    this.#proxy = new ProxyStore({
      targets: () => this.#endpoints.targets(),
      componentType: 'query',
      ...(opts.storeResponseTimeoutMs !== undefined ? { responseTimeoutMs: opts.storeResponseTimeoutMs } : {}),
    });
    // The querier serves the Rules API too (gathered from its endpoints), so queriers stack.
    const rules = gatheringRulesServer({
      endpoints: () => this.#endpoints.rulesClients(),
      replicaLabels: opts.replicaLabels,
      timeoutMs: opts.storeResponseTimeoutMs || opts.timeoutMs, // a hung endpoint cannot hold a rules request longer than a query
    });
    const served = opts.selectorLabels !== undefined && !opts.selectorLabels.isEmpty() ? new SelectorLabelsStore(this.#proxy, opts.selectorLabels) : this.#proxy;
    this.#grpc = new StoreGrpcServer(served, {
      rules,
      ...(opts.grpcCredentials !== undefined ? { credentials: opts.grpcCredentials } : {}),
      ...(opts.grpcMaxConnectionAgeMs !== undefined ? { maxConnectionAgeMs: opts.grpcMaxConnectionAgeMs } : {}),
    });
  }

  get httpPort(): number {
    return this.#httpPort;
  }

  get grpcPort(): number {
    return this.#grpcPort;
  }

  /** queryWorkerThreads is how many query worker threads evaluate queries (0: on the main thread). */
  get queryWorkerThreads(): number {
    return this.#workers?.threadIds().length ?? 0;
  }

  /** endpoints describes the known StoreAPI endpoints. */
  endpointStatus() {
    return this.#endpoints.status();
  }

  /**
   * checkEndpoints runs one Info check of every endpoint now (as the poll every
   * endpointPollIntervalMs does): queries use an endpoint only while its last check succeeded.
   */
  checkEndpoints(): Promise<void> {
    return this.#endpoints.update();
  }

  /** #targetsMatching are the healthy endpoints a storeMatch[] selects. */
  #targetsMatching(sets: readonly (readonly Matcher[])[]): ProxyTarget[] {
    return this.#endpoints.targets().filter((t) => storeMatchesSelectors(t.client.name, t.labelSets, sets));
  }

  /** start discovers endpoints, then serves gRPC and HTTP. */
  async start(): Promise<void> {
    const o = this.#opts;
    await this.#discovery.start();
    await this.#endpoints.update();
    this.#endpointTimer = setInterval(() => void this.#endpoints.update(), o.endpointPollIntervalMs ?? 5000).unref();

    // The same limits for the main thread's engine and each query worker's.
    const limits: QueryWorkerData['engine'] = {
      timeoutMs: o.timeoutMs,
      maxSamples: o.maxSamples,
      maxMemoryBytes: o.maxMemoryBytes ?? 0,
      lookbackDeltaMs: o.lookbackDeltaMs,
      noStepSubqueryIntervalMs: o.defaultEvaluationIntervalMs,
    };
    const engine = new Engine(limits);
    const threads = o.workerThreads ?? 0;
    if (threads > 0 && o.grpcClientTls !== undefined && o.grpcClientTlsOptions === undefined) {
      o.log?.('query worker threads need grpcClientTlsOptions to dial with TLS; evaluating queries on the main thread');
    } else if (threads > 0) {
      this.#workers = new WorkerQueryEngine({
        threads,
        data: {
          engine: limits,
          replicaLabels: o.replicaLabels,
          partialResponse: o.partialResponse,
          autoDownsampling: o.autoDownsampling,
          ...(o.instantDefaultMaxSourceResolutionMs ? { instantDefaultMaxSourceResolutionMs: o.instantDefaultMaxSourceResolutionMs } : {}),
          ...(o.storeResponseTimeoutMs ? { storeResponseTimeoutMs: o.storeResponseTimeoutMs } : {}),
          ...(o.grpcClientTlsOptions !== undefined ? { grpcClientTls: o.grpcClientTlsOptions } : {}),
        },
        targets: (sets) => (sets === undefined ? this.#endpoints.targets() : this.#targetsMatching(sets)),
        epoch: (address) => this.#epochs.get(address) ?? 0,
        onWorkerEnd: () => this.#workerEnds.inc(),
        log: (level, msg, fields) => (o.logger !== undefined ? o.logger[level](msg, fields) : o.log?.(msg, fields)),
      });
      try {
        await this.#workers.ready();
      } catch (err) {
        // The querier still serves: queries are evaluated on the main thread, as with 0 threads.
        const fields = { err: err instanceof Error ? err.message : String(err) };
        if (o.logger !== undefined) o.logger.error('query worker threads could not start; evaluating queries on the main thread', fields);
        else o.log?.('query worker threads could not start; evaluating queries on the main thread', fields);
        const failed = this.#workers;
        this.#workers = undefined;
        await failed.close();
      }
    }
    const adapter = new QueryApiAdapter({
      engine,
      ...(this.#workers !== undefined ? { remote: this.#workers } : {}),
      client: inProcessClient(this.#proxy, 'proxy'),
      clientFor: (sets) => {
        const targets = () => this.#targetsMatching(sets);
        return inProcessClient(new ProxyStore({ targets, componentType: 'query' }), 'proxy');
      },
      replicaLabels: o.replicaLabels,
      partialResponse: o.partialResponse,
      autoDownsampling: o.autoDownsampling,
      ...(o.instantDefaultMaxSourceResolutionMs ? { instantDefaultMaxSourceResolutionMs: o.instantDefaultMaxSourceResolutionMs } : {}),
      maxConcurrent: o.maxConcurrent,
      ...(o.storeResponseTimeoutMs ? { storeTimeoutMs: o.storeResponseTimeoutMs } : {}),
    });
    const logHttpError = (err: unknown, req: express.Request): void => {
      o.log?.('HTTP request failed', { method: req.method, path: req.originalUrl.split('?')[0], err: err instanceof Error ? err.message : String(err) });
    };
    const app = express();
    app.disable('x-powered-by');
    const prefix = (o.routePrefix ?? '').replace(/\/+$/, '');
    const ready = () => true;
    app.use(prefix || '/', createHealthRouter({ ready, registry: this.registry, name: 'Tessera Querier' }));
    // Endpoints Grafana's Prometheus data source calls that the querier has nothing for yet:
    // answer them with empty successes, as a Prometheus without rules or exemplars does.
    const empty = (data: unknown) => (_req: express.Request, res: express.Response) => {
      res.json({ status: 'success', data });
    };
    app.all(`${prefix}/api/v1/query_exemplars`, empty([]));
    // Before the API router, whose catch-all answers 404 for paths it does not know.
    app.get(`${prefix}/api/v1/stores`, (_req, res) => {
      // minTime/maxTime are written with int64Json: int64 extremes exactly, not as 9223372036854776000.
      const stores = this.#endpoints.status().map(
        (s) =>
          `{"name":${jsonString(s.address)},"healthy":${s.healthy},"componentType":${jsonString(s.componentType)},"labelSets":${JSON.stringify(s.labelSets.map((l) => l.toRecord()))},` +
          `"minTime":${int64Json(s.minTime)},"maxTime":${int64Json(s.maxTime)},"lastCheck":${jsonString(new Date(s.lastCheckMs).toISOString())},"lastError":${s.lastError === undefined ? 'null' : jsonString(s.lastError)}}`,
      );
      res.type('application/json').send(`{"status":"success","data":[${stores.join(',')}]}`);
    });
    app.use(
      `${prefix}/api/v1`,
      createApiRouter({
        onError: logHttpError,
        // /api/v1/rules and /api/v1/alerts: gathered over Thanos's Rules API from the endpoints that
        // advertise it, with the Thanos querier's partialResponseStrategy fields.
        rulesPartialResponseStrategy: true,
        rules: (q, signal) =>
          gatherRules(
            {
              endpoints: () => this.#endpoints.rulesClients(),
              replicaLabels: o.replicaLabels,
              partialResponse: o.partialResponse,
              timeoutMs: o.storeResponseTimeoutMs || o.timeoutMs,
            },
            q,
            signal,
          ),
        engine: adapter,
        source: adapter,
        maxTimeout: o.timeoutMs,
        canceledStatus: 503,
        defaultStep: 1000,
        buildInfo: { version: o.version?.version ?? '0.1.0', revision: o.version?.revision ?? 'unknown', branch: o.version?.branch ?? 'unknown', buildUser: 'tessera', buildDate: '', goVersion: process.version },
      }),
    );
    serveWebUi(app, { routePrefix: prefix, externalPrefix: o.externalPrefix ?? prefix, pages: ['/', '/graph', '/query', '/alerts', '/rules', '/stores'] });
    // With --web.route-prefix, / leads to the prefix (as Prometheus and Thanos redirect it).
    if (prefix !== '') app.get('/', (_req, res) => res.redirect(302, prefix));
    app.use(notFound);
    // Last: anything thrown outside the API router becomes a JSON error, never express's HTML page.
    app.use(createJsonErrorHandler({ canceledStatus: 503, onError: logHttpError }));

    try {
      this.#grpcPort = await this.#grpc.listen(o.grpcAddress);
      const { server, port } = await listenHttp(app, o.httpAddress, o.webConfig);
      this.#http = server;
      this.#httpPort = port;
    } catch (err) {
      // Not serving (e.g. the address is taken): end the query worker threads started above.
      const workers = this.#workers;
      this.#workers = undefined;
      await workers?.close();
      throw err;
    }
  }

  /** stop ends serving and closes every endpoint connection. */
  async stop(): Promise<void> {
    if (this.#endpointTimer !== undefined) clearInterval(this.#endpointTimer);
    this.#discovery.stop();
    await Promise.all([this.#http ? closeHttp(this.#http, this.#opts.httpGracePeriodMs) : Promise.resolve(), this.#grpc.stop(this.#opts.grpcGracePeriodMs ?? 2000)]);
    await this.#workers?.close();
    this.#endpoints.stop();
  }
}
