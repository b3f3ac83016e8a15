import { readFile } from 'node:fs/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { UsageError, flagBool, flagString, type Command, type RunContext } from './command.js';
import { grpcGracePeriodFlags, grpcServerCredentialsFromFlags, grpcServerTlsFlags, httpConfigFlags, logFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { parseTimeFlag, splitHostPort } from './flag-values.js';
import { parseRelabelConfigs } from '../pkg/block/index.js';
import { TesseraError, isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, parseDuration, readObjstoreFlags } from '../pkg/objstore/index.js';
import { parseCachingBucketConfig, parseIndexCacheConfig } from '../pkg/store/index.js';
import { StoreGateway } from '../pkg/store-gateway/index.js';

/** storeCommand runs the store gateway: the StoreAPI over the blocks of a bucket. */
export const storeCommand: Command = {
  name: 'store',
  help: 'Store gateway: serves the blocks of an object storage bucket over the StoreAPI (gRPC).',
  flags: {
    'objstore.config-file': { type: 'string', help: 'Path to YAML file that contains object store configuration.' },
    'objstore.config': { type: 'string', help: 'Object store configuration in YAML (alternative to --objstore.config-file).' },
    'data-dir': { type: 'string', default: './data', help: 'Local data directory for index-headers and cached meta.json files.' },
    'grpc-address': { type: 'string', default: '0.0.0.0:10901', help: 'Listen address for the gRPC StoreAPI/Info server.' },
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen address for HTTP: /metrics, /-/healthy, /-/ready, /api/v1/blocks and the bucket UI (the loaded blocks).' },
    'web.external-prefix': { type: 'string', default: '', help: 'Static prefix for all HTML links and redirect URLs in the bucket web UI interface (behind a path-stripping reverse proxy).' },
    'web.prefix-header': { type: 'string', default: '', help: 'Accepted for Thanos compatibility; the UI uses --web.external-prefix.' },
    'bucket-web-label': { type: 'string', default: '', help: 'External block label to use as group title in the bucket web UI.' },
    'disable-admin-operations': { type: 'boolean', default: false, help: 'Disable UI/API admin operations like marking blocks for deletion and no compaction.' },
    'index-cache-size': { type: 'string', default: '250MB', help: 'Maximum size of the in-memory index cache (postings and series), e.g. 250MB, 1GiB. Ignored if --index-cache.config or --index-cache.config-file is set.' },
    'index-cache.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the index cache configuration (type IN-MEMORY or REDIS, Thanos format); overrides --index-cache-size.' },
    'index-cache.config': { type: 'string', default: '', help: "Alternative to 'index-cache.config-file' flag (mutually exclusive): the YAML content." },
    'store.caching-bucket.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the chunk cache (caching bucket) configuration (type IN-MEMORY or REDIS, Thanos format); overrides --store.chunk-cache-size.' },
    'store.caching-bucket.config': { type: 'string', default: '', help: "Alternative to 'store.caching-bucket.config-file' flag (mutually exclusive): the YAML content." },
    'store.chunk-cache-size': { type: 'string', default: '256MB', help: 'Maximum size of the in-memory chunk cache (chunk records of recent queries, with their hashes), e.g. 256MB (0 disables).' },
    'store.index-header-cache-size': { type: 'string', default: '1GB', help: 'Maximum memory of loaded index-headers; the least recently used are unloaded beyond it and reloaded from --data-dir on use (0 = no limit).' },
    'chunk-pool-size': { type: 'string', default: '2GB', help: 'Accepted for Thanos compatibility; chunks are not pooled.' },
    'sync-block-duration': { type: 'string', default: '15m', help: 'Repeat interval for syncing the blocks between local and remote view.' },
    'block-sync-concurrency': { type: 'string', default: '20', help: 'Number of goroutines (tasks) reading block markers while syncing.' },
    'block-meta-fetch-concurrency': { type: 'string', default: '32', help: 'Number of meta.json files read concurrently while syncing.' },
    'block-discovery-strategy': { type: 'string', default: 'recursive', help: 'How blocks are discovered: recursive (one listing of the bucket) or concurrent (list block dirs, probe each meta.json).' },
    'min-time': { type: 'string', default: '', help: 'Serve only blocks with data at or after this time: RFC3339, Unix ms, or a duration relative to now (e.g. -2w).' },
    'max-time': { type: 'string', default: '', help: 'Serve only blocks with data at or before this time: RFC3339, Unix ms, or a duration relative to now (e.g. -1d).' },
    'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs applied to block external labels (keep/drop) to select blocks.' },
    'selector.relabel-config': { type: 'string', help: 'Relabel configs in YAML (alternative to --selector.relabel-config-file).' },
    'ignore-deletion-marks-delay': { type: 'string', default: '24h', help: 'Blocks whose deletion mark is older than this are no longer served.' },
    'consistency-delay': { type: 'string', default: '0s', help: 'Accepted for Thanos compatibility (deprecated there).' },
    'store.grpc.series-sample-limit': { type: 'string', default: '0', help: 'Maximum samples a single Series request may return (0 = no limit).' },
    'store.grpc.touched-series-limit': { type: 'string', default: '0', help: 'Maximum series a single Series request may touch (0 = no limit).' },
    'store.grpc.downloaded-bytes-limit': { type: 'string', default: '0', help: 'Maximum bytes a single Series request may read from the bucket, e.g. 100MB (0 = no limit).' },
    'store.grpc.series-memory-limit': { type: 'string', default: '512MB', help: 'Maximum fetched index and chunk data one Series request may hold in memory at once; beyond it the request fails with RESOURCE_EXHAUSTED (0 = no limit).' },
    'store.grpc.series-max-concurrency': { type: 'string', default: '20', help: 'Maximum number of concurrent Series calls.' },
    'store.enable-index-header-lazy-reader': { type: 'boolean', default: true, help: 'Index-headers are always loaded lazily, on first use (accepted for Thanos compatibility).' },
    'store.index-header-lazy-reader-idle-timeout': { type: 'string', default: '5m', help: 'Unload index-headers not used for this long (0 disables).' },
    ...grpcServerTlsFlags,
    ...httpConfigFlags,
    ...grpcGracePeriodFlags,
    ...logFlags,
  },
  run: runStore,
};

function duration(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const ms = parseDuration(v);
  if (ms === undefined) throw new UsageError(`--${name}: invalid duration "${v}"`);
  return ms;
}

function int(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: "${v}" is not a non-negative integer`);
  return Number(v);
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

/** parseBytes parses a Thanos byte size flag ("250MB" = 250 MiB, as Go's units.Base2Bytes). */
export function parseBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  if (m === null) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

function bytes(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const n = parseBytes(v);
  if (n === undefined) throw new UsageError(`--${name}: invalid byte size "${v}"`);
  return n;
}

/** configFlags reads `--<name>-file` or `--<name>` (YAML content); '' when neither is set. */
async function configFlags(ctx: RunContext, name: string): Promise<string> {
  const file = flagString(ctx, `${name}-file`);
  const inline = flagString(ctx, name);
  if (file !== '' && inline !== '') throw new UsageError(`both --${name}-file and --${name} are set; use one`);
  if (file === '') return inline;
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TesseraError('TESSERA_CACHE_CONFIG', `read --${name}-file ${file}`, { cause: err });
  }
}

async function runStore(ctx: RunContext): Promise<number> {
  const logger = loggerFromFlags(ctx, 'store');
  const now = Date.now();
  const minTime = parseTimeFlag(flagString(ctx, 'min-time'), now, 'min-time');
  const maxTime = parseTimeFlag(flagString(ctx, 'max-time'), now, 'max-time');
  if (minTime !== undefined && maxTime !== undefined && minTime > maxTime) throw new UsageError('--min-time is after --max-time');
  const discovery = flagString(ctx, 'block-discovery-strategy');
  if (discovery !== 'recursive' && discovery !== 'concurrent') throw new UsageError(`--block-discovery-strategy: "${discovery}" is not recursive or concurrent`);
  const http = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
  const grpcAddress = flagString(ctx, 'grpc-address');
  splitHostPort(grpcAddress, 'grpc-address');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let gateway: StoreGateway;
  try {
    const relabelFile = flagString(ctx, 'selector.relabel-config-file');
    const relabelInline = flagString(ctx, 'selector.relabel-config');
    if (relabelFile !== '' && relabelInline !== '') throw new UsageError('both --selector.relabel-config-file and --selector.relabel-config are set; use one');
    const relabel = parseRelabelConfigs(relabelFile !== '' ? await readFile(relabelFile, 'utf8') : relabelInline);
    const yaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'));
    const bucket = newBucketFromConfig(yaml, { component: 'store', registry });
    const indexCacheConfig = parseIndexCacheConfig(await configFlags(ctx, 'index-cache.config'));
    const cachingBucketConfig = parseCachingBucketConfig(await configFlags(ctx, 'store.caching-bucket.config'));
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
      indexCacheBytes: bytes(ctx, 'index-cache-size'),
      chunkCacheBytes: bytes(ctx, 'store.chunk-cache-size'),
      headerCacheBytes: bytes(ctx, 'store.index-header-cache-size'),
      syncIntervalMs: duration(ctx, 'sync-block-duration'),
      blockSyncConcurrency: int(ctx, 'block-sync-concurrency'),
      metaFetchConcurrency: int(ctx, 'block-meta-fetch-concurrency'),
      ignoreDeletionMarksDelayMs: duration(ctx, 'ignore-deletion-marks-delay'),
      ...(minTime !== undefined ? { minTime } : {}),
      ...(maxTime !== undefined ? { maxTime } : {}),
      relabel,
      limits: {
        maxSamples: int(ctx, 'store.grpc.series-sample-limit'),
        maxTouchedSeries: int(ctx, 'store.grpc.touched-series-limit'),
        maxDownloadedBytes: bytes(ctx, 'store.grpc.downloaded-bytes-limit'),
        maxInFlightBytes: bytes(ctx, 'store.grpc.series-memory-limit'),
      },
      maxConcurrency: int(ctx, 'store.grpc.series-max-concurrency'),
      idleTimeoutMs: duration(ctx, 'store.index-header-lazy-reader-idle-timeout'),
      discovery,
      grpcCredentials,
      grpcGracePeriodMs: duration(ctx, 'grpc-grace-period'),
      bucketWebLabel: flagString(ctx, 'bucket-web-label'),
      disableAdminOperations: flagBool(ctx, 'disable-admin-operations'),
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

  const ac = new AbortController();
  const onSignal = (sig: string) => () => {
    logger.info('shutting down', { signal: sig });
    ac.abort();
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  try {
    try {
      await gateway.start();
    } catch (err) {
      logger.error('start store gateway', { err });
      return 1;
    }
    await new Promise<void>((resolve) => {
      if (ac.signal.aborted) resolve();
      else ac.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 0;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await gateway.stop();
  }
}
