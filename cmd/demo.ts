import type { ChildProcess } from 'node:child_process';
import { spawnWatched, watchWrapperParent } from './parent-watch.js';
import { accessSync, constants } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { demoHistoryEnd, writeDemoBlocks, writeDemoRules } from '../pkg/demo/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import { Querier } from '../pkg/querier/index.js';
import { nopLogger } from '../pkg/sidecar/index.js';
import { StoreGateway } from '../pkg/store-gateway/index.js';
import { flagBool, flagString, type Command } from './command.js';
import { httpConfigFlags, logFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { versionInfo } from './version.js';
import { workerThreadsFlag } from './query.js';
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

/**
 * exitReason is the line of a child's log that says why it ended (its last error line: a tessera
 * command's `tessera <cmd>: ...` or a `level=error` line), or '' when there is none.
 */
async function exitReason(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text.split('\n').filter((l) => /^tessera [a-z-]+: |level=error/.test(l));
  return lines.length === 0 ? '' : `: ${lines[lines.length - 1]!.trim()}`;
}

async function waitReady(url: string, what: string, child: ChildProcess, logFile: string, interrupted: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (interrupted.aborted) throw interrupted.reason;
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready${await exitReason(logFile)} (log: ${logFile})`);
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

/** Child is a process the demo started, with its log file. */
interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
}

/**
 * demoCommand (`npm start`) brings up a complete stack on the embedded FILESYSTEM bucket: it
 * writes hours of history of two HA replicas as blocks into the bucket (topped up to now at later
 * starts), serves them with a store gateway, runs a compactor over the bucket, starts a querier that deduplicates the replicas
 * and a query-frontend in front of it, and a ruler evaluating the demo rules (pkg/demo) through
 * the querier, which lists the ruler's StoreAPI as an endpoint (recorded series, rules, alerts).
 * When a `prometheus` binary is on PATH it also starts an HA pair of real Prometheus servers
 * (replicas a and b), each with a sidecar, so live data is queryable too; when an Alertmanager
 * binary is, an Alertmanager the ruler sends its alerts to. It prints every URL; SIGINT (Ctrl-C)
 * or SIGTERM stops everything.
 */
export const demoCommand: Command = {
  name: 'demo',
  help: 'Start the demo stack on the embedded FILESYSTEM bucket: history blocks, store gateway, compactor, querier, query-frontend, ruler (and an HA pair of Prometheus with sidecars, and an Alertmanager, when installed).',
  flags: {
    'data-dir': { type: 'string', default: './data/demo', help: 'Where the bucket, caches, logs and Prometheus data live.' },
    'http-address': { type: 'string', default: '127.0.0.1:10902', help: 'Querier HTTP address (UI and Prometheus API).' },
    'grpc-address': { type: 'string', default: '127.0.0.1:10901', help: 'Querier StoreAPI address.' },
    'frontend-address': { type: 'string', default: '127.0.0.1:10904', help: 'Query-frontend HTTP address (in front of the querier, with an in-memory results cache).' },
    hours: { type: 'string', default: '12', help: 'Hours of demo history to generate on first start (later starts top it up to now, at most this many hours).' },
    'no-prometheus': { type: 'boolean', help: 'Do not start Prometheus and sidecars even when prometheus is installed.' },
    'no-compactor': { type: 'boolean', help: 'Do not run the compactor over the demo bucket.' },
    'no-ruler': { type: 'boolean', help: 'Do not run the ruler (nor the Alertmanager).' },
    'rule-eval-interval': { type: 'string', default: '15s', help: 'Evaluation interval of the demo rules (the ruler\'s --eval-interval).' },
    'query.worker-threads': {
      type: 'string',
      default: 'auto',
      help: "The querier's worker threads evaluating queries (tessera query's --query.worker-threads): auto = the number of CPU cores the process can use, at most 8 (0 on a single core); 0 evaluates on the main thread.",
    },
    ...httpConfigFlags,
    ...logFlags,
  },
  async run(ctx) {
    const logger = loggerFromFlags(ctx, 'demo');
    const webConfig = await webConfigFromFlags(ctx);
    const workerThreads = workerThreadsFlag(flagString(ctx, 'query.worker-threads'));
    const log = (msg: string, fields?: Record<string, unknown>): void => logger.info(msg, fields);
    const dataDir = resolve(flagString(ctx, 'data-dir'));
    const bucketDir = join(dataDir, 'bucket');
    const logDir = join(dataDir, 'logs');
    await mkdir(bucketDir, { recursive: true });
    await mkdir(logDir, { recursive: true });
    const bucket = new FilesystemBucket({ directory: bucketDir });
    // The history ends where the demo was last started: top it up to now (at most --hours), so
    // that queries and rules at the current time see data again.
    const hours = intFlag(ctx, 'hours');
    const historyEnd = await demoHistoryEnd(bucket);
    const t0 = Date.now();
    if (historyEnd === undefined) {
      const ulids = await writeDemoBlocks(bucket, join(dataDir, 'work'), { hours });
      log('wrote demo history', { blocks: ulids.length, ms: Date.now() - t0 });
    } else if (t0 - historyEnd >= 60_000) {
      const ulids = await writeDemoBlocks(bucket, join(dataDir, 'work'), { startMs: Math.max(historyEnd, t0 - hours * 3600_000) });
      log('topped up the demo history to now', { from: new Date(historyEnd).toISOString(), blocks: ulids.length, ms: Date.now() - t0 });
    }
    const objCfg = join(dataDir, 'bucket.yml');
    await writeFile(objCfg, `type: FILESYSTEM\nconfig:\n  directory: ${JSON.stringify(bucketDir)}\n`);

    // Ctrl-C or SIGTERM at any time, also while the stack is still starting, stops what has been
    // started: the handlers are in place before the first child (Node's default would end the demo
    // at once and leave its children running).
    const interrupted = new AbortController();
    void waitForShutdown().then(() => interrupted.abort(new Error('interrupted while starting')));
    // Under `npm start` the demo runs as tsx's child: when tsx is killed (kill -9), stop too.
    watchWrapperParent();
    const children: Child[] = [];
    const urls: [string, string][] = [];
    // A child's output goes to <data-dir>/logs/<name>.log.
    const start = async (name: string, bin: string, args: string[], readyUrl: string): Promise<ChildProcess> => {
      if (interrupted.signal.aborted) throw interrupted.signal.reason;
      const logFile = join(logDir, `${name}.log`);
      const out = await open(logFile, 'a');
      // Children stop when the demo dies, even of SIGKILL (they watch a pipe from it), so that no
      // orphan holds the ports of the next start.
      const proc = spawnWatched(bin, args, bin === process.execPath, ['ignore', out.fd, out.fd]);
      await out.close();
      children.push({ name, proc });
      await waitReady(readyUrl, name, proc, logFile, interrupted.signal);
      return proc;
    };
    const tessera = (args: string[]): string[] => [...process.execArgv, process.argv[1]!, ...args];
    const stopChildren = async (): Promise<void> => {
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
      await Promise.all(
        children.map((c) =>
          c.proc.exitCode !== null || c.proc.signalCode !== null
            ? Promise.resolve()
            : new Promise<void>((r) => {
                const t = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
                c.proc.once('exit', () => {
                  clearTimeout(t);
                  r();
                });
              }),
        ),
      );
    };

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
    let querier: Querier | undefined;
    try {
      const endpoints = [`127.0.0.1:${store.grpcPort}`];
      urls.push(['store gateway', `http://127.0.0.1:${store.httpPort}`]);

      if (!flagBool(ctx, 'no-compactor')) {
        const compactHttp = await freePort();
        // consistency-delay 0s: the FILESYSTEM bucket is consistent and the sidecars upload
        // meta.json last, so blocks can be compacted as soon as they appear.
        await start(
          'compactor',
          process.execPath,
          tessera(['compact', `--objstore.config-file=${objCfg}`, `--data-dir=${join(dataDir, 'compact')}`, '--wait', '--wait-interval=1m', '--consistency-delay=0s', `--http-address=127.0.0.1:${compactHttp}`]),
          `http://127.0.0.1:${compactHttp}/-/ready`,
        );
        urls.push(['compactor', `http://127.0.0.1:${compactHttp}`]);
      }

      // The ruler starts after the querier it queries; its ports are chosen now so that the
      // querier lists its StoreAPI and the Prometheus pair scrapes it.
      const ruler = flagBool(ctx, 'no-ruler') ? undefined : { grpc: await freePort(), http: await freePort() };
      let alertmanagerUrl: string | undefined;
      if (ruler !== undefined) {
        endpoints.push(`127.0.0.1:${ruler.grpc}`);
        const amBin = which('prometheus-alertmanager') ?? which('alertmanager');
        if (amBin !== undefined) {
          const amPort = await freePort();
          const amDir = join(dataDir, 'alertmanager');
          await mkdir(amDir, { recursive: true });
          const amCfg = join(dataDir, 'alertmanager.yml');
          // Alerts are kept and shown (UI, /api/v2/alerts), not sent anywhere.
          await writeFile(amCfg, "route:\n  receiver: 'null'\n  group_by: [alertname]\nreceivers:\n  - name: 'null'\n");
          await start(
            'alertmanager',
            amBin,
            [`--config.file=${amCfg}`, `--storage.path=${amDir}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='],
            `http://127.0.0.1:${amPort}/-/ready`,
          );
          alertmanagerUrl = `http://127.0.0.1:${amPort}`;
          urls.push(['alertmanager', alertmanagerUrl]);
        } else {
          log('alertmanager not started', { reason: 'no prometheus-alertmanager or alertmanager binary on PATH; the ruler evaluates alerts without sending them' });
        }
      } else {
        log('ruler not started', { reason: '--no-ruler' });
      }

      const promBin = flagBool(ctx, 'no-prometheus') ? undefined : which('prometheus');
      if (promBin !== undefined) {
        const replicas = ['a', 'b'] as const;
        const promPorts = [await freePort(), await freePort()];
        const targets = [...promPorts.map((p) => `'127.0.0.1:${p}'`)];
        const tesseraTargets = urls.filter(([name]) => name !== 'alertmanager').map(([, u]) => `'${u.replace(/^https?:\/\//, '')}'`);
        if (ruler !== undefined) tesseraTargets.push(`'127.0.0.1:${ruler.http}'`);
        const amTargets = alertmanagerUrl === undefined ? '' : `  - job_name: alertmanager\n    static_configs: [{targets: ['${alertmanagerUrl.replace(/^https?:\/\//, '')}']}]\n`;
        for (const [i, replica] of replicas.entries()) {
          const promPort = promPorts[i]!;
          const sidecarGrpc = await freePort();
          const sidecarHttp = await freePort();
          const promDir = join(dataDir, `prometheus-${replica}`);
          await mkdir(promDir, { recursive: true });
          const cfg = join(dataDir, `prometheus-${replica}.yml`);
          // Both replicas scrape the same targets: the querier deduplicates them by `replica`.
          await writeFile(
            cfg,
            `global:\n  scrape_interval: 5s\n  external_labels: {cluster: live, replica: ${replica}}\nscrape_configs:\n` +
              `  - job_name: prometheus\n    static_configs: [{targets: [${targets.join(', ')}]}]\n` +
              `  - job_name: tessera\n    static_configs: [{targets: [${tesseraTargets.join(', ')}]}]\n` +
              amTargets,
          );
          await start(
            `prometheus-${replica}`,
            promBin,
            [`--config.file=${cfg}`, `--storage.tsdb.path=${promDir}`, `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h'],
            `http://127.0.0.1:${promPort}/-/ready`,
          );
          urls.push([`prometheus ${replica}`, `http://127.0.0.1:${promPort}`]);
          await start(
            `sidecar-${replica}`,
            process.execPath,
            tessera(['sidecar', `--prometheus.url=http://127.0.0.1:${promPort}`, `--tsdb.path=${promDir}`, `--objstore.config-file=${objCfg}`, `--grpc-address=127.0.0.1:${sidecarGrpc}`, `--http-address=127.0.0.1:${sidecarHttp}`]),
            `http://127.0.0.1:${sidecarHttp}/-/ready`,
          );
          urls.push([`sidecar ${replica}`, `http://127.0.0.1:${sidecarHttp}`]);
          endpoints.push(`127.0.0.1:${sidecarGrpc}`);
        }
        log('started prometheus HA pair and sidecars', { replicas: replicas.length });
      } else {
        log('prometheus not started', { reason: flagBool(ctx, 'no-prometheus') ? '--no-prometheus' : 'no prometheus binary on PATH' });
      }

      querier = new Querier({
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
        workerThreads,
        version: versionInfo(),
        ...(webConfig !== undefined ? { webConfig } : {}),
      });
      await querier.start();
      const scheme = webConfig?.tls !== undefined ? 'https' : 'http';
      const host = (addr: string): string => addr.replace(/^0\.0\.0\.0/, '127.0.0.1').replace(/:\d+$/, '');
      const url = `${scheme}://${host(flagString(ctx, 'http-address'))}:${querier.httpPort}`;
      urls.unshift(['querier (UI, API)', url]);

      if (ruler !== undefined) {
        const rulesFile = await writeDemoRules(join(dataDir, 'rules'));
        // Through the querier's HTTP API; with --http.config (TLS, basic auth on the querier) on
        // the StoreAPI endpoints with the ruler's embedded engine instead.
        const source =
          webConfig === undefined
            ? [`--query=${url}`]
            : [...endpoints.filter((e) => e !== `127.0.0.1:${ruler.grpc}`).map((e) => `--endpoint=${e}`), '--query.replica-label=replica'];
        await start(
          'ruler',
          process.execPath,
          tessera([
            'rule',
            `--rule-file=${rulesFile}`,
            ...source,
            '--label=replica="r0"',
            '--alert.label-drop=replica',
            `--alert.query-url=${url}`,
            `--eval-interval=${flagString(ctx, 'rule-eval-interval')}`,
            ...(alertmanagerUrl === undefined ? [] : [`--alertmanagers.url=${alertmanagerUrl}`]),
            `--data-dir=${join(dataDir, 'rule')}`,
            `--objstore.config-file=${objCfg}`,
            `--grpc-address=127.0.0.1:${ruler.grpc}`,
            `--http-address=127.0.0.1:${ruler.http}`,
            '--grpc-grace-period=5s',
          ]),
          `http://127.0.0.1:${ruler.http}/-/ready`,
        );
        urls.push(['ruler', `http://127.0.0.1:${ruler.http}`]);
        log('started the ruler', { rules: rulesFile, alertmanager: alertmanagerUrl ?? 'none' });
      }

      let fe = flagString(ctx, 'frontend-address');
      let feUrl: string | undefined;
      if (webConfig === undefined) {
        // the frontend is a child: port 0 is chosen here so that its URL is known.
        if (/:0$/.test(fe)) fe = `${fe.slice(0, -2)}:${await freePort()}`;
        feUrl = `http://${host(fe)}:${fe.slice(fe.lastIndexOf(':') + 1)}`;
        await start(
          'query-frontend',
          process.execPath,
          tessera(['query-frontend', `--http-address=${fe}`, `--query-frontend.downstream-url=${url}`, '--query-range.response-cache-config=type: IN-MEMORY\nconfig:\n  max_size: 256MB\n']),
          `${feUrl}/-/ready`,
        );
        urls.unshift(['query-frontend', feUrl]);
      } else {
        log('query-frontend not started', { reason: '--http.config is set (the frontend would need the querier credentials)' });
      }

      ctx.stdout.write(
        `\nTessera demo is up.\n` +
          `  Grafana: add a Prometheus data source with ${feUrl ?? url}\n` +
          urls.map(([name, u]) => `  ${(name + ':').padEnd(20)} ${u}\n`).join('') +
          `  try: sum by (mode) (rate(node_cpu_seconds_total[5m]))\n` +
          `       histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))\n` +
          (ruler !== undefined ? `       job:http_requests:rate15m   (recorded by the ruler; alerts: ${url}/alerts)\n` : '') +
          `  bucket: ${bucketDir}\n  logs:   ${logDir}\nPress Ctrl+C to stop.\n`,
      );
      if (!interrupted.signal.aborted) await new Promise((resolve) => interrupted.signal.addEventListener('abort', resolve, { once: true }));
      log('stopping');
    } catch (err) {
      if (!interrupted.signal.aborted || err !== interrupted.signal.reason) throw err;
      log('stopping');
    } finally {
      await querier?.stop();
      await stopChildren();
      await store.stop();
    }
  },
};
