import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { UsageError, flagBool, flagString, type Command } from './command.js';
import { httpConfigFlags, globalFlags, loggerFromFlags, objstoreFlags, webConfigFromFlags } from './common-flags.js';
import { durationFlag, fileOrInlineFlag, splitHostPort, timeRangeFlags, waitForShutdown } from './flag-values.js';
import { reportErrors } from './tools-bucket-common.js';
import { BucketBlocksView, blockMarkAction, createBucketWebApp, createHttpServer, type WebConfig } from '../pkg/api/index.js';
import { BlockErrorCode, LabelShardedMetaFilter, TimePartitionMetaFilter, parseRelabelConfigs, type Logger, type MetaFilter, type RelabelConfig } from '../pkg/block/index.js';
import { newBucketFromConfig, readObjstoreFlags, type Bucket } from '../pkg/objstore/index.js';

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

/** BucketWebOptions configure startBucketWeb (the flags of `tools bucket web`). */
export interface BucketWebOptions {
  readonly bucket: Bucket;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly label?: string;
  readonly refreshMs: number;
  readonly timeoutMs: number;
  readonly disableAdminOperations?: boolean;
  readonly minTime?: number;
  readonly maxTime?: number;
  readonly relabel?: readonly RelabelConfig[];
  readonly routePrefix?: string;
  readonly externalPrefix?: string;
  readonly webConfig?: WebConfig;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** BucketWeb is a running `tools bucket web`. */
export interface BucketWeb {
  readonly port: number;
  readonly view: BucketBlocksView;
  stop(graceMs?: number): Promise<void>;
}

/**
 * startBucketWeb serves the bucket's blocks (/api/v1/blocks and the bucket UI), refreshed every
 * refreshMs; it listens at once and is ready after the first refresh.
 */
export async function startBucketWeb(o: BucketWebOptions): Promise<BucketWeb> {
  const filters: MetaFilter[] = [];
  if (o.minTime !== undefined || o.maxTime !== undefined) filters.push(new TimePartitionMetaFilter(o.minTime ?? MIN_INT64, o.maxTime ?? MAX_INT64));
  if (o.relabel !== undefined && o.relabel.length > 0) filters.push(new LabelShardedMetaFilter(o.relabel));
  const view = new BucketBlocksView({
    bucket: o.bucket,
    label: o.label ?? '',
    filters,
    intervalMs: o.refreshMs,
    timeoutMs: o.timeoutMs,
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  });
  let ready = false;
  const app = createBucketWebApp({
    global: view.info,
    name: 'Tessera Bucket Web',
    ready: () => ready,
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    ...(o.disableAdminOperations === true ? {} : { mark: blockMarkAction(o.bucket, () => view.refresh()) }),
    ...(o.routePrefix !== undefined ? { routePrefix: o.routePrefix } : {}),
    ...(o.externalPrefix !== undefined ? { externalPrefix: o.externalPrefix } : {}),
  });
  const server: Server = createHttpServer(app, o.webConfig);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.httpPort, o.httpHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  o.logger?.info('listening for HTTP', { address: `${o.httpHost}:${port}` });
  await view.start();
  ready = true;
  return {
    port,
    view,
    async stop(graceMs = 2000) {
      await view.stop();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearTimeout(timer);
      server.closeIdleConnections();
    },
  };
}

/** toolsBucketWebCommand is `tessera tools bucket web`, Thanos's bucket web UI. */
export const toolsBucketWebCommand: Command = {
  name: 'web',
  help: 'Web interface for remote storage bucket: /api/v1/blocks and a page showing the blocks on a time axis per external label set, resolution and compaction level, with their marks.',
  flags: {
    ...objstoreFlags,
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen host:port for HTTP endpoints.' },
    'http-grace-period': { type: 'string', default: '2m', help: 'Time to wait after an interrupt received for HTTP Server.' },
    ...httpConfigFlags,
    'web.route-prefix': { type: 'string', default: '', help: 'Prefix for API and UI endpoints. Defaults to the value of --web.external-prefix.' },
    'web.external-prefix': { type: 'string', default: '', help: 'Static prefix for all HTML links and redirect URLs in the bucket web UI interface (behind a path-stripping reverse proxy).' },
    'web.prefix-header': { type: 'string', default: '', help: 'Accepted for Thanos compatibility; the UI uses --web.external-prefix.' },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility; no CORS headers are set.' },
    refresh: { type: 'string', default: '30m', help: 'Refresh interval to download metadata from remote storage.' },
    timeout: { type: 'string', default: '5m', help: 'Timeout to download metadata from remote storage.' },
    label: { type: 'string', default: '', help: 'External block label to use as group title.' },
    'disable-admin-operations': { type: 'boolean', default: false, help: 'Disable UI/API admin operations like marking blocks for deletion and no compaction.' },
    'min-time': { type: 'string', default: '', help: 'Serve only blocks with data at or after this time: RFC3339, Unix ms, or a duration relative to now (e.g. -2w).' },
    'max-time': { type: 'string', default: '', help: 'Serve only blocks with data at or before this time: RFC3339, Unix ms, or a duration relative to now.' },
    'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs applied to block external labels (keep/drop) to select blocks.' },
    'selector.relabel-config': { type: 'string', help: 'Relabel configs in YAML (alternative to --selector.relabel-config-file).' },
    ...globalFlags,
  },
  run: reportErrors(async (ctx) => {
    const logger = loggerFromFlags(ctx, 'bucket-web');
    const http = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
    const { minTime, maxTime } = timeRangeFlags(ctx, Date.now());
    const relabel = parseRelabelConfigs(await fileOrInlineFlag(ctx, 'selector.relabel-config', BlockErrorCode.RelabelConfig));
    const refreshMs = durationFlag(ctx, 'refresh');
    const timeoutMs = durationFlag(ctx, 'timeout');
    const graceMs = durationFlag(ctx, 'http-grace-period');
    if (refreshMs <= 0) throw new UsageError('--refresh must be positive');
    const externalPrefix = flagString(ctx, 'web.external-prefix');
    const routePrefix = flagString(ctx, 'web.route-prefix') || externalPrefix;
    const webConfig = await webConfigFromFlags(ctx);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const yaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'));
    const bucket = newBucketFromConfig(yaml, { component: 'bucket-web', registry });
    void flagBool(ctx, 'web.disable-cors');
    const shutdown = waitForShutdown();
    const web = await startBucketWeb({
      bucket,
      httpHost: http.host,
      httpPort: http.port,
      label: flagString(ctx, 'label'),
      refreshMs,
      timeoutMs,
      disableAdminOperations: flagBool(ctx, 'disable-admin-operations'),
      ...(minTime !== undefined ? { minTime } : {}),
      ...(maxTime !== undefined ? { maxTime } : {}),
      relabel,
      routePrefix,
      externalPrefix,
      ...(webConfig !== undefined ? { webConfig } : {}),
      registry,
      logger,
    });
    const sig = await shutdown;
    logger.info('shutting down', { signal: sig });
    await web.stop(graceMs);
    await bucket.close();
    return 0;
  }),
};
