import { readFileSync } from 'node:fs';
import { QueryFrontend, parseDownstreamTripperConfig, parseGoDuration, readCacheConfig } from '../pkg/query-frontend/index.js';
import { flagBool, flagList, flagString, UsageError, type Command, type RunContext } from './command.js';
import { httpConfigFlags, httpGracePeriodFlags, globalFlags, requestLoggingIgnoredFlags, experimentalPromqlIgnoredFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { intFlag, waitForShutdown } from './flag-values.js';

/** goDurationFlag parses a Go duration flag (`24h`, `1m`, `0`, `-1s`) into ms. */
function goDurationFlag(ctx: RunContext, name: string): number {
  try {
    return parseGoDuration(flagString(ctx, name));
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/** queryFrontendCommand is `tessera query-frontend` (Thanos `query-frontend`). */
export const queryFrontendCommand: Command = {
  name: 'query-frontend',
  help: 'Query frontend: in front of queriers, splits range queries by time, runs the parts in parallel, caches results (IN-MEMORY or REDIS) and passes every other Prometheus HTTP API request through.',
  flags: {
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen host:port for HTTP endpoints.' },
    'query-frontend.downstream-url': { type: 'string', default: 'http://localhost:9090', help: 'URL of downstream Prometheus Query compatible API.' },
    'query-frontend.downstream-tripper-config-file': { type: 'string', default: '', help: 'Path to a YAML downstream tripper config (Go http.Transport settings: idle_conn_timeout, response_header_timeout, tls_handshake_timeout, max_idle_conns(_per_host), max_conns_per_host, tls_config with ca_file, cert_file, key_file, server_name, insecure_skip_verify).' },
    'query-frontend.downstream-tripper-config': { type: 'string', default: '', help: "Alternative to 'query-frontend.downstream-tripper-config-file' (lower priority): the YAML content." },
    'query-frontend.forward-header': { type: 'string', multiple: true, help: 'Request header forwarded to downstream queriers (repeatable).' },
    'query-frontend.log-queries-longer-than': { type: 'string', default: '0', help: 'Log queries slower than this; 0 disables, < 0 logs every query.' },
    'query-frontend.vertical-shards': { type: 'string', default: '0', help: 'Number of shards for shardable PromQL range queries (aggregations grouped by labels): each split part is asked as this many disjoint sets of series (shard_info) and the answers merged; 0 or 1 disables it. The querier must support shard_info (tessera query and Thanos do).' },
    'query-range.split-interval': { type: 'string', default: '24h', help: 'Split range queries by this interval and run the parts in parallel; must be > 0 for caching.' },
    'query-range.align-range-with-step': { type: 'boolean', default: true, help: 'Align start and end of range queries with their step for better cacheability (default on, as Thanos).' },
    'query-range.request-downsampled': { type: 'boolean', default: true, help: 'Accepted for Thanos compatibility and ignored: no extra query for downsampled data is made.' },
    'query-range.partial-response': { type: 'boolean', default: true, help: 'Send partial_response=true with range queries that do not say (--no-query-range.partial-response: false), as Thanos.' },
    'query-range.min-split-interval': { type: 'string', default: '0', help: 'Accepted for Thanos compatibility at its default 0 only: dynamic (horizontal-shard) splitting is not supported; use --query-range.split-interval.' },
    'query-range.max-split-interval': { type: 'string', default: '0', help: 'Accepted for Thanos compatibility at its default 0 only (see --query-range.min-split-interval).' },
    'query-range.horizontal-shards': { type: 'string', default: '0', help: 'Accepted for Thanos compatibility at its default 0 only (see --query-range.min-split-interval).' },
    'query-range.max-retries-per-request': { type: 'string', default: '5', help: 'Maximum tries of one downstream request (connection errors and 5xx); also used for every passed-through request but instant queries (--query.max-retries-per-request).' },
    'query.max-retries-per-request': { type: 'string', default: '5', help: 'Maximum tries of one instant query downstream (connection errors and 5xx).' },
    'query-range.max-query-length': { type: 'string', default: '0', help: 'Limit the query time range (end - start); 0 disables it.' },
    'query-range.max-query-parallelism': { type: 'string', default: '14', help: 'Maximum number of downstream requests of one query run in parallel.' },
    'query-range.response-cache-config-file': { type: 'string', default: '', help: 'Path to a YAML results cache config (type IN-MEMORY or REDIS).' },
    'query-range.response-cache-config': { type: 'string', default: '', help: "Alternative to 'query-range.response-cache-config-file' (lower priority): the YAML content." },
    'query-range.response-cache-max-freshness': { type: 'string', default: '1m', help: 'Results newer than this are not cached (they may still change).' },
    'labels.split-interval': { type: 'string', default: '24h', help: 'Split labels, label values and series requests by this interval; 0 disables.' },
    'labels.max-retries-per-request': { type: 'string', default: '5', help: 'Maximum tries of one downstream labels, label values or series request (connection errors and 5xx).' },
    'labels.max-query-parallelism': { type: 'string', default: '14', help: 'Maximum number of downstream requests of one labels, label values or series request run in parallel.' },
    'labels.response-cache-max-freshness': { type: 'string', default: '1m', help: 'Split parts of labels, label values and series requests ending later than now minus this are not cached.' },
    'labels.partial-response': { type: 'boolean', default: true, help: 'Send partial_response=true with labels, label values and series requests that do not say (default on).' },
    'no-labels.partial-response': { type: 'boolean', help: 'Send partial_response=false with labels, label values and series requests that do not say.' },
    'labels.default-time-range': { type: 'string', default: '24h', help: 'Time range (now minus this, now) of labels, label values and series requests without start or end; 0 leaves them unbounded (and unsplit).' },
    'labels.response-cache-config-file': { type: 'string', default: '', help: 'Path to a YAML labels response cache config (type IN-MEMORY or REDIS), for labels, label values and series requests.' },
    'labels.response-cache-config': { type: 'string', default: '', help: "Alternative to 'labels.response-cache-config-file' (lower priority): the YAML content." },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored; no CORS headers are set.' },
    'cache-compression-type': { type: 'string', default: '', help: "Accepted for Thanos compatibility ('' or snappy) and ignored: cached results are not compressed." },
    'query-frontend.compress-responses': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored: responses are not compressed.' },
    'query-frontend.force-query-stats': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored.' },
    'query-frontend.org-id-header': { type: 'string', multiple: true, help: 'Accepted for Thanos compatibility and ignored (it names the source of slow queries in Thanos\'s logs).' },
    'query-frontend.slow-query-logs-user-header': { type: 'string', help: 'Accepted for Thanos compatibility and ignored.' },
    'query-frontend.enable-x-functions': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored: the frontend passes every function to the queriers.' },
    'enable-feature': experimentalPromqlIgnoredFlags['enable-feature']!,
    ...requestLoggingIgnoredFlags,
    ...httpConfigFlags,
    ...httpGracePeriodFlags,
    ...globalFlags,
  },
  async run(ctx) {
    const logger = loggerFromFlags(ctx, 'query-frontend');
    const log = (msg: string, fields?: Record<string, unknown>): void => logger.info(msg, fields);
    const shards = intFlag(ctx, 'query-frontend.vertical-shards');
    if (shards < 0) throw new UsageError('--query-frontend.vertical-shards: must be 0 or more');
    for (const f of ['query-range.min-split-interval', 'query-range.max-split-interval', 'query-range.horizontal-shards']) {
      if ((f === 'query-range.horizontal-shards' ? intFlag(ctx, f) : goDurationFlag(ctx, f)) !== 0) throw new UsageError(`--${f}: not supported (dynamic query splitting); use --query-range.split-interval`);
    }
    const compression = flagString(ctx, 'cache-compression-type');
    if (compression !== '' && compression !== 'snappy') throw new UsageError(`--cache-compression-type: "${compression}" is not '' or snappy`);
    const webConfig = await webConfigFromFlags(ctx);
    const tripperFile = flagString(ctx, 'query-frontend.downstream-tripper-config-file');
    let tripperYaml = flagString(ctx, 'query-frontend.downstream-tripper-config');
    if (tripperFile !== '') {
      try {
        tripperYaml = readFileSync(tripperFile, 'utf8');
      } catch (err) {
        throw new UsageError(`--query-frontend.downstream-tripper-config-file: read ${tripperFile}: ${(err as Error).message}`);
      }
    }
    const downstreamTripper = parseDownstreamTripperConfig(tripperYaml);
    const fe = new QueryFrontend({
      httpAddress: flagString(ctx, 'http-address'),
      downstreamUrl: flagString(ctx, 'query-frontend.downstream-url'),
      splitIntervalMs: goDurationFlag(ctx, 'query-range.split-interval'),
      alignRangeWithStep: flagBool(ctx, 'query-range.align-range-with-step'),
      httpGracePeriodMs: goDurationFlag(ctx, 'http-grace-period'),
      maxRetries: intFlag(ctx, 'query-range.max-retries-per-request'),
      instantMaxRetries: intFlag(ctx, 'query.max-retries-per-request'),
      maxQueryLengthMs: goDurationFlag(ctx, 'query-range.max-query-length'),
      maxQueryParallelism: intFlag(ctx, 'query-range.max-query-parallelism'),
      maxFreshnessMs: goDurationFlag(ctx, 'query-range.response-cache-max-freshness'),
      labelsSplitIntervalMs: goDurationFlag(ctx, 'labels.split-interval'),
      labelsMaxRetries: intFlag(ctx, 'labels.max-retries-per-request'),
      labelsMaxQueryParallelism: intFlag(ctx, 'labels.max-query-parallelism'),
      labelsMaxFreshnessMs: goDurationFlag(ctx, 'labels.response-cache-max-freshness'),
      rangePartialResponse: flagBool(ctx, 'query-range.partial-response'),
      labelsPartialResponse: flagBool(ctx, 'labels.partial-response') && !flagBool(ctx, 'no-labels.partial-response'),
      labelsDefaultTimeRangeMs: goDurationFlag(ctx, 'labels.default-time-range'),
      labelsResponseCacheConfig: readCacheConfig(flagString(ctx, 'labels.response-cache-config-file'), flagString(ctx, 'labels.response-cache-config')),
      logQueriesLongerThanMs: goDurationFlag(ctx, 'query-frontend.log-queries-longer-than'),
      forwardHeaders: flagList(ctx, 'query-frontend.forward-header'),
      verticalShards: shards,
      responseCacheConfig: readCacheConfig(flagString(ctx, 'query-range.response-cache-config-file'), flagString(ctx, 'query-range.response-cache-config')),
      downstreamTripper,
      log,
      warn: (msg, fields) => logger.warn(msg, fields),
      ...(webConfig !== undefined ? { webConfig } : {}),
    });
    await fe.start();
    log('listening', { http: fe.httpPort, downstream: flagString(ctx, 'query-frontend.downstream-url') });
    const sig = await waitForShutdown();
    log('shutting down', { signal: sig });
    await fe.stop();
  },
};
