import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCaptured } from './run-captured.js';
import { queryCommand } from './query.js';
import { versionInfo } from './version.js';
import { Labels } from '../pkg/labels/index.js';
import { StoreGrpcServer, type SeriesSink } from '../pkg/store/index.js';
import type { InfoResponse } from '../pkg/storepb/index.js';
import { freePort, startProcess, waitFor } from '../pkg/testutil/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tessera = (args: readonly string[]) => startProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), ...args], { cwd: repoRoot });

let base: string;
let bucketYml: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tessera-operability-'));
  bucketYml = join(base, 'bucket.yml');
  await writeFile(bucketYml, `type: FILESYSTEM\nconfig:\n  directory: ${join(base, 'bucket')}\n`);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('--version', () => {
  const line = /^tessera, version 0\.1\.0 \(branch: \S+, revision: \S+\)\n/;
  test('tessera --version prints the version line as Thanos does', async () => {
    const p = tessera(['--version']);
    await waitFor('tessera --version to exit', async () => p.proc.exitCode !== null, 60_000);
    expect(p.proc.exitCode).toBe(0);
    expect(p.output()).toMatch(line);
    expect(p.output()).toMatch(/node version: +v\d+/);
  }, 90_000);
  test('every command takes --version', async () => {
    const r = await runCaptured({ name: 'tessera', help: '', subcommands: [queryCommand] }, ['query', '--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line);
  });
});

describe('log flags', () => {
  test.each([
    [['--log.level=trace'], /--log.level: unknown level "trace"/],
    [['--log.format=text'], /--log.format: unknown format "text"/],
  ])('%j is a usage error', async (argv, want) => {
    const r = await runCaptured({ name: 'tessera', help: '', subcommands: [queryCommand] }, ['query', ...argv]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(want);
  });
});

/**
 * Each component as a process: --log.format=json gives JSON lines, /-/healthy answers 200,
 * /-/ready answers as the component's state says, SIGTERM ends it with exit code 0.
 */
describe.each([
  ['query', (http: number, grpc: number) => ['query', `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`], 200],
  ['store', (http: number, grpc: number) => ['store', `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, `--objstore.config-file=${bucketYml}`, `--data-dir=${join(base, 'store')}`], 200],
  // No Prometheus answers at this URL: healthy, never ready.
  ['sidecar', (http: number, grpc: number) => ['sidecar', `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, '--prometheus.url=http://127.0.0.1:1'], 503],
  ['query-frontend', (http: number) => ['query-frontend', `--http-address=127.0.0.1:${http}`, '--query-frontend.downstream-url=http://127.0.0.1:1'], 200],
  ['compact', (http: number) => ['compact', '--wait', '--wait-interval=1h', `--http-address=127.0.0.1:${http}`, `--objstore.config-file=${bucketYml}`, `--data-dir=${join(base, 'compact')}`], 200],
] as const)('tessera %s', (name, args, readyStatus) => {
  test('json logs, /-/healthy, /-/ready, SIGTERM exits 0', async () => {
    const http = await freePort();
    const grpc = await freePort();
    const p = tessera([...args(http, grpc), '--log.format=json', '--log.level=debug']);
    try {
      await waitFor(`${name} /-/healthy`, async () => {
        if (p.proc.exitCode !== null) throw new Error(`exited: ${p.output()}`);
        return (await fetch(`http://127.0.0.1:${http}/-/healthy`)).status === 200;
      }, 60_000);
      const ready = await waitFor(`${name} /-/ready`, async () => {
        const res = await fetch(`http://127.0.0.1:${http}/-/ready`);
        await res.arrayBuffer();
        return res.status === readyStatus ? res.status : undefined;
      }, 30_000);
      expect(ready).toBe(readyStatus);
      // An unknown path: Go's plain 404, as Prometheus and Thanos (the query-frontend passes it on).
      if (name !== 'query-frontend') {
        const res = await fetch(`http://127.0.0.1:${http}/no-such-path`);
        expect(res.status).toBe(404);
        expect(await res.text()).toBe('404 page not found\n');
      }
      if (name === 'query') {
        const info = (await (await fetch(`http://127.0.0.1:${http}/api/v1/status/buildinfo`)).json()) as { data: { version: string; revision: string } };
        expect(info.data).toMatchObject({ version: '0.1.0', revision: versionInfo().revision });
      }
    } finally {
      await p.stop(20_000);
    }
    expect(p.proc.exitCode, p.output()).toBe(0);
    const lines = p.output().split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      const o = JSON.parse(l) as Record<string, unknown>;
      expect(o['component']).toBe(name);
      expect(['debug', 'info', 'warn', 'error']).toContain(o['level']);
    }
    expect(lines.some((l) => /shutting down/.test(l))).toBe(true);
  }, 120_000);
});

describe('graceful SIGTERM', () => {
  test('the querier finishes a query in flight, then exits 0', async () => {
    // A StoreAPI endpoint whose Series call waits until the test releases it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const inFlight = new Promise<void>((r) => (reached = r));
    const info: InfoResponse = { labelSets: [Labels.fromStrings('site', 'x')], componentType: 'store', store: { minTime: 0, maxTime: 9_000_000_000_000 } };
    const store = new StoreGrpcServer({
      info: () => Promise.resolve(info),
      async series(_req, sink: SeriesSink) {
        reached();
        await released;
        await sink.send({ kind: 'series', series: { labels: Labels.fromStrings('__name__', 'slow_metric', 'site', 'x'), chunks: [] } });
      },
      labelNames: () => Promise.resolve({ names: [], warnings: [] }),
      labelValues: () => Promise.resolve({ values: [], warnings: [] }),
    });
    const storePort = await store.listen('127.0.0.1:0');
    const http = await freePort();
    const p = tessera(['query', `--endpoint=127.0.0.1:${storePort}`, `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${await freePort()}`]);
    try {
      await waitFor('query ready', async () => {
        if (p.proc.exitCode !== null) throw new Error(p.output());
        return (await fetch(`http://127.0.0.1:${http}/-/ready`)).ok && /endpoint healthy/.test(p.output());
      }, 60_000);
      const answer = fetch(`http://127.0.0.1:${http}/api/v1/series?match[]=slow_metric`).then(async (r) => ({ status: r.status, body: await r.text() }));
      await inFlight;
      p.proc.kill('SIGTERM');
      await waitFor('shutting down logged', async () => /shutting down/.test(p.output()), 30_000);
      release();
      const res = await answer;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'success', data: [{ __name__: 'slow_metric', site: 'x' }] });
      await waitFor('query exit', async () => p.proc.exitCode !== null, 30_000);
      expect(p.proc.exitCode, p.output()).toBe(0);
    } finally {
      release();
      await p.stop();
      await store.stop(1000);
    }
  }, 120_000);
});

describe('tessera query --log.level', () => {
  test('warn keeps warnings (an unreachable endpoint) and drops info lines', async () => {
    const http = await freePort();
    const p = tessera(['query', `--endpoint=127.0.0.1:${await freePort()}`, `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${await freePort()}`, '--log.level=warn']);
    try {
      await waitFor('query ready', async () => {
        if (p.proc.exitCode !== null) throw new Error(p.output());
        return (await fetch(`http://127.0.0.1:${http}/-/ready`)).ok;
      }, 60_000);
      await waitFor('endpoint unhealthy warning', async () => /level=warn component=query msg="endpoint unhealthy"/.test(p.output()), 30_000);
    } finally {
      await p.stop(20_000);
    }
    expect(p.proc.exitCode).toBe(0);
    expect(p.output()).not.toMatch(/level=info/);
  }, 120_000);
});
