import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { writeDemoBlocks } from '../pkg/demo/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import { Querier } from '../pkg/querier/index.js';
import { nopLogger } from '../pkg/sidecar/index.js';
import { StoreGateway } from '../pkg/store-gateway/index.js';
import { flagBool, flagString, type Command } from './command.js';
import { httpConfigFlags, logFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { versionInfo } from './version.js';
import { intFlag, waitForShutdown } from './flag-values.js';

function which(name: string): string | undefined {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d === '') continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function waitReady(url: string, what: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready at ${url} within ${timeoutMs} ms`);
}

/**
 * demoCommand (`npm start`) brings up a complete stack on the embedded FILESYSTEM bucket: it
 * writes 12 hours of history of two HA replicas as blocks into the bucket (once), serves them with
 * a store gateway, and starts a querier that deduplicates the replicas. When a `prometheus` binary
 * is on PATH it also starts a real Prometheus with a sidecar, so live data is queryable too.
 */
export const demoCommand: Command = {
  name: 'demo',
  help: 'Start the demo stack on the embedded FILESYSTEM bucket: history blocks, store gateway, querier (and Prometheus + sidecar when installed).',
  flags: {
    'data-dir': { type: 'string', default: './data/demo', help: 'Where the bucket, caches and Prometheus data live.' },
    'http-address': { type: 'string', default: '127.0.0.1:10902', help: 'Querier HTTP address (UI and Prometheus API).' },
    'grpc-address': { type: 'string', default: '127.0.0.1:10901', help: 'Querier StoreAPI address.' },
    hours: { type: 'string', default: '12', help: 'Hours of demo history to generate on first start.' },
    'no-prometheus': { type: 'boolean', help: 'Do not start Prometheus and a sidecar even when prometheus is installed.' },
    ...httpConfigFlags,
    ...logFlags,
  },
  async run(ctx) {
    const logger = loggerFromFlags(ctx, 'demo');
    const webConfig = await webConfigFromFlags(ctx);
    const log = (msg: string, fields?: Record<string, unknown>): void => logger.info(msg, fields);
    const dataDir = resolve(flagString(ctx, 'data-dir'));
    const bucketDir = join(dataDir, 'bucket');
    await mkdir(bucketDir, { recursive: true });
    const bucket = new FilesystemBucket({ directory: bucketDir });
    let hasBlocks = false;
    for await (const _ of bucket.iter('')) {
      hasBlocks = true;
      break;
    }
    if (!hasBlocks) {
      const t0 = Date.now();
      const ulids = await writeDemoBlocks(bucket, join(dataDir, 'work'), { hours: intFlag(ctx, 'hours') });
      log('wrote demo history', { blocks: ulids.length, ms: Date.now() - t0 });
    }

    const store = new StoreGateway({
      bucket,
      dataDir: join(dataDir, 'store'),
      grpcAddress: '127.0.0.1:0',
      httpHost: '127.0.0.1',
      httpPort: 0,
      registry: new Registry(),
      logger: nopLogger,
      syncIntervalMs: 30_000,
    });
    await store.start();
    const endpoints = [`127.0.0.1:${store.grpcPort}`];
    const children: ChildProcess[] = [];

    const promBin = flagBool(ctx, 'no-prometheus') ? undefined : which('prometheus');
    if (promBin !== undefined) {
      const promPort = await freePort();
      const sidecarGrpc = await freePort();
      const sidecarHttp = await freePort();
      const promDir = join(dataDir, 'prometheus');
      await mkdir(promDir, { recursive: true });
      const cfg = join(dataDir, 'prometheus.yml');
      await writeFile(
        cfg,
        `global:\n  scrape_interval: 5s\n  external_labels: {cluster: live, replica: a}\nscrape_configs:\n  - job_name: prometheus\n    static_configs: [{targets: ['127.0.0.1:${promPort}']}]\n  - job_name: tessera-store\n    static_configs: [{targets: ['127.0.0.1:${store.httpPort}']}]\n`,
      );
      const objCfg = join(dataDir, 'bucket.yml');
      await writeFile(objCfg, `type: FILESYSTEM\nconfig:\n  directory: ${JSON.stringify(bucketDir)}\n`);
      const prom = spawn(
        promBin,
        [`--config.file=${cfg}`, `--storage.tsdb.path=${promDir}`, `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h'],
        { stdio: 'ignore' },
      );
      children.push(prom);
      await waitReady(`http://127.0.0.1:${promPort}/-/ready`, 'prometheus', prom);
      const sidecar = spawn(
        process.execPath,
        [
          ...process.execArgv,
          process.argv[1]!,
          'sidecar',
          `--prometheus.url=http://127.0.0.1:${promPort}`,
          `--tsdb.path=${promDir}`,
          `--objstore.config-file=${objCfg}`,
          `--grpc-address=127.0.0.1:${sidecarGrpc}`,
          `--http-address=127.0.0.1:${sidecarHttp}`,
        ],
        { stdio: 'ignore' },
      );
      children.push(sidecar);
      await waitReady(`http://127.0.0.1:${sidecarHttp}/-/ready`, 'sidecar', sidecar);
      endpoints.push(`127.0.0.1:${sidecarGrpc}`);
      log('started prometheus and sidecar', { prometheus: `http://127.0.0.1:${promPort}`, sidecar: `127.0.0.1:${sidecarGrpc}` });
    } else {
      log('prometheus not started', { reason: flagBool(ctx, 'no-prometheus') ? '--no-prometheus' : 'no prometheus binary on PATH' });
    }

    const querier = new Querier({
      httpAddress: flagString(ctx, 'http-address'),
      grpcAddress: flagString(ctx, 'grpc-address'),
      endpoints,
      replicaLabels: ['replica'],
      timeoutMs: 120_000,
      maxConcurrent: 20,
      lookbackDeltaMs: 300_000,
      maxSamples: 50_000_000,
      partialResponse: true,
      autoDownsampling: false,
      defaultEvaluationIntervalMs: 60_000,
      endpointPollIntervalMs: 2000,
      version: versionInfo(),
      ...(webConfig !== undefined ? { webConfig } : {}),
    });
    await querier.start();
    const url = `${webConfig?.tls !== undefined ? 'https' : 'http'}://${flagString(ctx, 'http-address').replace(/^0\.0\.0\.0/, '127.0.0.1').replace(/:\d+$/, '')}:${querier.httpPort}`;
    ctx.stdout.write(
      `\nTessera demo is up.\n  UI and Prometheus API: ${url}  (Grafana: add a Prometheus data source with this URL)\n` +
        `  try: sum by (mode) (rate(node_cpu_seconds_total[5m]))\n` +
        `       histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))\n` +
        `  bucket: ${bucketDir}\nPress Ctrl+C to stop.\n`,
    );
    await waitForShutdown();
    await querier.stop();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
    await store.stop();
  },
};
