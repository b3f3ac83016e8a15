import type { Server } from 'node:http';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { UsageError, flagBool, flagString, type Command, type RunContext } from './command.js';
import { gracePeriodFlags, grpcServerCredentialsFromFlags, grpcServerConnectionFlags, grpcServerTlsFlags, requestLoggingIgnoredFlags, hashFuncFromFlags, shipperFlags, httpConfigFlags, globalFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { intFlag, parseTimeFlag, splitHostPort } from './flag-values.js';
import { shutdownOnSignals } from './shutdown-signal.js';
import { answerStatus, closeHttp, createHttpServer, type WebConfig } from '../pkg/api/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, readObjstoreFlags } from '../pkg/objstore/index.js';
import {
  PrometheusClient,
  PrometheusStore,
  PrometheusWatcher,
  Shipper,
  prometheusRulesServer,
  formatPromDuration,
  parsePromDuration,
  type Logger,
} from '../pkg/sidecar/index.js';
import { StoreGrpcServer } from '../pkg/store/index.js';

const TWO_HOURS = 7_200_000;

/** sidecarCommand runs next to a Prometheus: StoreAPI over its data, and block shipping to a bucket. */
export const sidecarCommand: Command = {
  name: 'sidecar',
  help: 'Sidecar for Prometheus: serves its data over the StoreAPI and uploads its blocks to object storage.',
  flags: {
    'prometheus.url': { type: 'string', default: 'http://localhost:9090', help: 'URL at which to reach Prometheus\'s API.' },
    'tsdb.path': { type: 'string', default: './data', help: 'Data directory of the TSDB (Prometheus --storage.tsdb.path).' },
    'objstore.config-file': { type: 'string', help: 'Path to YAML file that contains object store configuration. Without it (or --objstore.config) nothing is uploaded.' },
    'objstore.config': { type: 'string', help: 'Object store configuration in YAML (alternative to --objstore.config-file).' },
    'grpc-address': { type: 'string', default: '0.0.0.0:10901', help: 'Listen address for the gRPC StoreAPI/Info server.' },
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen address for HTTP: /metrics, /-/healthy, /-/ready.' },
    'min-time': { type: 'string', default: '', help: 'Serve only data at or after this time: RFC3339, Unix ms, or a negative duration relative to now (e.g. -2h).' },
    'prometheus.ready_timeout': { type: 'string', default: '10m', help: 'Maximum time to wait for Prometheus to be ready (and have external labels) at start-up.' },
    'prometheus.get_config_interval': { type: 'string', default: '30s', help: 'How often to re-read external labels and the lowest timestamp from Prometheus.' },
    'prometheus.get_config_timeout': { type: 'string', default: '30s', help: 'Timeout of each request to Prometheus\'s HTTP API.' },
    'shipper.sync-interval': { type: 'string', default: '30s', help: 'How often to scan the TSDB directory for new blocks.' },
    ...shipperFlags,
    ...requestLoggingIgnoredFlags,
    ...grpcServerTlsFlags,
    ...grpcServerConnectionFlags,
    ...httpConfigFlags,
    ...gracePeriodFlags,
    ...globalFlags,
  },
  run: runSidecar,
};

function duration(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const ms = parsePromDuration(v);
  if (ms === undefined) throw new UsageError(`--${name}: invalid duration "${v}"`);
  return ms;
}

async function runSidecar(ctx: RunContext): Promise<number> {
  const logger = loggerFromFlags(ctx, 'sidecar');
  const promUrl = flagString(ctx, 'prometheus.url');
  // A URL without scheme or host would only show up as "Prometheus ... is not ready" until
  // --prometheus.ready_timeout.
  if (!/^https?:\/\/[^/?#]+/.test(promUrl)) throw new UsageError(`--prometheus.url: "${promUrl}" is not an http:// or https:// URL`);
  const readyTimeout = duration(ctx, 'prometheus.ready_timeout');
  const configInterval = duration(ctx, 'prometheus.get_config_interval');
  const configTimeout = duration(ctx, 'prometheus.get_config_timeout');
  const syncInterval = duration(ctx, 'shipper.sync-interval');
  const grpcGrace = duration(ctx, 'grpc-grace-period');
  const httpGrace = duration(ctx, 'http-grace-period');
  const maxConnectionAgeMs = duration(ctx, 'grpc-server-max-connection-age');
  const hashFunc = hashFuncFromFlags(ctx);
  const fileConcurrency = intFlag(ctx, 'shipper.upload-concurrency');
  if (fileConcurrency < 0) throw new UsageError('--shipper.upload-concurrency: must be 0 or more');
  const metaFileName = flagString(ctx, 'shipper.meta-file-name');
  if (metaFileName === '') throw new UsageError('--shipper.meta-file-name: must not be empty');
  const minTime = parseTimeFlag(flagString(ctx, 'min-time'), Date.now(), 'min-time');
  const grpcAddr = flagString(ctx, 'grpc-address');
  const http = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
  splitHostPort(grpcAddr, 'grpc-address');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = new PrometheusClient({ url: promUrl, timeoutMs: configTimeout });
  const watcher = new PrometheusWatcher({ client, registry, logger, ...(minTime !== undefined ? { minTime } : {}) });

  let bucketYaml = '';
  let grpcCredentials: Awaited<ReturnType<typeof grpcServerCredentialsFromFlags>>;
  let webConfig: WebConfig | undefined;
  try {
    bucketYaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'), false);
    grpcCredentials = await grpcServerCredentialsFromFlags(ctx);
    webConfig = await webConfigFromFlags(ctx);
  } catch (err) {
    if (isTesseraError(err)) {
      logger.error('read configuration', { err });
      return 1;
    }
    throw err;
  }
  const uploads = bucketYaml.trim() !== '';

  const shutdown = shutdownOnSignals(logger, true);

  let shipperStarted = false;
  const httpServer = await startHttp(http.host, http.port, registry, () => watcher.loaded() && watcher.isUp() && (!uploads || shipperStarted), logger, webConfig);
  const store = new PrometheusStore({ client, externalLabels: () => watcher.externalLabels(), minTime: () => watcher.minTime(), registry, logger });
  const grpcServer = new StoreGrpcServer(store, { credentials: grpcCredentials, maxConnectionAgeMs, rules: prometheusRulesServer(client, () => watcher.externalLabels()), onError: (err, action) => logger.error('unexpected error in a gRPC call', { action, err }) });
  const tasks: Promise<unknown>[] = [];
  try {
    const port = await grpcServer.listen(grpcAddr);
    logger.info('listening for StoreAPI gRPC', { address: grpcAddr, port });

    try {
      await watcher.waitReady(readyTimeout, shutdown.signal);
    } catch (err) {
      if (shutdown.signal.aborted) return 0;
      logger.error('Prometheus is not usable; giving up', { err, waited: formatPromDuration(readyTimeout) });
      return 1;
    }
    logger.info('Prometheus is ready', { externalLabels: watcher.externalLabels().toString(), minTime: watcher.minTime() });
    tasks.push(watcher.run(configInterval, shutdown.signal));

    if (uploads) {
      const tsdbPath = flagString(ctx, 'tsdb.path');
      const flags = await watcher.blockFlags(shutdown.signal).catch((err: unknown) => {
        logger.warn('read Prometheus flags; skipping block-duration checks', { err });
        return undefined;
      });
      if (flags !== undefined) {
        if (flags.minBlockDuration !== flags.maxBlockDuration) {
          logger.warn('Prometheus --storage.tsdb.min-block-duration and --storage.tsdb.max-block-duration differ: Prometheus compacts blocks locally and compacted blocks are not uploaded; set both to 2h', {
            min: flags.minBlockDuration === undefined ? 'unknown' : formatPromDuration(flags.minBlockDuration),
            max: flags.maxBlockDuration === undefined ? 'unknown' : formatPromDuration(flags.maxBlockDuration),
          });
        } else if (flags.minBlockDuration !== TWO_HOURS) {
          logger.warn('Prometheus block duration is not the recommended 2h', { duration: formatPromDuration(flags.minBlockDuration ?? 0) });
        }
      }
      const bucket = newBucketFromConfig(bucketYaml, { component: 'sidecar', registry });
      const shipper = new Shipper({
        bucket,
        dir: tsdbPath,
        externalLabels: () => watcher.externalLabels(),
        uploadCompacted: flagBool(ctx, 'shipper.upload-compacted'),
        stateFile: join(tsdbPath, metaFileName),
        fileConcurrency,
        hashFunc,
        registry,
        logger,
      });
      tasks.push(shipper.run(syncInterval, shutdown.signal).finally(() => bucket.close()));
      shipperStarted = true;
      logger.info('shipping blocks', { dir: tsdbPath, bucket: bucket.name() });
    } else {
      logger.info('no object storage configured; blocks are not uploaded');
    }

    await shutdown.stopped();
    return 0;
  } finally {
    shutdown.abort();
    shutdown.dispose();
    await Promise.allSettled(tasks);
    await Promise.all([grpcServer.stop(grpcGrace), closeHttp(httpServer, httpGrace)]);
  }
}

function startHttp(host: string, port: number, registry: Registry, ready: () => boolean, logger: Logger, web: WebConfig | undefined): Promise<Server> {
  const srv = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (answerStatus(path, req, res)) return;
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    } else if (path === '/-/healthy') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('OK\n');
    } else if (path === '/-/ready') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ok ? 'OK\n' : 'Service Unavailable: waiting for Prometheus\n');
    } else {
      // Go's http.NotFound, as every other component answers an unknown path.
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
    }
  }, web);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      logger.info('listening for HTTP', { address: `${host}:${port}` });
      resolve(srv);
    });
  });
}
