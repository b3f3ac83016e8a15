/**
 * Real processes for end-to-end tests and benchmarks: Prometheus, MinIO, and the Tessera
 * components (`tessera store`, `tessera query`, `tessera sidecar`, `tessera tools ...`), each on
 * free 127.0.0.1 ports with temp dirs, started and awaited on readiness in one place.
 *
 * Tessera components run as `node --import tsx cmd/tessera.ts <component> ...`: one OS process per
 * component (no tsx wrapper), so SIGKILL really kills the component.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startMinio, startProcess, waitFor, waitForHttp, type ManagedProcess, type MinioServer } from '../../pkg/testutil/index.js';

const run = promisify(execFile);

/** REPO_ROOT is the repository's root directory. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TESSERA = join(REPO_ROOT, 'cmd', 'tessera.ts');

/** Service is one running server process. */
export interface Service {
  readonly name: string;
  readonly process: ManagedProcess;
  /** httpUrl is `http://127.0.0.1:<port>`. */
  readonly httpUrl: string;
  /** grpcAddress is `127.0.0.1:<port>` for components serving gRPC. */
  readonly grpcAddress?: string;
  /** stop sends SIGTERM (SIGKILL after a grace period) and waits for exit. */
  stop(): Promise<void>;
  /** kill sends SIGKILL and waits for exit. */
  kill(): Promise<void>;
}

/** tesseraArgs returns the node arguments that run `tessera <args...>` from source. */
export function tesseraArgs(args: readonly string[]): string[] {
  return ['--import', 'tsx', TESSERA, ...args];
}

/** runTessera runs a one-shot tessera command (e.g. `tools bucket upload`) and returns its stdout. */
export async function runTessera(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, tesseraArgs(args), { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tessera ${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/**
 * startService spawns bin, then waits until readyUrl answers 2xx; if the process exits first or
 * the wait times out, it is killed and the error carries its output.
 */
export async function startService(name: string, bin: string, args: readonly string[], ready: { url: string; timeoutMs?: number }, extra: { grpcAddress?: string; httpUrl: string }): Promise<Service> {
  const proc = startProcess(bin, args, { cwd: REPO_ROOT });
  // 'exit' can come before the last output: the error below waits for the pipes to close, so that
  // it carries the reason (onFreePorts looks for EADDRINUSE in it).
  const closed = new Promise<void>((resolve) => proc.proc.once('close', () => resolve()));
  const exited = new Promise<never>((_, reject) => {
    proc.proc.once('exit', (code, sig) => reject(new Error(`${name} exited during startup (code ${code}, signal ${sig})`)));
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForHttp(ready.url, ready.timeoutMs ?? 90_000), exited]);
  } catch (err) {
    await proc.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5000)))]); // a grandchild might hold the pipes
    clearTimeout(timer);
    throw new Error(`start ${name}: ${(err as Error).message}\n--- ${name} output ---\n${proc.output()}`, { cause: err });
  }
  return {
    name,
    process: proc,
    httpUrl: extra.httpUrl,
    ...(extra.grpcAddress !== undefined ? { grpcAddress: extra.grpcAddress } : {}),
    stop: () => proc.stop(),
    kill: () => proc.kill(),
  };
}

/**
 * onFreePorts runs start (which picks its ports with freePort) again when the process could not
 * bind them: freePort only proposes a port, and on this shared machine another process may take it
 * (even as the local port of an outgoing connection) before the child binds it. Node reports
 * EADDRINUSE, Go "address already in use".
 */
export async function onFreePorts<T>(start: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !/EADDRINUSE|address already in use/.test((err as Error).message)) throw err;
    }
  }
}

/** startTessera starts `tessera <component>` with free --http-address and --grpc-address and waits on /-/ready. */
export async function startTessera(component: string, args: readonly string[], opts: { name?: string; grpc?: boolean; readyTimeoutMs?: number; nodeArgs?: readonly string[] } = {}): Promise<Service> {
  return onFreePorts(async () => {
    const http = `127.0.0.1:${await freePort()}`;
    const grpc = opts.grpc === false ? undefined : `127.0.0.1:${await freePort()}`;
    const all = [component, ...args, `--http-address=${http}`, ...(grpc !== undefined ? [`--grpc-address=${grpc}`] : [])];
    return startService(opts.name ?? `tessera ${component}`, process.execPath, [...(opts.nodeArgs ?? []), ...tesseraArgs(all)], { url: `http://${http}/-/ready`, timeoutMs: opts.readyTimeoutMs ?? 90_000 }, { httpUrl: `http://${http}`, ...(grpc !== undefined ? { grpcAddress: grpc } : {}) });
  });
}

/** StoreOptions configure `tessera store` (Thanos store gateway flags). */
export interface StoreOptions {
  readonly name?: string;
  /** objstoreConfigFile is the bucket's objstore YAML file. */
  readonly objstoreConfigFile: string;
  /** dataDir is the local cache dir (index-headers). */
  readonly dataDir: string;
  readonly extraArgs?: readonly string[];
  /** nodeArgs go to node before the script (e.g. ['--cpu-prof', '--cpu-prof-dir=<dir>']). */
  readonly nodeArgs?: readonly string[];
}

/** startStore starts `tessera store` over a bucket and waits until it is ready (initial block sync done). */
export async function startStore(opts: StoreOptions): Promise<Service> {
  return startTessera('store', [`--objstore.config-file=${opts.objstoreConfigFile}`, `--data-dir=${opts.dataDir}`, ...(opts.extraArgs ?? [])], { name: opts.name ?? 'tessera store', ...(opts.nodeArgs !== undefined ? { nodeArgs: opts.nodeArgs } : {}) });
}

/** QueryOptions configure `tessera query`. */
export interface QueryOptions {
  readonly endpoints: readonly string[];
  readonly replicaLabels?: readonly string[];
  readonly extraArgs?: readonly string[];
  /** nodeArgs go to node before the script (e.g. --max-old-space-size=256). */
  readonly nodeArgs?: readonly string[];
}

/**
 * startQuery starts `tessera query` over the endpoints and waits until it is ready and every
 * endpoint is healthy: as listed by /api/v1/stores, or, while that route answers 404 (it is
 * shadowed by the Prometheus API router), as logged by the querier ("endpoint healthy").
 */
export async function startQuery(opts: QueryOptions): Promise<Service> {
  const args = [
    ...opts.endpoints.map((e) => `--endpoint=${e}`),
    ...(opts.replicaLabels ?? []).map((l) => `--query.replica-label=${l}`),
    ...(opts.extraArgs ?? []),
  ];
  const svc = await startTessera('query', args, { name: 'tessera query', ...(opts.nodeArgs !== undefined ? { nodeArgs: opts.nodeArgs } : {}) });
  try {
    await waitFor(
      `all ${opts.endpoints.length} endpoints healthy in tessera query`,
      async () => {
        const res = await fetch(`${svc.httpUrl}/api/v1/stores`);
        if (res.status === 404) {
          await res.arrayBuffer();
          const out = svc.process.output();
          return opts.endpoints.every((e) => out.includes(`msg="endpoint healthy" address=${e}`) || out.includes(`msg="endpoint healthy" address="${e}"`));
        }
        const body = (await res.json()) as { data?: { name: string; healthy: boolean }[] };
        const healthy = new Set((body.data ?? []).filter((s) => s.healthy).map((s) => s.name));
        return opts.endpoints.every((e) => healthy.has(e));
      },
      60_000,
      200,
    );
  } catch (err) {
    await svc.kill();
    throw new Error(`${(err as Error).message}\n--- tessera query output ---\n${svc.process.output()}`, { cause: err });
  }
  return svc;
}

/** SidecarOptions configure `tessera sidecar`. */
export interface SidecarOptions {
  readonly prometheusUrl: string;
  readonly tsdbPath: string;
  /** objstoreConfigFile enables shipping blocks to a bucket. */
  readonly objstoreConfigFile?: string;
  readonly extraArgs?: readonly string[];
}

/** startSidecar starts `tessera sidecar` next to a Prometheus and waits on /-/ready. */
export async function startSidecar(opts: SidecarOptions): Promise<Service> {
  return startTessera('sidecar', [
    `--prometheus.url=${opts.prometheusUrl}`,
    `--tsdb.path=${opts.tsdbPath}`,
    ...(opts.objstoreConfigFile !== undefined ? [`--objstore.config-file=${opts.objstoreConfigFile}`] : []),
    ...(opts.extraArgs ?? []),
  ]);
}

/** PrometheusOptions configure a real Prometheus serving existing blocks. */
export interface PrometheusOptions {
  /** dataDir is --storage.tsdb.path (seed it with blocks before starting). */
  readonly dataDir: string;
  /** configFile is where the generated prometheus.yml is written. */
  readonly configFile: string;
  readonly externalLabels?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
}

/**
 * startPrometheus starts `prometheus` over dataDir with no scrape targets (so nothing moves the
 * retention horizon) and 100y retention, and waits on /-/ready.
 */
export async function startPrometheus(bin: string, opts: PrometheusOptions): Promise<Service> {
  let yml = 'global:\n  scrape_interval: 15s\n';
  const ext = Object.entries(opts.externalLabels ?? {});
  if (ext.length > 0) yml += `  external_labels:\n${ext.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('')}`;
  await writeFile(opts.configFile, yml);
  return onFreePorts(async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    return startService(
      'prometheus',
      bin,
      [`--config.file=${opts.configFile}`, `--storage.tsdb.path=${opts.dataDir}`, `--web.listen-address=${addr}`, '--storage.tsdb.retention.time=100y', ...(opts.extraArgs ?? [])],
      { url: `http://${addr}/-/ready`, timeoutMs: 120_000 },
      { httpUrl: `http://${addr}` },
    );
  });
}

/** BucketService is a MinIO server with helpers to create buckets and their objstore config files. */
export interface BucketService {
  readonly minio: MinioServer;
  /** createBucket creates the bucket and writes its objstore YAML config to file; returns file. */
  bucketConfig(bucket: string, file: string): Promise<string>;
  stop(): Promise<void>;
}

/** startBuckets starts MinIO (bin from requireBinary('minio')). */
export async function startBuckets(bin: string): Promise<BucketService> {
  const minio = await startMinio(bin);
  return {
    minio,
    async bucketConfig(bucket: string, file: string) {
      await minio.createBucket(bucket);
      const cfg = minio.s3Config(bucket);
      const lines = Object.entries(cfg).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`);
      await writeFile(file, `type: S3\nconfig:\n${lines.join('')}`);
      return file;
    },
    stop: () => minio.stop(),
  };
}

/** uploadBlocks runs `tessera tools bucket upload` for the block dirs with external labels. */
export async function uploadBlocks(blockDirs: readonly string[], objstoreConfigFile: string, labels: Readonly<Record<string, string>>): Promise<void> {
  await runTessera(['tools', 'bucket', 'upload', ...blockDirs, `--objstore.config-file=${objstoreConfigFile}`, ...Object.entries(labels).map(([k, v]) => `--label=${k}=${v}`)]);
}

/** stopAll stops services in reverse start order, ignoring those already gone. */
export async function stopAll(services: readonly (Service | undefined)[]): Promise<void> {
  for (const s of [...services].reverse()) if (s !== undefined) await s.stop();
}

/**
 * ServiceGroup remembers every service as soon as it has started, so that one failing start in a
 * `Promise.all` does not leak the processes its siblings already started.
 */
export class ServiceGroup {
  readonly #started: Service[] = [];

  /** add awaits a starting service and registers it. */
  async add<T extends Service>(starting: Promise<T>): Promise<T> {
    const s = await starting;
    this.#started.push(s);
    return s;
  }

  /** stopAll stops every registered service in reverse start order. */
  async stopAll(): Promise<void> {
    const all = this.#started.splice(0);
    await stopAll(all);
  }
}
