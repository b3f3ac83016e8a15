import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { freePort, requireBinary, startProcess, testCerts, waitFor, writeTestBlock, type ManagedProcess, type TestCerts } from '../../pkg/testutil/index.js';
import { REPO_ROOT, tesseraArgs } from './services.js';

/**
 * Security end to end, with real processes and certificates made by openssl: a store gateway and
 * a sidecar (beside a real Prometheus) serve StoreAPI with mutual TLS; a querier with a client
 * certificate gets both's data, a querier without one gets nothing. The store's HTTP asks for
 * basic auth, the querier's serves HTTPS with basic auth (--http.config).
 */
const openssl = requireBinary('openssl');
const prometheus = openssl === undefined ? undefined : requireBinary('prometheus');

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = basic('ops', 'correct horse');

let dir: string;
let certs: TestCerts;
let ca: string;
const procs: ManagedProcess[] = [];

function tessera(args: readonly string[]): ManagedProcess {
  const p = startProcess(process.execPath, tesseraArgs(args), { cwd: REPO_ROOT });
  procs.push(p);
  return p;
}

/** get does a GET over HTTP or HTTPS (trusting the test CA), resolving status and body, or the error. */
function get(url: string, auth?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> } | { err: string }> {
  if (url.startsWith('http:')) {
    return fetch(url, auth === undefined ? {} : { headers: { Authorization: auth } }).then(
      async (r) => ({ status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) }),
      (e: unknown) => ({ err: String(e) }),
    );
  }
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca, agent: false, servername: 'localhost', ...(auth !== undefined ? { headers: { Authorization: auth } } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', (e) => resolve({ err: e.message }));
    req.end();
  });
}

async function waitStatus(what: string, p: ManagedProcess, url: string, status: number, auth?: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (p.proc.exitCode !== null) throw new Error(`${what}: process exited\n${p.output()}`);
      const r = await get(url, auth);
      return 'status' in r && r.status === status;
    },
    90_000,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- output ---\n${p.output()}`);
  });
}

interface Vector {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  warnings?: string[];
}

async function instant(base: string, expr: string): Promise<Vector> {
  const r = await get(`${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${Date.now() / 1000}`, AUTH);
  if (!('status' in r)) throw new Error(r.err);
  return JSON.parse(r.body) as Vector;
}

describe.skipIf(openssl === undefined)('TLS and basic auth between real processes', () => {
  let storeHttp: string;
  let storeGrpc: string;
  let sidecarGrpc: string | undefined;
  let goodQuery: string;
  let badQuery: string;
  let badQueryProc: ManagedProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-tls-e2e-'));
    certs = await testCerts(openssl!, dir);
    ca = await readFile(certs.caCrt, 'utf8');
    const now = Date.now();
    const bucketDir = join(dir, 'bucket');
    await mkdir(bucketDir, { recursive: true });
    const series = [{ labels: Labels.fromStrings('__name__', 'tls_e2e_metric', 'job', 'bucket'), samples: Array.from({ length: 60 }, (_, i) => [now - 3_600_000 + i * 60_000, i] as const) }];
    await writeTestBlock(new FilesystemBucket({ directory: bucketDir }), series, Labels.fromStrings('cluster', 'bucket'));
    const bucketYml = join(dir, 'bucket.yml');
    await writeFile(bucketYml, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
    const hash = bcrypt.hashSync('correct horse', 4);
    // Relative paths: resolved against the web config file's directory.
    await writeFile(join(dir, 'web-auth.yml'), `basic_auth_users:\n  ops: '${hash}'\n`);
    await writeFile(join(dir, 'web-tls.yml'), `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  ops: '${hash}'\n`);
    const serverTls = [`--grpc-server-tls-cert=${certs.serverCrt}`, `--grpc-server-tls-key=${certs.serverKey}`, `--grpc-server-tls-client-ca=${certs.caCrt}`];

    const [sh, sg] = [await freePort(), await freePort()];
    storeHttp = `http://127.0.0.1:${sh}`;
    storeGrpc = `127.0.0.1:${sg}`;
    const store = tessera(['store', `--objstore.config-file=${bucketYml}`, `--data-dir=${join(dir, 'store')}`, `--http-address=127.0.0.1:${sh}`, `--grpc-address=${storeGrpc}`, `--http.config=${join(dir, 'web-auth.yml')}`, ...serverTls]);
    const waits = [waitStatus('store ready', store, `${storeHttp}/-/ready`, 200, AUTH)];

    if (prometheus !== undefined) {
      const pp = await freePort();
      await writeFile(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  external_labels: {cluster: live, replica: a}\nscrape_configs:\n  - job_name: prometheus\n    static_configs: [{targets: ['127.0.0.1:${pp}']}]\n`);
      const prom = startProcess(prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${pp}`]);
      procs.push(prom);
      const [ch, cg] = [await freePort(), await freePort()];
      sidecarGrpc = `127.0.0.1:${cg}`;
      const sidecar = tessera(['sidecar', `--prometheus.url=http://127.0.0.1:${pp}`, `--tsdb.path=${join(dir, 'prom')}`, `--http-address=127.0.0.1:${ch}`, `--grpc-address=${sidecarGrpc}`, ...serverTls]);
      waits.push(waitStatus('sidecar ready', sidecar, `http://127.0.0.1:${ch}/-/ready`, 200));
    }
    await Promise.all(waits);

    const endpoints = [storeGrpc, ...(sidecarGrpc !== undefined ? [sidecarGrpc] : [])].map((e) => `--endpoint=${e}`);
    const [gh, gg, bh, bg] = [await freePort(), await freePort(), await freePort(), await freePort()];
    goodQuery = `https://127.0.0.1:${gh}`;
    badQuery = `http://127.0.0.1:${bh}`;
    const good = tessera(['query', ...endpoints, `--http-address=127.0.0.1:${gh}`, `--grpc-address=127.0.0.1:${gg}`, `--http.config=${join(dir, 'web-tls.yml')}`,
      '--grpc-client-tls-secure', `--grpc-client-tls-cert=${certs.clientCrt}`, `--grpc-client-tls-key=${certs.clientKey}`, `--grpc-client-tls-ca=${certs.caCrt}`, '--endpoint.info-timeout=2s']);
    badQueryProc = tessera(['query', ...endpoints, `--http-address=127.0.0.1:${bh}`, `--grpc-address=127.0.0.1:${bg}`, '--grpc-client-tls-secure', `--grpc-client-tls-ca=${certs.caCrt}`, '--endpoint.info-timeout=2s']);
    await Promise.all([waitStatus('query ready', good, `${goodQuery}/-/ready`, 200, AUTH), waitStatus('query without a client certificate ready', badQueryProc, `${badQuery}/-/ready`, 200)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop(10_000)));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a querier with a client certificate gets the store gateway’s data over mutual TLS', async () => {
    const v = await waitFor('tls_e2e_metric through the querier', async () => {
      const r = await instant(goodQuery, 'tls_e2e_metric');
      return r.data.result.length > 0 ? r : undefined;
    }, 60_000, 250);
    expect(v.data.result.map((s) => s.metric)).toEqual([{ __name__: 'tls_e2e_metric', cluster: 'bucket', job: 'bucket' }]);
  });

  test.skipIf(prometheus === undefined)('a querier with a client certificate gets the sidecar’s (live Prometheus) data over mutual TLS', async () => {
    const v = await waitFor('prometheus_build_info through the querier', async () => {
      const r = await instant(goodQuery, 'prometheus_build_info');
      return r.data.result.length > 0 ? r : undefined;
    }, 60_000, 250);
    expect(v.data.result[0]!.metric).toMatchObject({ cluster: 'live', replica: 'a', job: 'prometheus' });
  });

  test('a querier without a client certificate gets nothing: endpoints unhealthy, empty answers', async () => {
    const r = await get(`${badQuery}/api/v1/stores`);
    expect('status' in r && r.status).toBe(200);
    const stores = (JSON.parse((r as { body: string }).body) as { data: { name: string; healthy: boolean; lastError: string | null }[] }).data;
    expect(stores.length).toBeGreaterThan(0);
    for (const s of stores) expect(s.healthy, JSON.stringify(s)).toBe(false);
    for (const expr of ['tls_e2e_metric', 'prometheus_build_info']) {
      const v = await instant(badQuery, expr);
      expect(v.data.result).toEqual([]);
    }
    expect(badQueryProc.output()).toMatch(/endpoint unhealthy/);
  });

  test('--http.config basic auth: no credentials → 401 with WWW-Authenticate, wrong password → 401, right → 200', async () => {
    const none = await get(`${storeHttp}/metrics`);
    expect(none).toMatchObject({ status: 401, body: 'Unauthorized\n' });
    expect((none as { headers: Record<string, unknown> }).headers['www-authenticate']).toBe('Basic');
    expect(await get(`${storeHttp}/metrics`, basic('ops', 'wrong horse'))).toMatchObject({ status: 401 });
    const ok = await get(`${storeHttp}/metrics`, AUTH);
    expect(ok).toMatchObject({ status: 200 });
    expect((ok as { body: string }).body).toMatch(/process_cpu_seconds_total/);
  });

  test('--http.config TLS: the querier answers over HTTPS, not over plain HTTP', async () => {
    expect(await get(`${goodQuery}/-/healthy`, AUTH)).toMatchObject({ status: 200 });
    expect(await get(`${goodQuery}/-/healthy`)).toMatchObject({ status: 401 });
    const plain = await get(`${goodQuery.replace('https:', 'http:')}/-/healthy`, AUTH);
    expect('status' in plain && plain.status === 200).toBe(false);
  });
});
