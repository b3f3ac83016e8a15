import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { UsageError, flagBool, flagString, type Command, type RunContext } from './command.js';
import { bucketWebFlags, gracePeriodFlags, hashFuncFlags, hashFuncFromFlags, httpConfigFlags, globalFlags, loggerFromFlags, objstoreFlags, webConfigFromFlags } from './common-flags.js';
import { fileOrInlineFlag, listFlag, modelDurationFlag, splitHostPort, timeRangeFlags } from './flag-values.js';
import { shutdownOnSignals } from './shutdown-signal.js';
import { BucketBlocksView, blockMarkAction } from '../pkg/api/index.js';
import { BlockErrorCode, LabelShardedMetaFilter, parseRelabelConfigs } from '../pkg/block/index.js';
import { BucketLease, CompactService, Compactor, CompactorErrorCode, PARTIAL_UPLOAD_THRESHOLD_MS, compactionLevels, newStreamingMerger } from '../pkg/compactor/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, readObjstoreFlags } from '../pkg/objstore/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** compactCommand runs the compactor over a bucket (Thanos's `thanos compact`). */
export const compactCommand: Command = {
  name: 'compact',
  help: 'Continuously compacts blocks in an object store bucket: merges 2h blocks into 8h, 2d and 14d blocks, deduplicates replicas, downsamples (5m, 1h, 1d), applies retention. Never halts: faulty blocks get a no-compact mark.',
  flags: {
    ...objstoreFlags,
    'data-dir': { type: 'string', default: './data', help: 'Data directory in which to cache blocks and process compactions.' },
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen address for HTTP (/metrics, /-/healthy, /-/ready, /api/v1/blocks and the bucket UI) when --wait is set.' },
    'http-grace-period': gracePeriodFlags['http-grace-period']!,
    'consistency-delay': { type: 'string', default: '30m', help: 'Minimum age of fresh (non-compacted) blocks before they are processed. Malformed blocks (no meta.json) older than the maximum of consistency-delay and 48h are removed.' },
    'retention.resolution-raw': { type: 'string', default: '0d', help: 'How long to retain raw samples in the bucket. 0d = forever.' },
    'retention.resolution-5m': { type: 'string', default: '0d', help: 'How long to retain samples of resolution 1 (5 minutes) in the bucket. 0d = forever.' },
    'retention.resolution-1h': { type: 'string', default: '0d', help: 'How long to retain samples of resolution 2 (1 hour) in the bucket. 0d = forever.' },
    'retention.resolution-1d': { type: 'string', default: '0d', help: 'How long to retain samples of the 1-day resolution (Tessera only) in the bucket. 0d = forever.' },
    wait: { type: 'boolean', default: false, help: 'Do not exit after all compactions have been processed and wait for new work.' },
    'wait-interval': { type: 'string', default: '5m', help: 'Wait interval between consecutive compaction runs and bucket refreshes. Only works when --wait flag specified.' },
    'downsampling.disable': { type: 'boolean', default: false, help: 'Disables downsampling (raw → 5m at 40h blocks, 5m → 1h at 10d blocks, 1h → 1d at 14d blocks). Not recommended: queries over long ranges then read raw data.' },
    'downsampling.disable-1d': { type: 'boolean', default: false, help: 'Do not downsample 1h blocks to 1d. Set it when a Thanos compactor or store also works on this bucket: Thanos does not know the 1d resolution (its compactor fails on such blocks, its store skips them).' },
    'deduplication.replica-label': { type: 'string', multiple: true, help: 'Label to treat as a replica indicator of blocks that can be deduplicated (repeated flag). Merges the replicas into one block; irreversible.' },
    'deduplication.func': { type: 'string', default: '', help: 'Deduplication algorithm for merging overlapping blocks: "" (one sample per timestamp, for identical replicas) or "penalty" (the querier\'s penalty dedup; needs --deduplication.replica-label).' },
    'compact.concurrency': { type: 'string', default: '1', help: 'Number of groups compacted at once.' },
    'compact.cleanup-interval': { type: 'string', default: '5m', help: 'How often blocks marked for deletion and partial uploads are cleaned up between passes with --wait (0s = only at the end of a pass).' },
    'compact.lease-duration': { type: 'string', default: '2m', help: 'How long the bucket lease lasts without renewal; a second compactor on the bucket waits (--wait) or exits.' },
    'debug.max-compaction-level': { type: 'string', default: '4', help: 'Maximum compaction level: 1=2h, 2=8h, 3=2d, 4=14d.' },
    'downsample.concurrency': { type: 'string', default: '1', help: 'Number of blocks downsampled at once.' },
    'block-meta-fetch-concurrency': { type: 'string', default: '32', help: 'Number of meta.json files read concurrently.' },
    'delete-delay': { type: 'string', default: '48h', help: 'Time before a block marked for deletion is deleted from the bucket (0s = at once).' },
    'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs applied to block external labels to select the blocks to compact.' },
    'selector.relabel-config': { type: 'string', help: 'Relabel configs in YAML (alternative to --selector.relabel-config-file).' },
    'min-time': { type: 'string', default: '', help: 'Compact only blocks with data at or after this time: RFC3339, Unix ms, or a duration relative to now (e.g. -2w).' },
    'max-time': { type: 'string', default: '', help: 'Compact only blocks with data at or before this time: RFC3339, Unix ms, or a duration relative to now (e.g. -1d).' },
    ...hashFuncFlags,
    'block-discovery-strategy': { type: 'string', default: 'concurrent', help: 'How blocks are discovered: concurrent (list block dirs, probe each meta.json) or recursive (one listing of the whole bucket).' },
    'block-files-concurrency': { type: 'string', default: '1', help: 'Accepted for Thanos compatibility.' },
    'compact.blocks-fetch-concurrency': { type: 'string', default: '1', help: 'Accepted for Thanos compatibility.' },
    'compact.progress-interval': { type: 'string', default: '5m', help: 'Accepted for Thanos compatibility.' },
    'compact.enable-vertical-compaction': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility: overlapping blocks of a group are always merged (vertical compaction).' },
    'compact.skip-block-with-out-of-order-chunks': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility: blocks with out-of-order chunks are always repaired or marked no-compact, never a halt.' },
    'debug.halt-on-error': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility: tessera compact never halts.' },
    'web.disable': { type: 'boolean', default: false, help: 'Disable the block viewer UI and /api/v1/blocks (served with --wait).' },
    'web.route-prefix': { type: 'string', default: '', help: 'Prefix for API and UI endpoints. Defaults to the value of --web.external-prefix.' },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility; no CORS headers are set.' },
    ...bucketWebFlags,
    'block-viewer.global.sync-block-interval': { type: 'string', default: '1m', help: 'Repeat interval for syncing the blocks between local and remote view for the /global Block Viewer UI.' },
    'block-viewer.global.sync-block-timeout': { type: 'string', default: '5m', help: 'Maximum time for syncing the blocks between local and remote view for the /global Block Viewer UI.' },
    ...httpConfigFlags,
    ...globalFlags,
  },
  run: runCompact,
};

function positiveInt(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name}: "${v}" is not a positive integer`);
  return Number(v);
}

async function runCompact(ctx: RunContext): Promise<number> {
  const logger = loggerFromFlags(ctx, 'compact');
  const wait = flagBool(ctx, 'wait');
  const http = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
  const replicaLabels = listFlag(ctx, 'deduplication.replica-label');
  const dedupFunc = flagString(ctx, 'deduplication.func');
  if (dedupFunc !== '' && dedupFunc !== 'penalty') throw new UsageError(`--deduplication.func: unsupported deduplication func "${dedupFunc}" (want "" or "penalty")`);
  if (dedupFunc === 'penalty' && replicaLabels.length === 0) throw new UsageError('--deduplication.func=penalty needs at least one --deduplication.replica-label');
  const maxLevel = Number(flagString(ctx, 'debug.max-compaction-level'));
  let levels: number[];
  try {
    levels = compactionLevels(maxLevel);
  } catch (err) {
    throw new UsageError(`--debug.max-compaction-level: ${(err as Error).message}`);
  }
  const retention = new Map<number, number>([
    [0, modelDurationFlag(ctx, 'retention.resolution-raw')],
    [300_000, modelDurationFlag(ctx, 'retention.resolution-5m')],
    [3_600_000, modelDurationFlag(ctx, 'retention.resolution-1h')],
    [86_400_000, modelDurationFlag(ctx, 'retention.resolution-1d')],
  ]);
  const downsampling = !flagBool(ctx, 'downsampling.disable');
  const raw = retention.get(0)!;
  const fiveM = retention.get(300_000)!;
  if (downsampling && raw !== 0 && raw < 40 * HOUR) {
    throw new UsageError('--retention.resolution-raw: raw resolution must be higher than the minimum block size after which 5m resolution downsampling will occur (40 hours); or set --downsampling.disable');
  }
  if (downsampling && fiveM !== 0 && fiveM < 10 * DAY) {
    throw new UsageError('--retention.resolution-5m: 5m resolution retention must be higher than the minimum block size after which 1h resolution downsampling will occur (10 days); or set --downsampling.disable');
  }
  const oneH = retention.get(3_600_000)!;
  if (downsampling && !flagBool(ctx, 'downsampling.disable-1d') && oneH !== 0 && oneH < 14 * DAY) {
    throw new UsageError('--retention.resolution-1h: 1h resolution retention must be at least the minimum block size after which 1d downsampling occurs (14 days); or set --downsampling.disable-1d');
  }
  const dataDir = flagString(ctx, 'data-dir');
  const consistencyDelayMs = modelDurationFlag(ctx, 'consistency-delay');
  const deleteDelayMs = modelDurationFlag(ctx, 'delete-delay');
  const intervalMs = modelDurationFlag(ctx, 'wait-interval');
  const httpGracePeriodMs = modelDurationFlag(ctx, 'http-grace-period');
  void flagBool(ctx, 'web.disable-cors');
  const cleanupIntervalMs = modelDurationFlag(ctx, 'compact.cleanup-interval');
  const viewIntervalMs = modelDurationFlag(ctx, 'block-viewer.global.sync-block-interval');
  const viewTimeoutMs = modelDurationFlag(ctx, 'block-viewer.global.sync-block-timeout');
  if (viewIntervalMs <= 0) throw new UsageError('--block-viewer.global.sync-block-interval must be positive');
  const leaseMs = modelDurationFlag(ctx, 'compact.lease-duration');
  if (leaseMs < 1000) throw new UsageError('--compact.lease-duration: must be at least 1s');
  const concurrency = positiveInt(ctx, 'compact.concurrency');
  positiveInt(ctx, 'block-files-concurrency');
  positiveInt(ctx, 'compact.blocks-fetch-concurrency');
  modelDurationFlag(ctx, 'compact.progress-interval');
  const hashFunc = hashFuncFromFlags(ctx);
  const discovery = flagString(ctx, 'block-discovery-strategy');
  if (discovery !== 'recursive' && discovery !== 'concurrent') throw new UsageError(`--block-discovery-strategy: "${discovery}" is not recursive or concurrent`);
  const { minTime, maxTime } = timeRangeFlags(ctx, Date.now());
  const downsampleConcurrency = positiveInt(ctx, 'downsample.concurrency');
  const metaFetchConcurrency = positiveInt(ctx, 'block-meta-fetch-concurrency');

  const relabelFile = flagString(ctx, 'selector.relabel-config-file');
  let relabelText;
  try {
    relabelText = await fileOrInlineFlag(ctx, 'selector.relabel-config', BlockErrorCode.RelabelConfig);
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    logger.error(err.message, { err: err.cause });
    return 1;
  }
  let relabel;
  try {
    relabel = parseRelabelConfigs(relabelText);
  } catch (err) {
    logger.error(`parse ${relabelFile !== '' ? `--selector.relabel-config-file ${relabelFile}` : '--selector.relabel-config'}`, { err });
    return 1;
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const configFile = flagString(ctx, 'objstore.config-file');
  let bucket;
  let webConfig;
  try {
    webConfig = await webConfigFromFlags(ctx);
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    logger.error('read web configuration', { err });
    return 1;
  }
  try {
    const yaml = await readObjstoreFlags(configFile, flagString(ctx, 'objstore.config'));
    bucket = newBucketFromConfig(yaml, { component: 'compact', registry });
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    const inline = flagString(ctx, 'objstore.config');
    logger.error(
      configFile === '' && inline === ''
        ? 'configure bucket: one of --objstore.config-file or --objstore.config is required'
        : `configure bucket from ${configFile !== '' ? `--objstore.config-file ${configFile}` : '--objstore.config'}`,
      { err },
    );
    return 1;
  }
  const lease = new BucketLease({ bucket, owner: `${hostname()}:${resolve(dataDir)}`, ttlMs: leaseMs, logger });
  const compactor = new Compactor({
    bucket,
    dataDir,
    merger: newStreamingMerger({ dedupFunc, replicaLabels }),
    consistencyDelayMs,
    // As Thanos: a block without meta.json is an aborted upload once it is older than both the
    // consistency delay and 48h (an upload may still be in progress before that).
    partialUploadThresholdMs: Math.max(consistencyDelayMs, PARTIAL_UPLOAD_THRESHOLD_MS),
    deleteDelayMs,
    retentionMs: retention,
    downsampling,
    disable1d: flagBool(ctx, 'downsampling.disable-1d'),
    downsampleConcurrency,
    replicaLabels,
    concurrency,
    relabel,
    levels,
    metaFetchConcurrency,
    hashFunc,
    discovery,
    ...(minTime !== undefined ? { minTime } : {}),
    ...(maxTime !== undefined ? { maxTime } : {}),
    lease,
    registry,
    logger,
  });
  const externalPrefix = flagString(ctx, 'web.external-prefix');
  const blocksView =
    wait && !flagBool(ctx, 'web.disable')
      ? new BucketBlocksView({
          bucket,
          label: flagString(ctx, 'bucket-web-label'),
          filters: relabel.length > 0 ? [new LabelShardedMetaFilter(relabel)] : [],
          intervalMs: viewIntervalMs,
          timeoutMs: viewTimeoutMs,
          concurrency: metaFetchConcurrency,
          logger,
        })
      : undefined;
  const service = new CompactService({
    compactor,
    lease,
    wait,
    intervalMs,
    cleanupIntervalMs,
    httpHost: http.host,
    httpPort: http.port,
    registry,
    logger,
    ...(webConfig !== undefined ? { webConfig } : {}),
    ...(blocksView !== undefined ? { blocksView } : {}),
    ...(blocksView !== undefined && !flagBool(ctx, 'disable-admin-operations') ? { mark: blockMarkAction(bucket, () => blocksView.refresh()) } : {}),
    routePrefix: flagString(ctx, 'web.route-prefix') || externalPrefix,
    externalPrefix,
    httpGracePeriodMs,
  });

  const shutdown = shutdownOnSignals(logger);
  try {
    const res = await service.run(shutdown.signal);
    if (res !== undefined && !wait) {
      logger.info('compaction pass done', {
        compactions: res.compactions,
        downsampled: res.downsampled,
        repaired: res.repaired.length,
        marked: res.markedForDeletion,
        deleted: res.deleted,
        quarantined: res.quarantined.length,
        failedGroups: res.failedGroups.join(' '),
        peak_rss_mb: peakRssMB(),
      });
      if (res.failedGroups.length > 0) return 1;
    }
    return 0;
  } catch (err) {
    if (isTesseraError(err, CompactorErrorCode.LeaseHeld)) {
      logger.error(err.message, {});
      return 1;
    }
    logger.error('compact', { err });
    return 1;
  } finally {
    shutdown.dispose();
    await bucket.close();
  }
}

/**
 * peakRssMB is this process's peak resident memory. On Linux it reads VmHWM, the high-water mark
 * of this program's own address space: getrusage's maxRSS survives execve, so a process spawned
 * by a large parent would report the parent's size at fork time.
 */
function peakRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Math.round(Number(m[1]) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
