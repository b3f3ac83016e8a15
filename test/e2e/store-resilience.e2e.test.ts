import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { Querier } from '../../pkg/querier/index.js';
import { freePort, testQuerierOptions, waitFor, writeTestBlock } from '../../pkg/testutil/index.js';
import type { BlockMeta } from '../../pkg/tsdb/index.js';
import { startService, tesseraArgs, type Service } from './services.js';

/**
 * Issue 13, items 3 and 7, against a real `tessera store` process and an in-process querier:
 * two replicas' blocks over the same 6 h in a FILESYSTEM bucket, 20 hosts.
 *
 * - One chunk file of replica a truncated (`truncate -s`), store restarted: every query still
 *   returns the full data (replica b covers it), with one warning naming block, file and offset;
 *   partial_response=false still answers; the store logs the failure and counts it.
 * - The store killed and restarted on the same port: the querier uses it again from its first health
 *   check after the restart, whatever gRPC's reconnect backoff has grown to during the outage.
 */
const START = 1_767_225_600_000;
const HOURS = 6;
const STEP = 15_000;
const HOSTS = 20;
const POLL_MS = 500;

let work: string;
let bucketDir: string;
let config: string;
let blocks: { a: BlockMeta; b: BlockMeta };
let grpcPort: number;
let httpPort: number;
let store: Service | undefined;
let querier: Querier;
let api: string;

function series(): { labels: Labels; samples: [number, number][] }[] {
  const n = (HOURS * 3_600_000) / STEP;
  return Array.from({ length: HOSTS }, (_, h) => ({
    labels: Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', `host-${String(h).padStart(2, '0')}:9100`, 'job', 'node'),
    samples: Array.from({ length: n }, (_, i) => [START + i * STEP, i * (1 + h / 10)] as [number, number]),
  }));
}

/** Starts `tessera store` on the fixed ports (so a restart is on the same port) and waits until ready. */
async function startStore(): Promise<Service> {
  const args = ['store', `--objstore.config-file=${config}`, `--data-dir=${join(work, 'store-data')}`, `--grpc-address=127.0.0.1:${grpcPort}`, `--http-address=127.0.0.1:${httpPort}`];
  return startService('tessera store', process.execPath, tesseraArgs(args), { url: `http://127.0.0.1:${httpPort}/-/ready` }, { httpUrl: `http://127.0.0.1:${httpPort}`, grpcAddress: `127.0.0.1:${grpcPort}` });
}

interface ApiAnswer {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] };
  warnings?: string[];
  error?: string;
}

async function queryRange(q: string, params: Record<string, string> = {}): Promise<{ http: number; body: ApiAnswer }> {
  const qs = new URLSearchParams({ query: q, start: String(START / 1000), end: String((START + HOURS * 3_600_000) / 1000), step: '60', ...params });
  const res = await fetch(`${api}/api/v1/query_range?${qs}`);
  return { http: res.status, body: (await res.json()) as ApiAnswer };
}

function storeEndpoint(): { healthy: boolean; lastCheck: string } | undefined {
  const s = querier.endpointStatus().find((e) => e.address === `127.0.0.1:${grpcPort}`);
  return s === undefined ? undefined : { healthy: s.healthy, lastCheck: String(s.lastCheckMs) };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-store-resilience-'));
  bucketDir = join(work, 'bucket');
  const bkt = new FilesystemBucket({ directory: bucketDir });
  const all = series();
  blocks = {
    a: await writeTestBlock(bkt, all, Labels.fromStrings('cluster', 'c1', 'replica', 'a')),
    b: await writeTestBlock(bkt, all, Labels.fromStrings('cluster', 'c1', 'replica', 'b')),
  };
  config = join(work, 'bucket.yml');
  await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  grpcPort = await freePort();
  httpPort = await freePort();
  store = await startStore();
  querier = new Querier(testQuerierOptions([`127.0.0.1:${grpcPort}`], { timeoutMs: 60_000, maxSamples: 50_000_000, infoTimeoutMs: 2000, endpointPollIntervalMs: POLL_MS }));
  await querier.start();
  api = `http://127.0.0.1:${querier.httpPort}`;
  await waitFor('store healthy in the querier', async () => storeEndpoint()?.healthy === true, 30_000, 50);
});

afterAll(async () => {
  await querier?.stop();
  await store?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('store process with a truncated chunk file of one replica', () => {
  const Q = 'sum(rate(node_cpu_seconds_total[5m]))';

  test('queries return the intact data with one warning naming block, file and offset', async () => {
    const before = await queryRange(Q);
    expect(before.http).toBe(200);
    expect(before.body.data!.result).toHaveLength(1);
    expect(before.body.data!.result[0]!.values!.length).toBeGreaterThan(300);
    const beforeRaw = await queryRange('node_cpu_seconds_total', { dedup: 'false' });
    expect(beforeRaw.body.data!.result).toHaveLength(2 * HOSTS);

    // truncate -s <half> <bucket>/<block of replica a>/chunks/000001, then restart the store.
    await store!.stop();
    const seg = join(bucketDir, blocks.a.ulid, 'chunks', '000001');
    const size = (await stat(seg)).size;
    await truncate(seg, Math.floor(size / 2));
    store = await startStore();
    await waitFor('restarted store healthy in the querier', async () => storeEndpoint()?.healthy === true, 30_000, 50);

    const after = await queryRange(Q);
    expect(after.http).toBe(200);
    expect(after.body.data).toEqual(before.body.data);
    expect(after.body.warnings ?? []).toHaveLength(1);
    expect(after.body.warnings![0]).toMatch(new RegExp(`read chunk in ${blocks.a.ulid}/chunks/000001 at offset \\d+: .*left out \\d+ series of block ${blocks.a.ulid}`));

    // partial_response=false: nothing is really missing (replica b has it all), so it answers.
    const strict = await queryRange(Q, { partial_response: 'false' });
    expect(strict.http).toBe(200);
    expect(strict.body.data).toEqual(before.body.data);

    // Replicas apart: replica b complete, replica a only without its unreadable series.
    const raw = await queryRange('node_cpu_seconds_total', { dedup: 'false' });
    expect(raw.http).toBe(200);
    const got = raw.body.data!.result;
    expect(got.filter((s) => s.metric.replica === 'b')).toEqual(beforeRaw.body.data!.result.filter((s) => s.metric.replica === 'b'));
    const fromA = got.filter((s) => s.metric.replica === 'a');
    expect(fromA.length).toBeLessThan(HOSTS);
    for (const s of fromA) expect(s).toEqual(beforeRaw.body.data!.result.find((x) => x.metric.replica === 'a' && x.metric.instance === s.metric.instance));
    expect(raw.body.warnings ?? []).toHaveLength(1);
    // Here data is really missing: partial_response=false fails.
    const missing = await queryRange('node_cpu_seconds_total', { dedup: 'false', partial_response: 'false' });
    expect(missing.http).toBeGreaterThanOrEqual(400);
    expect(missing.body.status).toBe('error');

    // The store logged it and counted it.
    const metrics = await (await fetch(`${store!.httpUrl}/metrics`)).text();
    const failures = /tessera_bucket_store_chunk_read_failures_total\{reason="corrupt"\} (\d+)/.exec(metrics);
    expect(Number(failures?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/tessera_bucket_store_failed_blocks 1\b/);
    const log = store!.process.output();
    expect(log).toMatch(/level=error .*left out series of a block whose chunks cannot be read.*block=/);
    expect(log).toContain(blocks.a.ulid);
  });
});

/** Writes seeded random bytes (after the HTTP/2 preface for odd i) on a raw connection to port and closes it. */
function garbage(port: number, i: number): Promise<void> {
  let x = 0x9e3779b9 ^ i;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) & 0xff;
  };
  const body = Buffer.from(Array.from({ length: 64 + (i % 7) * 300 }, next));
  const data = i % 2 === 1 ? Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), body]) : body;
  return new Promise((resolve) => {
    const sock = tcpConnect(port, '127.0.0.1');
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.on('data', () => undefined);
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('connect', () => sock.end(data));
  });
}

describe('store process under garbage on its gRPC port', () => {
  test('stays up and keeps answering the querier', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => garbage(grpcPort, i)));
    expect(store!.process.proc.exitCode).toBeNull();
    const r = await queryRange('count(node_cpu_seconds_total)');
    expect(r.http).toBe(200);
    expect(r.body.data!.result).toHaveLength(1);
  });
});

describe('store process killed and restarted on the same port', () => {
  test('the querier uses it again from its first health check after the restart', async () => {
    await waitFor('store healthy in the querier', async () => storeEndpoint()?.healthy === true, 30_000, 50);
    await store!.kill();
    // Let the querier fail its checks for long enough that gRPC's reconnect backoff (1 s × 1.6ⁿ)
    // grows well past the check interval: 16 failed checks.
    const seen = new Set<string>();
    await waitFor(
      '16 failed health checks',
      async () => {
        const s = storeEndpoint();
        if (s !== undefined && !s.healthy) seen.add(s.lastCheck);
        return seen.size >= 16;
      },
      60_000,
      POLL_MS / 5,
    );
    store = await startStore();
    // The first health check that starts after the store is ready finds it: no check started
    // after this instant fails. (Counted in checks, not in wall-clock time, which a loaded machine
    // stretches.) A check is known to have failed once a later one has started while the
    // endpoint was still unhealthy; the last one seen is the one that succeeded.
    const ready = Date.now();
    const startedAfterReady = new Set<number>();
    const healthyAt = await waitFor(
      'restarted store healthy in the querier',
      async () => {
        const s = storeEndpoint();
        if (s === undefined) return undefined;
        if (Number(s.lastCheck) >= ready) startedAfterReady.add(Number(s.lastCheck));
        return s.healthy ? Number(s.lastCheck) : undefined;
      },
      60_000,
      20,
    );
    startedAfterReady.delete(healthyAt);
    expect([...startedAfterReady], 'health checks that started after the store was ready and failed').toEqual([]);
    const r = await queryRange('count(node_cpu_seconds_total)', { partial_response: 'false' });
    expect(r.http).toBe(200);
    expect(r.body.data!.result).toHaveLength(1);
  });
});
