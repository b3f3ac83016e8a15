import { isTesseraError } from '../pkg/errors/index.js';
import { Querier } from '../pkg/querier/index.js';
import { UsageError, flagBool, flagList, flagString, type Command } from './command.js';
import { versionInfo } from './version.js';
import { Labels } from '../pkg/labels/index.js';
import { parseLabelFlags } from './tools-bucket.js';
import { availableCores } from './available-cores.js';
import { grpcClientTlsFlags, grpcClientTlsFromFlags, grpcClientTlsOptionsFromFlags, grpcServerCredentialsFromFlags, gracePeriodFlags, grpcServerConnectionFlags, grpcServerTlsFlags, httpConfigFlags, requestLoggingIgnoredFlags, experimentalPromqlIgnoredFlags, globalFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { bytesFlag, durationFlag, intFlag, listFlag, waitForShutdown } from './flag-values.js';

/** queryCommand is `tessera query`: the global query layer (Thanos `query`). */
export const queryCommand: Command = {
  name: 'query',
  help: 'Query node: fans out over StoreAPI endpoints, deduplicates replicas, serves PromQL through the Prometheus HTTP API, a web UI and StoreAPI.',
  flags: {
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen host:port for HTTP endpoints.' },
    'grpc-address': { type: 'string', default: '0.0.0.0:10901', help: 'Listen host:port for the StoreAPI gRPC endpoint.' },
    endpoint: { type: 'string', multiple: true, help: 'StoreAPI endpoint: host:port, dns+host:port, dnssrv+_grpc._tcp.name.' },
    'store.sd-files': { type: 'string', multiple: true, help: 'Paths to file SD files (YAML or JSON) listing endpoints (Thanos\'s name; same as --endpoint.sd-files).' },
    'store.sd-interval': { type: 'string', default: '5m', help: 'Refresh interval to re-read file SD files (Thanos\'s name; --endpoint.sd-interval wins when set).' },
    'endpoint.sd-files': { type: 'string', multiple: true, help: 'Paths to file SD files (YAML or JSON) listing endpoints (same as --store.sd-files).' },
    'endpoint.sd-interval': { type: 'string', help: 'Refresh interval to re-read file SD files (default: --store.sd-interval).' },
    'store.sd-dns-interval': { type: 'string', default: '30s', help: 'Interval between DNS resolutions.' },
    'endpoint.info-timeout': { type: 'string', default: '5s', help: 'Timeout of the Info call to each endpoint.' },
    'store.unhealthy-timeout': { type: 'string', default: '5m', help: 'How long an endpoint that fails Info stays listed on /api/v1/stores (it is left out of queries at once).' },
    'store.response-timeout': { type: 'string', default: '0ms', help: 'Timeout for each store to send its next frame; 0 disables.' },
    'selector-label': { type: 'string', multiple: true, help: 'Labels of this querier (repeatable, name="value") advertised in Info: each label set of the endpoints is extended with them (the labels alone when there is none), so a parent querier selects this one by them; StoreAPI requests whose matchers contradict them get empty answers.' },
    'query.replica-label': { type: 'string', multiple: true, help: 'Labels treated as replica indicators for deduplication (repeatable or comma separated).' },
    'deduplication.func': { type: 'string', default: 'penalty', help: "Deduplication algorithm for merging replicas' series: penalty (Thanos's default; chain is not supported)." },
    'query.timeout': { type: 'string', default: '2m', help: 'Maximum time to process a query.' },
    'query.max-concurrent': { type: 'string', default: '20', help: 'Maximum number of queries processed concurrently.' },
    'query.worker-threads': {
      type: 'string',
      default: 'auto',
      help: 'Tessera only: worker threads evaluating instant and range queries, so that concurrent queries use several cores; auto = the number of CPU cores the process can use (a cgroup CPU quota, e.g. a container CPU limit, rounded down), at most 8 (0 on a single core); 0 evaluates on the main thread.',
    },
    'query.lookback-delta': { type: 'string', default: '5m', help: 'How far back an instant selector looks for samples.' },
    'query.max-samples': { type: 'string', default: '50000000', help: 'Maximum number of samples a single query may load into memory.' },
    'query.max-memory': { type: 'string', default: '0', help: 'Per-query memory budget (e.g. 2GB) for series data loaded from stores plus samples held in evaluation; over it a query fails with 422. 0 disables.' },
    'query.partial-response': { type: 'boolean', default: true, help: 'Enable partial response when the request does not say (default on).' },
    'no-query.partial-response': { type: 'boolean', help: 'Disable partial response by default.' },
    'query.auto-downsampling': { type: 'boolean', help: 'Use downsampled data when the request does not say (max_source_resolution = step/5).' },
    'query.instant.default.max_source_resolution': { type: 'string', default: '0s', help: 'Default max_source_resolution of instant queries with --query.auto-downsampling or max_source_resolution=auto (0s = raw only).' },
    'query.default-evaluation-interval': { type: 'string', default: '1m', help: 'Default evaluation interval of subqueries without a step.' },
    'web.route-prefix': { type: 'string', default: '', help: 'Prefix for API and UI routes.' },
    'web.external-prefix': { type: 'string', default: '', help: 'Prefix of the externally reachable URL (used by the UI).' },
    'web.prefix-header': { type: 'string', default: '', help: 'Accepted for Thanos compatibility and ignored; the UI uses --web.external-prefix.' },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored; no CORS headers are set.' },
    'grpc-compression': { type: 'string', default: 'none', help: 'Accepted for Thanos compatibility (none or snappy) and ignored: gRPC requests to endpoints are not compressed.' },
    'query.promql-engine': { type: 'string', default: 'prometheus', help: "Accepted for Thanos compatibility (prometheus or thanos) and ignored: queries run on Tessera's engine." },
    'query.mode': { type: 'string', default: 'local', help: 'Accepted for Thanos compatibility (local or distributed) and ignored: queries are always evaluated here, over the series the endpoints return.' },
    'query.max-concurrent-select': { type: 'string', default: '4', help: 'Accepted for Thanos compatibility and ignored.' },
    'query.default-step': { type: 'string', default: '1s', help: 'Accepted for Thanos compatibility and ignored (the step the Thanos UI proposes).' },
    'query.active-query-path': { type: 'string', default: '', help: 'Accepted for Thanos compatibility and ignored: active queries are not tracked on disk.' },
    'query.conn-metric.label': { type: 'string', multiple: true, help: 'Accepted for Thanos compatibility and ignored.' },
    'query.telemetry.request-duration-seconds-quantiles': { type: 'string', multiple: true, help: 'Accepted for Thanos compatibility and ignored.' },
    'query.telemetry.request-samples-quantiles': { type: 'string', multiple: true, help: 'Accepted for Thanos compatibility and ignored.' },
    'query.telemetry.request-series-seconds-quantiles': { type: 'string', multiple: true, help: 'Accepted for Thanos compatibility and ignored.' },
    ...experimentalPromqlIgnoredFlags,
    ...requestLoggingIgnoredFlags,
    ...grpcServerTlsFlags,
    ...grpcServerConnectionFlags,
    ...grpcClientTlsFlags,
    ...httpConfigFlags,
    ...gracePeriodFlags,
    ...globalFlags,
  },
  async run(ctx) {
    const logger = loggerFromFlags(ctx, 'query');
    const compression = flagString(ctx, 'grpc-compression');
    if (compression !== 'none' && compression !== 'snappy') throw new UsageError(`--grpc-compression: "${compression}" is not none or snappy`);
    const engine = flagString(ctx, 'query.promql-engine');
    if (engine !== 'prometheus' && engine !== 'thanos') throw new UsageError(`--query.promql-engine: "${engine}" is not prometheus or thanos`);
    const dedup = flagString(ctx, 'deduplication.func');
    if (dedup !== 'penalty') throw new UsageError(`--deduplication.func: "${dedup}" is not supported (penalty)`);
    const mode = flagString(ctx, 'query.mode');
    if (mode !== 'local' && mode !== 'distributed') throw new UsageError(`--query.mode: "${mode}" is not local or distributed`);
    const selectorLabels = selectorLabelsFlag(flagList(ctx, 'selector-label'));
    const log = (msg: string, fields?: Record<string, unknown>): void => logger.info(msg, fields);
    const workerThreads = workerThreadsFlag(flagString(ctx, 'query.worker-threads'));
    let grpcCredentials, grpcClientTls, webConfig;
    try {
      grpcCredentials = await grpcServerCredentialsFromFlags(ctx);
      grpcClientTls = await grpcClientTlsFromFlags(ctx);
      webConfig = await webConfigFromFlags(ctx);
    } catch (err) {
      if (!isTesseraError(err)) throw err;
      logger.error('read configuration', { err });
      return 1;
    }
    const q = new Querier({
      httpAddress: flagString(ctx, 'http-address'),
      grpcAddress: flagString(ctx, 'grpc-address'),
      endpoints: flagList(ctx, 'endpoint'),
      sdFiles: [...flagList(ctx, 'store.sd-files'), ...flagList(ctx, 'endpoint.sd-files')],
      sdFileIntervalMs: durationFlag(ctx, flagString(ctx, 'endpoint.sd-interval') !== '' ? 'endpoint.sd-interval' : 'store.sd-interval'),
      dnsIntervalMs: durationFlag(ctx, 'store.sd-dns-interval'),
      infoTimeoutMs: durationFlag(ctx, 'endpoint.info-timeout'),
      unhealthyTimeoutMs: durationFlag(ctx, 'store.unhealthy-timeout'),
      storeResponseTimeoutMs: durationFlag(ctx, 'store.response-timeout'),
      replicaLabels: listFlag(ctx, 'query.replica-label'),
      selectorLabels,
      timeoutMs: durationFlag(ctx, 'query.timeout'),
      maxConcurrent: intFlag(ctx, 'query.max-concurrent'),
      lookbackDeltaMs: durationFlag(ctx, 'query.lookback-delta'),
      maxSamples: intFlag(ctx, 'query.max-samples'),
      maxMemoryBytes: bytesFlag(ctx, 'query.max-memory'),
      partialResponse: flagBool(ctx, 'query.partial-response') && !flagBool(ctx, 'no-query.partial-response'),
      autoDownsampling: flagBool(ctx, 'query.auto-downsampling'),
      instantDefaultMaxSourceResolutionMs: durationFlag(ctx, 'query.instant.default.max_source_resolution'),
      defaultEvaluationIntervalMs: durationFlag(ctx, 'query.default-evaluation-interval'),
      routePrefix: flagString(ctx, 'web.route-prefix'),
      externalPrefix: flagString(ctx, 'web.external-prefix'),
      log,
      logger,
      grpcCredentials,
      version: versionInfo(),
      httpGracePeriodMs: durationFlag(ctx, 'http-grace-period'),
      grpcGracePeriodMs: durationFlag(ctx, 'grpc-grace-period'),
      grpcMaxConnectionAgeMs: durationFlag(ctx, 'grpc-server-max-connection-age'),
      ...(grpcClientTls !== undefined ? { grpcClientTls, grpcClientTlsOptions: grpcClientTlsOptionsFromFlags(ctx) } : {}),
      workerThreads,
      ...(webConfig !== undefined ? { webConfig } : {}),
    });
    await q.start();
    log('listening', { http: q.httpPort, grpc: q.grpcPort, queryWorkerThreads: q.queryWorkerThreads });
    const sig = await waitForShutdown();
    log('shutting down', { signal: sig });
    await q.stop();
    return 0;
  },
};

/** selectorLabelsFlag reads --selector-label (name="value", repeatable); a bad one is a usage error naming the flag. */
export function selectorLabelsFlag(values: readonly string[]): Labels {
  try {
    return Labels.fromRecord(parseLabelFlags(values));
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`--selector-label: ${err.message}`);
    throw err;
  }
}

/**
 * workerThreadsFlag reads --query.worker-threads: a count, or auto (the cores the process can use,
 * its cgroup CPU quota counted, at most 8; 0 on one core).
 */
export function workerThreadsFlag(v: string, cores: number = availableCores()): number {
  if (v === 'auto') return cores <= 1 ? 0 : Math.min(cores, 8);
  if (!/^\d+$/.test(v)) throw new UsageError(`--query.worker-threads: "${v}" is not auto or a number of threads`);
  return Number(v);
}
