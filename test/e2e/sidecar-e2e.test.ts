/**
 * Issue 6 acceptance, end to end with real processes: two Prometheus 2.42 servers (external labels
 * {cluster="c1", replica="a"|"b"}) scraping each other every second, with promtool-backfilled 2h
 * blocks (6 hours of `tools gen openmetrics` data, replica b shifted and with a 10-minute gap); a
 * `tessera sidecar` beside each, shipping to a real MinIO through a slow TCP proxy (so uploads take
 * seconds and can be interrupted); `tessera store` on the bucket; `tessera query` deduplicating on
 * `replica` over the two sidecars and the store.
 *
 * The tests run in order and share the processes:
 *  1. MinIO is killed (SIGKILL) 200 KB into a chunk file of sidecar a's upload, then restarted:
 *     every block lands once, byte-identical to the local files; no block is ever visible with a
 *     missing or short file, and the store never loads more blocks than are complete.
 *  2. sidecar b is killed with SIGKILL right after its first block is complete in the bucket;
 *     restarted, it uploads only the rest (no PUT at all for completed blocks).
 *  3. live data answers through the sidecars (deduplicated and raw), and queries over the
 *     backfilled range (served by sidecars and store together) answer what Prometheus a answers.
 *  4. Prometheus down: the sidecar reports not ready, Series answers UNAVAILABLE naming
 *     Prometheus, the querier still answers from replica b; it recovers when Prometheus is back.
 *  5. Prometheus restarted without its blocks: the same queries answer the same from the store.
 *
 * Processes bind ports proposed by freePort; on this shared machine a port can be taken in between,
 * so components start through startBound (new ports on EADDRINUSE) and the querier starts last.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcStoreClient, StoreError } from '../../pkg/store/index.js';
import { freePort, requireBinary, startMinio, waitFor, type MinioServer } from '../../pkg/testutil/index.js';
import {
  BucketObserver,
  PrometheusServer,
  SlowProxy,
  apiQuery,
  backfill,
  blockDirs,
  localBlockFiles,
  metricValue,
  normalize,
  startQuerier,
  startSidecar,
  startStore,
  startBound,
  BOUND,
  waitMetric,
  waitReady,
  type BucketObject,
  type PromResult,
  type PromSeries,
  type TesseraComponent,
} from './sidecar-services.js';

const prometheusBin = requireBinary('prometheus');
const promtoolBin = requireBinary('promtool');
const minioBin = requireBinary('minio');

const BUCKET = 'tessera-sidecar-e2e';
const HOUR = 3600;
/** Backfill 6h starting 8–10h ago, 2h aligned: three 2h blocks per replica, all older than Prometheus's head. */
const START = Math.floor((Date.now() / 1000 - 8 * HOUR) / (2 * HOUR)) * 2 * HOUR;
const HOURS = 6;
const END = START + HOURS * HOUR - 15;
/** Upload speed per connection through the proxy: a ~700 KB block takes ~2 s. */
const SLOW = 350_000;

let dir: string;
let minio: MinioServer | undefined;
let observer: BucketObserver | undefined;
const proxies: SlowProxy[] = [];
const proms: PrometheusServer[] = [];
const comps: TesseraComponent[] = [];
let blocks: { a: string[]; b: string[] };
let store: TesseraComponent;
let proxyA: SlowProxy;
let proxyB: SlowProxy;
let querier: TesseraComponent;
let sidecarA: TesseraComponent;
let sidecarB: TesseraComponent | undefined;

/**
 * storeWatch checks, while blocks are shipped, that the store never loads more blocks than the
 * bucket shows complete: it reads the store's loaded count, then lists the bucket (blocks only get
 * added during the shipping tests, so a later listing can only show more).
 */
const storeWatch = { stop: false, loop: undefined as Promise<void> | undefined, violations: [] as string[], checks: 0, sawPartial: 0 };
function watchStore(store: TesseraComponent): void {
  storeWatch.loop = (async () => {
    while (!storeWatch.stop) {
      try {
        const loaded = await metricValue(store.httpUrl, 'thanos_blocks_meta_synced{state="loaded"}');
        const partial = await metricValue(store.httpUrl, 'thanos_blocks_meta_synced{state="no-meta-json"}');
        const visible = (await observer!.visibleBlocks()).length;
        if (loaded !== undefined) {
          storeWatch.checks++;
          if (loaded > visible) storeWatch.violations.push(`store loaded ${loaded} blocks while the bucket had ${visible} complete`);
        }
        if ((partial ?? 0) > 0) storeWatch.sawPartial++;
      } catch {
        // MinIO or the store is down for a moment
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

function track(c: TesseraComponent): TesseraComponent {
  comps.push(c);
  return c;
}

/** objects lists the objects of one block in the bucket, keyed by path inside the block. */
async function blockObjects(ulid: string): Promise<Map<string, BucketObject>> {
  return new Map((await observer!.list(`${ulid}/`)).map((o) => [o.key.slice(ulid.length + 1), o]));
}

/** expectShippedIntact checks a block in the bucket: exactly the local files, byte for byte, plus a Thanos meta.json. */
async function expectShippedIntact(promDir: string, ulid: string, replica: string): Promise<void> {
  const local = await localBlockFiles(join(promDir, ulid));
  const objs = await blockObjects(ulid);
  expect([...objs.keys()].sort()).toEqual([...local.keys(), 'meta.json'].sort());
  for (const [rel, f] of local) {
    const body = await observer!.get(`${ulid}/${rel}`);
    expect({ rel, size: body.length, sha256: createHash('sha256').update(body).digest('hex') }).toEqual({ rel, ...f });
  }
  const meta = await observer!.meta(ulid);
  const localMeta = JSON.parse(await readFile(join(promDir, ulid, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number; stats: unknown };
  expect(meta.thanos.labels).toEqual({ cluster: 'c1', replica });
  expect(meta.thanos.source).toBe('sidecar');
  expect({ minTime: meta.minTime, maxTime: meta.maxTime, stats: meta.stats, level: meta.compaction.level }).toEqual({ minTime: localMeta.minTime, maxTime: localMeta.maxTime, stats: localMeta.stats, level: 1 });
  for (const f of meta.thanos.files) if (f.rel_path !== 'meta.json') expect(f.size_bytes).toBe(local.get(f.rel_path)?.size);
}

function q(path: string, params: Record<string, string | readonly string[]>): Promise<PromResult> {
  return apiQuery(querier.httpUrl, path, params);
}

interface StoreStatus {
  name: string;
  healthy: boolean;
  labelSets: Record<string, string>[];
  minTime: number;
  lastError: string | null;
}

async function stores(): Promise<StoreStatus[]> {
  return ((await (await fetch(`${querier.httpUrl}/api/v1/stores`)).json()) as { data: StoreStatus[] }).data;
}

/**
 * Queries over the backfilled range, compared between the querier and Prometheus a (before and
 * after its blocks go). Evaluation times are 7s off the 15s sample grid: Prometheus 2.42 includes a
 * sample exactly at the left edge of a range selector, Tessera (like Prometheus 3 and current
 * Thanos) does not, and the answers must not depend on that.
 */
const OFF = 7;
const historical: { name: string; path: string; params: Record<string, string>; raw?: boolean }[] = [
  { name: 'instant rate by instance/mode', path: '/api/v1/query', params: { query: 'sum by (instance, mode) (rate(node_cpu_seconds_total[5m]))', time: String(START + HOUR + 2 * 60 + OFF) } },
  // While a sidecar and the store both serve this range, the sidecar's chunks are trimmed to the
  // query range by remote read (not byte-identical to the block's), and a window ending 7s after a
  // 120-sample chunk boundary makes the overlap split chain a chunk of replica a with one of b.
  { name: 'instant rate just after a chunk boundary', path: '/api/v1/query', params: { query: 'sum by (instance, mode) (rate(node_cpu_seconds_total[5m]))', time: String(START + HOUR + OFF) } },
  { name: 'range across all blocks', path: '/api/v1/query_range', params: { query: 'sum by (instance, code) (rate(http_requests_total[5m]))', start: String(START + 300 + OFF), end: String(END), step: '300' } },
  // Replica b resumes 370 ms after a's last sample before the range end; the sidecars trim chunks
  // to the query range, so b's chunk is that one sample, chained after a's by the overlap split.
  { name: 'raw samples inside replica b\'s gap, b resuming at the range end', path: '/api/v1/query', params: { query: 'node_memory_MemAvailable_bytes[10m]', time: String(START + 3 * HOUR + 600 + OFF) }, raw: true },
  { name: 'raw samples across a block boundary', path: '/api/v1/query', params: { query: 'node_network_receive_bytes_total{device="eth0"}[20m]', time: String(START + 2 * HOUR + 600 + OFF) }, raw: true },
  { name: 'count_over_time over the whole data', path: '/api/v1/query', params: { query: 'count_over_time(up{job="node"}[6h])', time: String(END + OFF) } },
  { name: 'histogram quantile', path: '/api/v1/query_range', params: { query: 'histogram_quantile(0.9, sum by (le, handler) (rate(http_request_duration_seconds_bucket[10m])))', start: String(START + HOUR + OFF), end: String(START + 5 * HOUR), step: '900' } },
];
const expected = new Map<string, ReturnType<typeof normalize>>();

/**
 * expectQuerierMatchesExpected compares the querier's answers with Prometheus a's; with `stores`,
 * the querier reads only those endpoints (Thanos `storeMatch[]`).
 */
async function expectQuerierMatchesExpected(stores?: readonly TesseraComponent[]): Promise<void> {
  const only = stores === undefined ? {} : { 'storeMatch[]': stores.map((s) => `{__address__="${s.grpcAddress}"}`) };
  for (const h of historical) {
    const got = await q(h.path, { ...h.params, ...only });
    const what = `${h.name} (from ${stores === undefined ? 'all endpoints' : stores.map((c) => c.proc.proc.spawnargs[4]).join(' + ')})`;
    expect(got.result.length, what).toBeGreaterThan(0);
    // Raw series carry the external labels, without the replica label (deduplicated).
    if (h.raw === true) for (const s of got.result) expect([s.metric['cluster'], s.metric['replica']], what).toEqual(['c1', undefined]);
    const want = expected.get(h.name)!;
    // Raw samples must be identical; computed values may differ in the last bits (summation order
    // and Kahan summation differ between Prometheus 2.42 and the Prometheus 3 semantics we follow).
    expect(normalize(got, ['cluster']), what).toEqual(h.raw === true ? want : withValuesCloseTo(want));
  }
}

/** withValuesCloseTo turns every value of an answer into an asymmetric matcher with 1e-12 relative tolerance. */
function withValuesCloseTo(series: PromSeries[]): unknown[] {
  const close = ([t, v]: [number, string]) => [t, expect.toSatisfy((x: string) => Number(x) === Number(v) || Math.abs(Number(x) - Number(v)) <= 1e-12 * Math.abs(Number(v)), `≈ ${v}`)];
  return series.map((s) => ({ metric: s.metric, ...(s.value ? { value: close(s.value) } : {}), ...(s.values ? { values: s.values.map(close) } : {}) }));
}

describe.skipIf(prometheusBin === undefined || promtoolBin === undefined || minioBin === undefined)('issue 6: sidecar end to end (Prometheus, MinIO, store, querier)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-sidecar-e2e-'));
    minio = await startMinio(minioBin!);
    await minio.createBucket(BUCKET);
    observer = new BucketObserver(minio, BUCKET);
    const minioPort = Number(minio.endpoint.split(':')[1]);
    proxyA = await SlowProxy.start(minioPort, SLOW);
    proxyB = await SlowProxy.start(minioPort, SLOW);
    proxies.push(proxyA, proxyB);

    const promPorts = [await freePort(), await freePort()] as const;
    const targets = promPorts.map((p) => `127.0.0.1:${p}`);
    blocks = { a: [], b: [] };
    for (const [i, r] of (['a', 'b'] as const).entries()) {
      const dataDir = join(dir, `prom-${r}`);
      blocks[r] = await backfill({ promtool: promtoolBin!, workDir: dir, dataDir, replica: r, startSec: START, hours: HOURS });
      const p = new PrometheusServer({ bin: prometheusBin!, port: promPorts[i]!, dataDir, configFile: join(dir, `prom-${r}.yml`) });
      await p.writeConfig({ cluster: 'c1', replica: r }, targets);
      proms.push(p);
    }
    await Promise.all(proms.map((p) => p.start()));
    observer.watch();

    store = track(await startBound((grpcPort, httpPort) => startStore({ dataDir: join(dir, 'store'), grpcPort, httpPort, minio: minio!, bucket: BUCKET }), BOUND.store));
    watchStore(store);
  });

  afterAll(async () => {
    storeWatch.stop = true;
    await storeWatch.loop;
    await observer?.close();
    await Promise.allSettled(comps.map((c) => c.proc.stop()));
    // TESSERA_E2E_LOGS=<dir> keeps every process's output for a look after the run.
    const logs = process.env['TESSERA_E2E_LOGS'];
    if (logs) {
      await mkdir(logs, { recursive: true });
      for (const [i, c] of comps.entries()) await writeFile(join(logs, `sidecar-e2e-${i}-${c.proc.proc.spawnargs[4] ?? 'proc'}.log`), c.proc.output());
      for (const [i, p] of proms.entries()) await writeFile(join(logs, `sidecar-e2e-prometheus-${i}.log`), p.output());
    }
    await Promise.allSettled(proms.map((p) => p.stop()));
    await Promise.allSettled(proxies.map((p) => p.close()));
    await minio?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('MinIO killed while a block ships, then restarted: each block lands once, complete, never visible half-written', async () => {
    expect(blocks.a).toHaveLength(3);
    sidecarA = track(await startBound((grpcPort, httpPort) => startSidecar({ prometheus: proms[0]!, grpcPort, httpPort, minio: minio!, bucket: BUCKET, s3Endpoint: proxyA.endpoint }), BOUND.sidecar));
    // A chunk file is on the (slow) wire, 200 KB of it sent, its block's meta.json not yet: kill MinIO now.
    const req = await waitFor('a chunk upload of replica a 200 KB under way through the proxy', async () => proxyA.requests.find((r) => r.method === 'PUT' && r.path.includes('/chunks/') && r.sent >= 200_000), 60_000, 10).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${sidecarA.proc.output()}`);
    });
    const inflight = req.path;
    const ulid = inflight.split('/')[2]!;
    expect(blocks.a).toContain(ulid);
    await minio!.halt();
    expect(proxyA.puts()).not.toContain(`/${BUCKET}/${ulid}/meta.json`);
    const size = (await localBlockFiles(join(proms[0]!.dataDir, ulid))).get(inflight.split('/').slice(3).join('/'))!.size;
    expect(req.sent, 'MinIO went down in the middle of the file').toBeLessThan(size);
    await waitMetric(sidecarA, 'thanos_shipper_upload_failures_total', (v) => v >= 1);
    expect(await metricValue(sidecarA.httpUrl, 'thanos_shipper_uploads_total')).toBe(0);

    await minio!.restart();
    const restartedAt = proxyA.requests.length;
    // Right after the restart the interrupted block is not visible: its upload starts over (slowly).
    expect(await observer!.visibleBlocks()).not.toContain(ulid);
    await waitMetric(sidecarA, 'thanos_shipper_uploads_total', (v) => v >= blocks.a.length, 90_000);
    const syncs = (await metricValue(sidecarA.httpUrl, 'thanos_shipper_dir_syncs_total'))!;
    await waitMetric(sidecarA, 'thanos_shipper_dir_syncs_total', (v) => v >= syncs + 2);
    expect(await metricValue(sidecarA.httpUrl, 'thanos_shipper_uploads_total')).toBe(blocks.a.length);

    expect(await observer!.visibleBlocks()).toEqual(blocks.a);
    for (const u of blocks.a) await expectShippedIntact(proms[0]!.dataDir, u, 'a');
    // Each block was committed once: the sidecar counted one upload per block, and after the restart
    // no meta.json was sent twice (a meta.json cut by the halt may have been sent before). The
    // interrupted chunk file was sent again after the restart.
    const puts = proxyA.puts();
    const putsAfterRestart = proxyA.requests.slice(restartedAt).filter((r) => r.method === 'PUT').map((r) => r.path);
    for (const u of blocks.a) expect(putsAfterRestart.filter((p) => p === `/${BUCKET}/${u}/meta.json`).length, u).toBeLessThanOrEqual(1);
    expect(puts.filter((p) => p === inflight).length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(await readFile(join(proms[0]!.dataDir, 'thanos.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: blocks.a });
    await observer!.check();
    expect(observer!.violations).toEqual([]);
    expect(observer!.listings).toBeGreaterThan(10);
  });

  test('sidecar killed with SIGKILL mid-upload resumes without re-uploading complete blocks', async () => {
    expect(blocks.b).toHaveLength(3);
    const start = async () => track(await startBound((grpcPort, httpPort) => startSidecar({ prometheus: proms[1]!, grpcPort, httpPort, minio: minio!, bucket: BUCKET, s3Endpoint: proxyB.endpoint }), BOUND.sidecar));
    const first = await start();
    const isB = (u: string) => blocks.b.includes(u);
    await waitFor('the first complete block of replica b in the bucket', async () => (await observer!.visibleBlocks()).some(isB), 60_000, 10).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${first.proc.output()}`);
    });
    await first.proc.kill();
    expect(first.proc.proc.signalCode).toBe('SIGKILL');
    const complete = (await observer!.visibleBlocks()).filter(isB);
    expect(complete.length).toBeGreaterThanOrEqual(1);
    expect(complete.length, 'the kill came before every block was shipped').toBeLessThan(blocks.b.length);
    const before = new Map<string, BucketObject[]>();
    for (const u of complete) before.set(u, [...(await blockObjects(u)).values()]);
    const putsBefore = proxyB.puts().length;

    proxyB.setRate(undefined);
    sidecarB = await start();
    await waitReady(sidecarB);
    await waitFor('every block of replica b in the bucket', async () => blocks.b.every((u) => observer!.metas.has(u)) || undefined, 60_000, 100).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${sidecarB!.proc.output()}`);
    });
    const syncs = (await metricValue(sidecarB.httpUrl, 'thanos_shipper_dir_syncs_total'))!;
    await waitMetric(sidecarB, 'thanos_shipper_dir_syncs_total', (v) => v >= syncs + 2);
    expect(await metricValue(sidecarB.httpUrl, 'thanos_shipper_uploads_total')).toBe(blocks.b.length - complete.length);
    const putsAfter = proxyB.puts().slice(putsBefore);
    for (const u of complete) {
      expect(putsAfter.filter((p) => p.includes(u)), `PUTs for complete block ${u} after the restart`).toEqual([]);
      expect([...(await blockObjects(u)).values()]).toEqual(before.get(u));
    }
    // The others were committed once by the restarted sidecar (a meta.json cut by the kill may have been sent before).
    for (const u of blocks.b.filter((x) => !complete.includes(x))) expect(putsAfter.filter((p) => p === `/${BUCKET}/${u}/meta.json`), u).toHaveLength(1);
    for (const u of blocks.b) await expectShippedIntact(proms[1]!.dataDir, u, 'b');
    expect(JSON.parse(await readFile(join(proms[1]!.dataDir, 'thanos.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: blocks.b });
    await observer!.check();
    expect(observer!.violations).toEqual([]);
  });

  test('live data answers through the sidecars, deduplicated on replica; history matches Prometheus', async () => {
    await waitReady(sidecarA);
    const endpoints = [sidecarA.grpcAddress, sidecarB!.grpcAddress, store.grpcAddress];
    querier = track(await startBound((grpcPort, httpPort) => startQuerier({ grpcPort, httpPort, endpoints, replicaLabel: 'replica' }), BOUND.query));
    await waitFor('both sidecars healthy in the querier', async () => {
      const s = await stores();
      const labels = s.filter((e) => e.healthy).flatMap((e) => e.labelSets);
      return labels.some((l) => l['replica'] === 'a') && labels.some((l) => l['replica'] === 'b');
    }, 30_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${querier.proc.output()}`);
    });
    // Each Prometheus scrapes both: 2 targets x 2 replicas raw, 2 series deduplicated.
    const raw = await waitFor('live up series from both replicas', async () => {
      const r = await q('/api/v1/query', { query: 'up{job="tessera-e2e"}', dedup: 'false' });
      return r.result.length === 4 ? r : undefined;
    }, 30_000, 200);
    expect(raw.result.map((s) => `${s.metric['replica']} ${s.metric['instance']}`).sort()).toEqual(
      ['a', 'b'].flatMap((r) => proms.map((p) => `${r} 127.0.0.1:${p.port}`)).sort(),
    );
    for (const s of raw.result) expect(s.metric['cluster']).toBe('c1');
    const dedup = await q('/api/v1/query', { query: 'up{job="tessera-e2e"}' });
    expect(normalize(dedup).map((s) => s.metric)).toEqual(proms.map((p) => ({ __name__: 'up', cluster: 'c1', instance: `127.0.0.1:${p.port}`, job: 'tessera-e2e' })).sort((x, y) => (x.instance < y.instance ? -1 : 1)));
    expect(dedup.result.map((s) => s.value![1])).toEqual(['1', '1']);

    // History: Prometheus a's own answers are the reference.
    for (const h of historical) {
      const want = await apiQuery(proms[0]!.url, h.path, h.params);
      expect(want.result.length, h.name).toBeGreaterThan(0);
      expected.set(h.name, normalize(want));
    }
    // The backfilled range is in both Prometheus servers and the bucket: the same answers from
    // sidecars and store together, from the sidecars alone and from the store alone.
    await expectQuerierMatchesExpected();
    await expectQuerierMatchesExpected([sidecarA, sidecarB!]);
    await expectQuerierMatchesExpected([store]);
  });


  test('Prometheus down: sidecar not ready, StoreAPI answers UNAVAILABLE naming Prometheus; it recovers by itself', async () => {
    const promA = proms[0]!;
    await promA.stop();
    await waitFor('sidecar a /-/ready answering 503', async () => (await fetch(`${sidecarA.httpUrl}/-/ready`)).status === 503, 30_000, 100);
    expect((await fetch(`${sidecarA.httpUrl}/-/healthy`)).status).toBe(200);
    expect(await metricValue(sidecarA.httpUrl, 'thanos_sidecar_prometheus_up')).toBe(0);
    const client = new GrpcStoreClient(sidecarA.grpcAddress);
    const now = Date.now();
    const seriesCount = async (): Promise<number> => {
      let n = 0;
      for await (const batch of client.series({ minTime: now - 600_000, maxTime: Date.now(), matchers: [{ type: 0, name: '__name__', value: 'up' }, { type: 0, name: 'job', value: 'tessera-e2e' }] }, { timeoutMs: 10_000 })) {
        for (const f of batch) if (f.kind === 'series') n++;
      }
      return n;
    };
    try {
      const err = await seriesCount().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).grpcCode).toBe(14); // UNAVAILABLE
      expect((err as StoreError).message).toMatch(/Prometheus/);
      expect((err as StoreError).message).toContain(`127.0.0.1:${promA.port}`);

      // The querier still answers from replica b, with a warning about the failed endpoint.
      const r = await q('/api/v1/query', { query: 'up{job="tessera-e2e"}' });
      expect(r.result).toHaveLength(2);
      expect(r.warnings.length).toBeGreaterThan(0);

      await promA.start();
      await waitReady(sidecarA, 30_000);
      expect(await metricValue(sidecarA.httpUrl, 'thanos_sidecar_prometheus_up')).toBe(1);
      expect(await seriesCount()).toBe(2);
    } finally {
      client.close();
    }
  });

  test('after Prometheus deletes its blocks, the same queries answer from the store', async () => {
    const allBlocks = [...blocks.a, ...blocks.b].sort();
    // While blocks were shipped (and half-shipped), the store never loaded one that was not complete.
    storeWatch.stop = true;
    await storeWatch.loop;
    expect(storeWatch.violations).toEqual([]);
    expect(storeWatch.checks).toBeGreaterThan(10);
    console.info(`store watch: ${storeWatch.checks} checks, ${storeWatch.sawPartial} saw a block without meta.json`);
    await waitFor('the store serving every shipped block', async () => {
      const s = (await stores()).find((e) => e.name === store.grpcAddress);
      return s?.healthy === true && s.minTime <= START * 1000 && s.labelSets.length === 2;
    }, 60_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${store.proc.output()}`);
    });
    // Both Prometheus servers lose their blocks (as retention would delete them).
    for (const p of proms) {
      await p.stop();
      for (const u of await blockDirs(p.dataDir)) await rm(join(p.dataDir, u), { recursive: true });
    }
    await Promise.all(proms.map((p) => p.start()));
    for (const p of proms) expect((await p.query('count(node_cpu_seconds_total)', START + HOUR)).result).toEqual([]);
    await expectQuerierMatchesExpected();
    // Deduplicated answers now come from the store only: the same with dedup=false keeps both replicas.
    const both = await q('/api/v1/query', { query: 'count by (replica) (node_memory_MemAvailable_bytes)', time: String(START + HOUR), dedup: 'false' });
    expect(normalize(both).map((s) => [s.metric['replica'], s.value![1]])).toEqual([['a', '3'], ['b', '3']]);
    expect(await metricValue(store.httpUrl, 'thanos_blocks_meta_synced{state="loaded"}')).toBe(allBlocks.length);
    expect(await metricValue(store.httpUrl, 'thanos_blocks_meta_synced{state="no-meta-json"}')).toBe(0);
    // Nothing was shipped again.
    expect(await metricValue(sidecarA.httpUrl, 'thanos_shipper_uploads_total')).toBe(blocks.a.length);
    expect(await observer!.visibleBlocks()).toEqual(allBlocks);
    expect(observer!.violations).toEqual([]);
  });
});
