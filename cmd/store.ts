import { collectDefaultMetrics, Registry } from 'prom-client';
import { UsageError, flagBool, flagString, type Command, type RunContext } from './command.js';
import { bucketWebFlags, gracePeriodFlags, grpcServerCredentialsFromFlags, grpcServerConnectionFlags, grpcServerTlsFlags, requestLoggingIgnoredFlags, httpConfigFlags, globalFlags, loggerFromFlags, objstoreFlags, webConfigFromFlags } from './common-flags.js';
import { bytesFlag, fileOrInlineFlag, modelDurationFlag, splitHostPort, timeRangeFlags } from './flag-values.js';
import { shutdownOnSignals } from './shutdown-signal.js';
import { BlockErrorCode, parseRelabelConfigs } from '../pkg/block/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, readObjstoreFlags } from '../pkg/objstore/index.js';
import { parseCachingBucketConfig, parseIndexCacheConfig } from '../pkg/store/index.js';
import { StoreGateway } from '../pkg/store-gateway/index.js';

/** storeCommand runs the store gateway: the StoreAPI over the blocks of a bucket. */
export const storeCommand: Command = {
  name: 'store',
  help: 'Store gateway: serves the blocks of an object storage bucket over the StoreAPI (gRPC).',
  flags: {
    ...objstoreFlags,
    'data-dir': { type: 'string', default: './data', help: 'Local data directory for index-headers and cached meta.json files.' },
    'grpc-address': { type: 'string', default: '0.0.0.0:10901', help: 'Listen address for the gRPC StoreAPI/Info server.' },
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen address for HTTP: /metrics, /-/healthy, /-/ready, /api/v1/blocks and the bucket UI (the loaded blocks).' },
    ...bucketWebFlags,
    'web.disable': { type: 'boolean', default: false, help: 'Disable the bucket UI and /api/v1/blocks (health, metrics and status stay).' },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored; no CORS headers are set.' },
    'index-cache-size': { type: 'string', default: '250MB', help: 'Maximum size of the in-memory index cache (postings and series), e.g. 250MB, 1GiB. Ignored if --index-cache.config or --index-cache.config-file is set.' },
    'index-cache.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the index cache configuration (type IN-MEMORY or REDIS, Thanos format); overrides --index-cache-size.' },
    'index-cache.config': { type: 'string', default: '', help: "Alternative to 'index-cache.config-file' flag (mutually exclusive): the YAML content." },
    'store.caching-bucket.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the chunk cache (caching bucket) configuration (type IN-MEMORY or REDIS, Thanos format); overrides --store.chunk-cache-size.' },
    'store.caching-bucket.config': { type: 'string', default: '', help: "Alternative to 'store.caching-bucket.config-file' flag (mutually exclusive): the YAML content." },
    'store.chunk-cache-size': { type: 'string', default: '256MB', help: 'Maximum size of the in-memory chunk cache (chunk records of recent queries, with their hashes), e.g. 256MB (0 disables).' },
    'store.index-header-cache-size': { type: 'string', default: '1GB', help: 'Maximum memory of loaded index-headers; the least recently used are unloaded beyond it and reloaded from --data-dir on use (0 = no limit).' },
    'cache-index-header': { type: 'boolean', default: true, help: 'Accepted for Thanos compatibility and ignored: index-headers are always cached in --data-dir.' },
    'chunk-pool-size': { type: 'string', default: '2GB', help: 'Accepted for Thanos compatibility; chunks are not pooled.' },
    'sync-block-duration': { type: 'string', default: '15m', help: 'Repeat interval for syncing the blocks between local and remote view.' },
    'block-sync-concurrency': { type: 'string', default: '20', help: 'Number of goroutines (tasks) reading block markers while syncing.' },
    'block-meta-fetch-concurrency': { type: 'string', default: '32', help: 'Number of meta.json files read concurrently while syncing.' },
    'block-discovery-strategy': { type: 'string', default: 'recursive', help: 'How blocks are discovered: recursive (one listing of the bucket) or concurrent (list block dirs, probe each meta.json). Thanos defaults to concurrent; recursive makes fewer bucket requests.' },
    'min-time': { type: 'string', default: '', help: 'Serve only blocks with data at or after this time: RFC3339, Unix ms, or a duration relative to now (e.g. -2w).' },
    'max-time': { type: 'string', default: '', help: 'Serve only blocks with data at or before this time: RFC3339, Unix ms, or a duration relative to now (e.g. -1d).' },
    'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs applied to block external labels (keep/drop) to select blocks.' },
    'selector.relabel-config': { type: 'string', help: 'Relabel configs in YAML (alternative to --selector.relabel-config-file).' },
    'ignore-deletion-marks-delay': { type: 'string', default: '24h', help: 'Blocks whose deletion mark is older than this are no longer served.' },
    'consistency-delay': { type: 'string', default: '0s', help: 'Accepted for Thanos compatibility (deprecated there).' },
    'store.limits.request-series': { type: 'string', default: '0', help: 'Maximum series a single Series request may touch (0 = no limit).' },
    'store.limits.request-samples': { type: 'string', default: '0', help: 'Maximum samples a single Series request may return (0 = no limit).' },
    'store.grpc.series-sample-limit': { type: 'string', default: '0', help: 'Deprecated (as in Thanos): use --store.limits.request-samples, which wins when both are set.' },
    'store.grpc.touched-series-limit': { type: 'string', default: '0', help: 'Deprecated (as in Thanos): use --store.limits.request-series, which wins when both are set.' },
    'store.grpc.downloaded-bytes-limit': { type: 'string', default: '0', help: 'Maximum bytes a single Series request may read from the bucket, e.g. 100MB (0 = no limit).' },
    'store.grpc.series-memory-limit': { type: 'string', default: '512MB', help: 'Maximum fetched index and chunk data one Series request may hold in memory at once; beyond it the request fails with RESOURCE_EXHAUSTED (0 = no limit).' },
    'store.grpc.series-max-concurrency': { type: 'string', default: '20', help: 'Maximum number of concurrent Series calls.' },
    'store.enable-index-header-lazy-reader': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored: index-headers are always loaded lazily, on first use.' },
    'store.index-header-lazy-reader-idle-timeout': { type: 'string', default: '5m', help: 'Unload index-headers not used for this long (0 disables).' },
    'store.enable-lazy-expanded-postings': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored (a Thanos postings tunable).' },
    'store.posting-group-max-key-series-ratio': { type: 'string', default: '100', help: 'Accepted for Thanos compatibility and ignored (a Thanos postings tunable).' },
    'store.index-header-lazy-download-strategy': { type: 'string', default: 'eager', help: 'Accepted for Thanos compatibility and ignored: index-headers are built from the index when a block is loaded.' },
    'matcher-cache-size': { type: 'string', default: '0', help: 'Accepted for Thanos compatibility and ignored (a Thanos matcher cache).' },
    ...requestLoggingIgnoredFlags,
    ...grpcServerTlsFlags,
    ...grpcServerConnectionFlags,
    ...httpConfigFlags,
    ...gracePeriodFlags,
    ...globalFlags,
  },
  run: runStore,
};

function int(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: "${v}" is not a non-negative integer`);
  return Number(v);
}

async function runStore(ctx: RunContext): Promise<number> {
  const logger = loggerFromFlags(ctx, 'store');
  const { minTime, maxTime } = timeRangeFlags(ctx, Date.now());
  const discovery = flagString(ctx, 'block-discovery-strategy');
  if (discovery !== 'recursive' && discovery !== 'concurrent') throw new UsageError(`--block-discovery-strategy: "${discovery}" is not recursive or concurrent`);
  const http = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
  const grpcAddress = flagString(ctx, 'grpc-address');
  splitHostPort(grpcAddress, 'grpc-address');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let gateway: StoreGateway;
  try {
    const relabel = parseRelabelConfigs(await fileOrInlineFlag(ctx, 'selector.relabel-config', BlockErrorCode.RelabelConfig));
    const yaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'));
    const bucket = newBucketFromConfig(yaml, { component: 'store', registry });
    const indexCacheConfig = parseIndexCacheConfig(await fileOrInlineFlag(ctx, 'index-cache.config', 'TESSERA_CACHE_CONFIG'));
    const cachingBucketConfig = parseCachingBucketConfig(await fileOrInlineFlag(ctx, 'store.caching-bucket.config', 'TESSERA_CACHE_CONFIG'));
    const grpcCredentials = await grpcServerCredentialsFromFlags(ctx);
    const webConfig = await webConfigFromFlags(ctx);
    gateway = new StoreGateway({
      bucket,
      dataDir: flagString(ctx, 'data-dir'),
      grpcAddress,
      httpHost: http.host,
      httpPort: http.port,
      registry,
      logger,
      indexCacheBytes: bytesFlag(ctx, 'index-cache-size'),
      chunkCacheBytes: bytesFlag(ctx, 'store.chunk-cache-size'),
      headerCacheBytes: bytesFlag(ctx, 'store.index-header-cache-size'),
      syncIntervalMs: modelDurationFlag(ctx, 'sync-block-duration'),
      blockSyncConcurrency: int(ctx, 'block-sync-concurrency'),
      metaFetchConcurrency: int(ctx, 'block-meta-fetch-concurrency'),
      ignoreDeletionMarksDelayMs: modelDurationFlag(ctx, 'ignore-deletion-marks-delay'),
      ...(minTime !== undefined ? { minTime } : {}),
      ...(maxTime !== undefined ? { maxTime } : {}),
      relabel,
      limits: {
        maxSamples: int(ctx, 'store.limits.request-samples') || int(ctx, 'store.grpc.series-sample-limit'),
        maxTouchedSeries: int(ctx, 'store.limits.request-series') || int(ctx, 'store.grpc.touched-series-limit'),
        maxDownloadedBytes: bytesFlag(ctx, 'store.grpc.downloaded-bytes-limit'),
        maxInFlightBytes: bytesFlag(ctx, 'store.grpc.series-memory-limit'),
      },
      maxConcurrency: int(ctx, 'store.grpc.series-max-concurrency'),
      idleTimeoutMs: modelDurationFlag(ctx, 'store.index-header-lazy-reader-idle-timeout'),
      discovery,
      grpcCredentials,
      grpcGracePeriodMs: modelDurationFlag(ctx, 'grpc-grace-period'),
      httpGracePeriodMs: modelDurationFlag(ctx, 'http-grace-period'),
      grpcMaxConnectionAgeMs: modelDurationFlag(ctx, 'grpc-server-max-connection-age'),
      bucketWebLabel: flagString(ctx, 'bucket-web-label'),
      disableAdminOperations: flagBool(ctx, 'disable-admin-operations'),
      disableWeb: flagBool(ctx, 'web.disable'),
      externalPrefix: flagString(ctx, 'web.external-prefix'),
      ...(webConfig !== undefined ? { webConfig } : {}),
      ...(indexCacheConfig !== undefined ? { indexCacheConfig } : {}),
      ...(cachingBucketConfig !== undefined ? { cachingBucketConfig } : {}),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (isTesseraError(err)) {
      logger.error('configure store gateway', { err });
      return 1;
    }
    throw err;
  }
  void flagBool(ctx, 'store.enable-index-header-lazy-reader');

  const shutdown = shutdownOnSignals(logger);
  try {
    try {
      await gateway.start();
    } catch (err) {
      logger.error('start store gateway', { err });
      return 1;
    }
    await shutdown.stopped();
    return 0;
  } finally {
    shutdown.dispose();
    await gateway.stop();
  }
}
