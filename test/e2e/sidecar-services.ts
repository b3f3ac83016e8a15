// Builders for the sidecar end-to-end test (issue 6): real Prometheus servers with backfilled
// blocks, `tessera sidecar|store|query` processes, a slow TCP proxy in front of MinIO that logs
// the S3 requests going through it, and a bucket observer that checks, while blocks are being
// shipped, that no incomplete block is ever visible.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort, startProcess, waitFor, waitForHttp, type ManagedProcess, type MinioServer } from '../../pkg/testutil/index.js';
import { DataSet, writeOpenMetricsFile } from '../../pkg/datagen/index.js';

/** repoRoot is the repository root (cwd of spawned tessera processes, so `--import tsx` resolves). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * startTessera runs `node --import tsx cmd/tessera.ts <args>` as ONE process (no tsx wrapper
 * process in between), so SIGKILL really kills the component.
 */
export function startTessera(args: readonly string[]): ManagedProcess {
  return startProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), ...args], { cwd: repoRoot });
}

/** isUlid matches a block directory name. */
export const isUlid = (n: string): boolean => /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(n);

/**
 * backfill writes `hours` of generated data (pkg/datagen: 3 hosts, 15s interval; replica b shifted and
 * with a 10-minute gap) starting at startSec into dataDir with `promtool tsdb create-blocks-from
 * openmetrics`, and returns the ULIDs of the blocks created, oldest first.
 */
export async function backfill(opts: { promtool: string; workDir: string; dataDir: string; replica: 'a' | 'b'; startSec: number; hours: number; hosts?: number }): Promise<string[]> {
  const om = join(opts.workDir, `replica-${opts.replica}.om`);
  await writeOpenMetricsFile(new DataSet({ hosts: opts.hosts ?? 3, hours: opts.hours, replica: opts.replica, startSec: opts.startSec }), om);
  await mkdir(opts.dataDir, { recursive: true });
  execFileSync(opts.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', om, opts.dataDir], { stdio: 'pipe' });
  return blockDirs(opts.dataDir);
}

/** blockDirs lists the block ULIDs in a TSDB directory, sorted (= oldest first for backfills). */
export async function blockDirs(dataDir: string): Promise<string[]> {
  return (await readdir(dataDir)).filter(isUlid).sort();
}

/** localBlockFiles maps `<rel path>` → sha256 for chunks/* and index of a local block. */
export async function localBlockFiles(blockDir: string): Promise<Map<string, { size: number; sha256: string }>> {
  const out = new Map<string, { size: number; sha256: string }>();
  const rels = [...(await readdir(join(blockDir, 'chunks'))).map((n) => `chunks/${n}`), 'index'];
  for (const rel of rels) {
    const b = await readFile(join(blockDir, rel));
    out.set(rel, { size: (await stat(join(blockDir, rel))).size, sha256: createHash('sha256').update(b).digest('hex') });
  }
  return out;
}

/** PrometheusServer is a real Prometheus 2.x process that can be stopped and started again on the same port and data dir. */
export class PrometheusServer {
  readonly port: number;
  readonly dataDir: string;
  readonly configFile: string;
  #bin: string;
  #proc: ManagedProcess | undefined;

  constructor(opts: { bin: string; port: number; dataDir: string; configFile: string }) {
    this.#bin = opts.bin;
    this.port = opts.port;
    this.dataDir = opts.dataDir;
    this.configFile = opts.configFile;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** writeConfig writes a config with external labels, scraping targets every second. */
  async writeConfig(externalLabels: Record<string, string>, targets: readonly string[]): Promise<void> {
    const ext = Object.entries(externalLabels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
    await writeFile(this.configFile, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels:\n${ext}scrape_configs:\n  - job_name: tessera-e2e\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`);
  }

  /** start launches Prometheus (2h blocks, no local compaction) and waits for /-/ready. */
  async start(): Promise<void> {
    this.#proc = startProcess(this.#bin, [
      `--config.file=${this.configFile}`,
      `--storage.tsdb.path=${this.dataDir}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      '--storage.tsdb.min-block-duration=2h',
      '--storage.tsdb.max-block-duration=2h',
      '--storage.tsdb.retention.time=30d',
    ]);
    await waitForHttp(`${this.url}/-/ready`, 60_000).catch((err: unknown) => {
      throw new Error(`Prometheus at ${this.url} not ready: ${String(err)}\n${this.#proc?.output() ?? ''}`);
    });
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(10_000);
  }

  /** output is the output of the last started process (kept after it stopped). */
  output(): string {
    return this.#proc?.output() ?? '';
  }

  /** query runs an instant query against this Prometheus directly. */
  async query(expr: string, timeSec: number): Promise<PromResult> {
    return apiQuery(this.url, '/api/v1/query', { query: expr, time: String(timeSec) });
  }

  async queryRange(expr: string, startSec: number, endSec: number, stepSec: number): Promise<PromResult> {
    return apiQuery(this.url, '/api/v1/query_range', { query: expr, start: String(startSec), end: String(endSec), step: String(stepSec) });
  }
}

/** PromSeries is one element of a vector or matrix answer. */
export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** PromResult is a successful query answer of the Prometheus HTTP API. */
export interface PromResult {
  resultType: string;
  result: PromSeries[];
  warnings: string[];
}

/** apiQuery GETs a Prometheus-compatible query endpoint and returns data (throws on error status). */
export async function apiQuery(base: string, path: string, params: Record<string, string | readonly string[]>): Promise<PromResult> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of typeof v === 'string' ? [v] : v) qs.append(k, x);
  const res = await fetch(`${base}${path}?${qs.toString()}`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { status: string; data?: { resultType: string; result: PromSeries[] }; warnings?: string[]; error?: string };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${path} ${JSON.stringify(params)} on ${base}: ${res.status} ${body.error ?? ''}`);
  return { resultType: body.data.resultType, result: body.data.result, warnings: body.warnings ?? [] };
}

/**
 * normalize drops the given labels from every series and sorts the series by their labels, so
 * answers of different servers can be compared with toEqual.
 */
export function normalize(r: PromResult, drop: readonly string[] = []): PromSeries[] {
  const out = r.result.map((s) => {
    const metric = Object.fromEntries(Object.entries(s.metric).filter(([k]) => !drop.includes(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { ...s, metric };
  });
  return out.sort((a, b) => {
    const x = JSON.stringify(a.metric);
    const y = JSON.stringify(b.metric);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** metricValue reads one sample from a /metrics page (name with an optional `{labels}` suffix); undefined when absent. */
export async function metricValue(httpBase: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${httpBase}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1).trim().split(' ')[0]);
  }
  return undefined;
}

/** TesseraComponent is a running `tessera <component>` with its ports. */
export interface TesseraComponent {
  readonly proc: ManagedProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly httpUrl: string;
  readonly grpcAddress: string;
}

/** startSidecar runs `tessera sidecar` beside a Prometheus, shipping to the S3 bucket at s3Endpoint. */
export function startSidecar(opts: { prometheus: PrometheusServer; grpcPort: number; httpPort: number; minio: MinioServer; bucket: string; s3Endpoint: string }): TesseraComponent {
  const proc = startTessera([
    'sidecar',
    `--prometheus.url=${opts.prometheus.url}`,
    `--tsdb.path=${opts.prometheus.dataDir}`,
    `--objstore.config=${s3ObjstoreYaml(opts.minio, opts.bucket, opts.s3Endpoint)}`,
    `--grpc-address=127.0.0.1:${opts.grpcPort}`,
    `--http-address=127.0.0.1:${opts.httpPort}`,
    '--shipper.sync-interval=1s',
    '--prometheus.get_config_interval=1s',
    '--prometheus.get_config_timeout=2s',
  ]);
  return component(proc, opts.grpcPort, opts.httpPort);
}

/** startStore runs `tessera store` on the bucket with a 1s sync interval. */
export function startStore(opts: { dataDir: string; grpcPort: number; httpPort: number; minio: MinioServer; bucket: string }): TesseraComponent {
  const proc = startTessera([
    'store',
    `--data-dir=${opts.dataDir}`,
    `--objstore.config=${s3ObjstoreYaml(opts.minio, opts.bucket, opts.minio.endpoint)}`,
    `--grpc-address=127.0.0.1:${opts.grpcPort}`,
    `--http-address=127.0.0.1:${opts.httpPort}`,
    '--sync-block-duration=1s',
  ]);
  return component(proc, opts.grpcPort, opts.httpPort);
}

/** startQuerier runs `tessera query` over the endpoints, deduplicating on replicaLabel. */
export function startQuerier(opts: { grpcPort: number; httpPort: number; endpoints: readonly string[]; replicaLabel: string }): TesseraComponent {
  const proc = startTessera([
    'query',
    `--grpc-address=127.0.0.1:${opts.grpcPort}`,
    `--http-address=127.0.0.1:${opts.httpPort}`,
    `--query.replica-label=${opts.replicaLabel}`,
    '--endpoint.info-timeout=2s',
    ...opts.endpoints.map((e) => `--endpoint=${e}`),
  ]);
  return component(proc, opts.grpcPort, opts.httpPort);
}

function component(proc: ManagedProcess, grpcPort: number, httpPort: number): TesseraComponent {
  return { proc, grpcPort, httpPort, httpUrl: `http://127.0.0.1:${httpPort}`, grpcAddress: `127.0.0.1:${grpcPort}` };
}

/** s3ObjstoreYaml is the Thanos objstore YAML for the MinIO bucket, reached at endpoint (host:port). */
export function s3ObjstoreYaml(minio: MinioServer, bucket: string, endpoint: string): string {
  return `type: S3\nconfig:\n  bucket: ${bucket}\n  endpoint: ${endpoint}\n  access_key: ${minio.accessKey}\n  secret_key: ${minio.secretKey}\n  insecure: true\n`;
}

/** ProxiedRequest is an HTTP request line seen by the SlowProxy. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly atMs: number;
  /** sent counts the bytes forwarded on the request's connection from its request line on (headers and body, approximately). */
  sent: number;
}

/**
 * SlowProxy forwards TCP connections to a target port, optionally limiting the client→target
 * bandwidth of each connection (a slow uplink, so that block uploads take seconds), and records
 * the HTTP/1.1 request lines it forwards. When the target is down, accepted connections are
 * closed, as a dead server's would be.
 */
export class SlowProxy {
  readonly requests: ProxiedRequest[] = [];
  #server: Server;
  #sockets = new Set<Socket>();
  #bytesPerSec: number | undefined;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number, bytesPerSec?: number): Promise<SlowProxy> {
    let self: SlowProxy | undefined;
    const server = createServer((client) => self!.#handle(client, targetPort));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(0, '127.0.0.1', () => res());
    });
    const addr = server.address();
    self = new SlowProxy(server, typeof addr === 'object' && addr !== null ? addr.port : 0);
    self.#bytesPerSec = bytesPerSec;
    return self;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** setRate changes the per-connection client→target limit (undefined: unlimited). */
  setRate(bytesPerSec: number | undefined): void {
    this.#bytesPerSec = bytesPerSec;
  }

  /** puts returns the paths of the PUT requests seen, in order. */
  puts(): string[] {
    return this.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
  }

  #handle(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    let carry = '';
    let current: ProxiedRequest | undefined;
    client.on('data', (chunk: Buffer) => {
      // Request lines, found in the latin1 text of the stream; `carry` keeps a line split across chunks.
      const text = carry + chunk.toString('latin1');
      const re = /(GET|PUT|POST|HEAD|DELETE) (\/\S*) HTTP\/1\.1\r\n/g;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m.index + m[0].length > carry.length) {
          current = { method: m[1]!, path: decodeURIComponent(m[2]!.split('?')[0]!), atMs: Date.now(), sent: 0 };
          this.requests.push(current);
        }
      }
      carry = text.slice(-600);
      if (current !== undefined) current.sent += chunk.length;
      upstream.write(chunk);
      const rate = this.#bytesPerSec;
      if (rate !== undefined) {
        client.pause();
        setTimeout(() => client.resume(), (chunk.length / rate) * 1000).unref();
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((res) => this.#server.close(() => res()));
  }
}

/** BucketObject is one listed object. */
export interface BucketObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
}

/**
 * BucketObserver reads the bucket directly from MinIO (not through code under test). `watch`
 * lists it continuously and records every moment a block is visible (its meta.json is listed)
 * while one of the files named in meta.json is missing or has another size.
 */
export class BucketObserver {
  readonly client: S3Client;
  readonly bucket: string;
  readonly violations: string[] = [];
  readonly metas = new Map<string, BlockMeta>();
  #stop = false;
  #loop: Promise<void> | undefined;
  listings = 0;

  constructor(minio: MinioServer, bucket: string) {
    this.bucket = bucket;
    this.client = new S3Client({
      endpoint: minio.url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    });
  }

  async list(prefix = ''): Promise<BucketObject[]> {
    const out: BucketObject[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }), { abortSignal: AbortSignal.timeout(5000) });
      for (const o of r.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified?.getTime() ?? 0 });
      token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  async get(key: string): Promise<Uint8Array> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: AbortSignal.timeout(10_000) });
    return r.Body!.transformToByteArray();
  }

  async meta(ulid: string): Promise<BlockMeta> {
    const m = JSON.parse(new TextDecoder().decode(await this.get(`${ulid}/meta.json`))) as BlockMeta;
    this.metas.set(ulid, m);
    return m;
  }

  /** visibleBlocks lists the ULIDs that have a meta.json. */
  async visibleBlocks(): Promise<string[]> {
    return (await this.list()).filter((o) => o.key.endsWith('/meta.json')).map((o) => o.key.split('/')[0]!).sort();
  }

  /** check does one listing pass and records incomplete visible blocks. */
  async check(): Promise<void> {
    const objs = await this.list();
    this.listings++;
    const byKey = new Map(objs.map((o) => [o.key, o]));
    for (const o of objs) {
      if (!o.key.endsWith('/meta.json')) continue;
      const ulid = o.key.split('/')[0]!;
      const meta = this.metas.get(ulid) ?? (await this.meta(ulid));
      for (const f of meta.thanos.files) {
        if (f.rel_path === 'meta.json') continue;
        const got = byKey.get(`${ulid}/${f.rel_path}`);
        if (got === undefined || got.size !== f.size_bytes) this.violations.push(`block ${ulid} visible while ${f.rel_path} is ${got === undefined ? 'missing' : `${got.size} bytes, not ${f.size_bytes}`}`);
      }
    }
  }

  /** watch starts checking continuously (errors while MinIO is down are ignored). */
  watch(): void {
    this.#loop = (async () => {
      while (!this.#stop) {
        await this.check().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async close(): Promise<void> {
    this.#stop = true;
    await this.#loop;
    this.client.destroy();
  }
}

/** BlockMeta is the part of a Thanos meta.json the test reads. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: { numSamples: number; numSeries: number; numChunks: number };
  compaction: { level: number };
  thanos: { labels: Record<string, string>; source: string; files: { rel_path: string; size_bytes?: number }[]; segment_files?: string[] };
}

/**
 * startBound starts a component on fresh free ports and waits until its output shows `bound`
 * (both listeners up). freePort only proposes a port: another process on this shared machine may
 * take it (even as the local port of an outgoing connection) before the component binds it, so on
 * EADDRINUSE the component is started again on other ports.
 */
export async function startBound(start: (grpcPort: number, httpPort: number) => TesseraComponent, bound: RegExp, attempts = 4): Promise<TesseraComponent> {
  for (let i = 1; ; i++) {
    const c = start(await freePort(), await freePort());
    const ok = await waitFor(`${c.grpcAddress} and ${c.httpUrl} bound`, async () => {
      if (bound.test(c.proc.output())) return 'bound';
      if (c.proc.proc.exitCode !== null || c.proc.proc.signalCode !== null) return 'exited';
      return undefined;
    }, 60_000, 50).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- output ---\n${c.proc.output()}`);
    });
    if (ok === 'bound') return c;
    if (i >= attempts || !/EADDRINUSE/.test(c.proc.output())) throw new Error(`component exited at start-up (exit code ${String(c.proc.proc.exitCode)})\n--- output ---\n${c.proc.output()}`);
  }
}

/** Output lines that tell a component has bound its listeners (`startBound`). */
export const BOUND = { sidecar: /listening for StoreAPI gRPC/, store: /listening for StoreAPI gRPC/, query: /msg="?listening"?(\s|$)/ } as const;

/** waitReady waits for `<httpUrl>/-/ready` to answer 2xx, adding the process output on timeout. */
export async function waitReady(c: TesseraComponent, timeoutMs = 60_000): Promise<void> {
  await waitForHttp(`${c.httpUrl}/-/ready`, timeoutMs).catch((err: unknown) => {
    throw new Error(`${String(err)}\n--- output ---\n${c.proc.output()}`);
  });
}

/** waitMetric waits until a metric of the component satisfies ok. */
export async function waitMetric(c: TesseraComponent, series: string, ok: (v: number) => boolean, timeoutMs = 60_000): Promise<number> {
  try {
    return await waitFor(`${series} on ${c.httpUrl}`, async () => {
      const v = await metricValue(c.httpUrl, series);
      return v !== undefined && ok(v) ? v : undefined;
    }, timeoutMs, 100);
  } catch (err) {
    throw new Error(`${String(err)}\n--- output ---\n${c.proc.output()}`);
  }
}
