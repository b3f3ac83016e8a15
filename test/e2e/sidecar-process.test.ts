import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { GrpcStoreClient } from '../../pkg/store/index.js';
import { freePort, requireBinary, startProcess, waitFor, waitForHttp, type ManagedProcess } from '../../pkg/testutil/index.js';

const prometheusBin = requireBinary('prometheus');
const promtoolBin = requireBinary('promtool');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

const STEP = 15_000;
const END = Math.floor((Date.now() - 2 * 3_600_000) / STEP) * STEP;
const START = END - 3 * 3_600_000;

let dir: string;
let tsdb: string;
let bucketDir: string;
let promPort: number;
let prom: ManagedProcess | undefined;
const sidecars: ManagedProcess[] = [];

async function writeConfig(name: string, withExternalLabels: boolean): Promise<string> {
  const p = join(dir, name);
  const ext = withExternalLabels ? `  external_labels:\n    cluster: e2e\n    replica: "0"\n` : '';
  await writeFile(p, `global:\n  scrape_interval: 1s\n${ext}scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${promPort}']\n`);
  return p;
}

async function startSidecar(extra: string[] = []): Promise<{ proc: ManagedProcess; grpc: number; http: number }> {
  const grpc = await freePort();
  const http = await freePort();
  const proc = startProcess(tsx, [
    join(root, 'cmd', 'tessera.ts'),
    'sidecar',
    `--prometheus.url=http://127.0.0.1:${promPort}`,
    `--tsdb.path=${tsdb}`,
    `--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`,
    `--grpc-address=127.0.0.1:${grpc}`,
    `--http-address=127.0.0.1:${http}`,
    '--shipper.sync-interval=1s',
    '--prometheus.get_config_interval=1s',
    ...extra,
  ]);
  sidecars.push(proc);
  return { proc, grpc, http };
}

async function metric(http: number, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe.skipIf(prometheusBin === undefined || promtoolBin === undefined)('tessera sidecar process', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-sidecar-proc-'));
    tsdb = join(dir, 'tsdb');
    bucketDir = join(dir, 'bucket');
    promPort = await freePort();
    let om = '# TYPE bf gauge\n';
    for (const inst of ['x', 'y']) for (let t = START, i = 0; t <= END; t += STEP, i++) om += `bf{instance="${inst}"} ${i} ${t / 1000}\n`;
    await writeFile(join(dir, 'data.om'), om + '# EOF\n');
    execFileSync(promtoolBin!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), tsdb], { stdio: 'pipe' });
    prom = startProcess(prometheusBin!, [
      `--config.file=${await writeConfig('prometheus.yml', true)}`,
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.min-block-duration=2h',
      '--storage.tsdb.max-block-duration=2h',
      '--storage.tsdb.retention.time=30d',
      '--web.enable-lifecycle',
    ]);
    await waitForHttp(`http://127.0.0.1:${promPort}/-/ready`, 60_000);
  });

  afterAll(async () => {
    for (const s of sidecars) await s.stop();
    await prom?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('serves the StoreAPI, ships the blocks, and a restart after kill -9 re-uploads nothing', async () => {
    const blocks = (await readdir(tsdb)).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const sc = await startSidecar();
    await waitForHttp(`http://127.0.0.1:${sc.http}/-/ready`, 60_000).catch((err: unknown) => {
      throw new Error(`sidecar not ready: ${String(err)}\n${sc.proc.output()}`);
    });
    expect((await fetch(`http://127.0.0.1:${sc.http}/-/healthy`)).status).toBe(200);
    const flags = (await (await fetch(`http://127.0.0.1:${sc.http}/api/v1/status/flags`)).json()) as { status: string; data: Record<string, string> };
    expect(flags.data['prometheus.url']).toBe(`http://127.0.0.1:${promPort}`);
    const info = (await (await fetch(`http://127.0.0.1:${sc.http}/api/v1/status/buildinfo`)).json()) as { status: string; data: Record<string, string> };
    expect(info.status).toBe('success');
    expect(Object.keys(info.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    await waitFor('all blocks uploaded', async () => (await metric(sc.http, 'thanos_shipper_uploads_total')) === blocks.length, 30_000, 200);
    const bucket = new FilesystemBucket({ directory: bucketDir });
    for (const b of blocks) {
      const meta = JSON.parse(new TextDecoder().decode(await bucket.get(`${b}/meta.json`))) as { thanos: { labels: Record<string, string> } };
      expect(meta.thanos.labels).toEqual({ cluster: 'e2e', replica: '0' });
    }

    const client = new GrpcStoreClient(`127.0.0.1:${sc.grpc}`);
    try {
      const info = await client.info({ timeoutMs: 5000 });
      expect(info.componentType).toBe('sidecar');
      expect(info.labelSets.map((l) => l.toRecord())).toEqual([{ cluster: 'e2e', replica: '0' }]);
      expect(info.store?.minTime).toBe(START);
      let series = 0;
      let samples = 0;
      for await (const batch of client.series({ minTime: START, maxTime: END, matchers: [{ type: 0, name: '__name__', value: 'bf' }] }, { timeoutMs: 10_000 })) {
        for (const f of batch) {
          if (f.kind !== 'series') continue;
          series++;
          expect(f.series.labels.get('cluster')).toBe('e2e');
          for (const c of f.series.chunks) samples += c.raw !== undefined ? new DataView(c.raw.data.buffer, c.raw.data.byteOffset).getUint16(0) : 0;
        }
      }
      expect(series).toBe(2);
      expect(samples).toBe(2 * ((END - START) / STEP + 1));
    } finally {
      client.close();
    }

    // kill -9, then a new sidecar on the same state: nothing is uploaded again.
    await sc.proc.kill();
    const state = JSON.parse(await readFile(join(tsdb, 'thanos.shipper.json'), 'utf8')) as { version: number; uploaded: string[] };
    expect(state).toEqual({ version: 1, uploaded: blocks });
    const sc2 = await startSidecar();
    await waitForHttp(`http://127.0.0.1:${sc2.http}/-/ready`, 60_000);
    await waitFor('a shipper pass', async () => ((await metric(sc2.http, 'thanos_shipper_dir_syncs_total')) ?? 0) >= 2, 30_000, 200);
    expect(await metric(sc2.http, 'thanos_shipper_uploads_total')).toBe(0);
    await sc2.proc.stop();
    expect(sc2.proc.proc.exitCode).toBe(0);
  });

  test('refuses to start when Prometheus has no external labels', async () => {
    await writeConfig('prometheus.yml', false);
    await fetch(`http://127.0.0.1:${promPort}/-/reload`, { method: 'POST' });
    try {
      const sc = await startSidecar(['--prometheus.ready_timeout=3s']);
      await waitFor('sidecar exit', async () => sc.proc.proc.exitCode !== null, 30_000, 100);
      expect(sc.proc.proc.exitCode).toBe(1);
      expect(sc.proc.output()).toMatch(/no external labels configured on Prometheus/);
    } finally {
      await writeConfig('prometheus.yml', true);
      await fetch(`http://127.0.0.1:${promPort}/-/reload`, { method: 'POST' });
    }
  });
});
