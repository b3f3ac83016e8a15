import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chunkFromData, ValueType } from '../../pkg/chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../../pkg/labels/index.js';
import { BlockReader } from '../../pkg/tsdb/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { PrometheusClient, PrometheusStore, PrometheusWatcher, Shipper } from '../../pkg/sidecar/index.js';
import type { SeriesRequest, SeriesResponse, StoreSeries } from '../../pkg/storepb/index.js';
import { StoreError } from '../../pkg/store/index.js';
import { freePort, requireBinary, startProcess, waitFor, waitForHttp, type ManagedProcess } from '../../pkg/testutil/index.js';

const prometheusBin = requireBinary('prometheus');
const promtoolBin = requireBinary('promtool');
const have = prometheusBin !== undefined && promtoolBin !== undefined;

// Backfilled data: 3 series, one sample every 15 s over 3 h, ending 2 h ago (inside retention).
const STEP = 15_000;
const END = Math.floor((Date.now() - 2 * 3_600_000) / STEP) * STEP;
const START = END - 3 * 3_600_000;
const seriesDefs = [
  { labels: 'instance="a",job="bf"', f: (i: number) => i * 1.5 },
  { labels: 'instance="b",job="bf"', f: (i: number) => Math.sin(i / 10) * 100 },
  // Carries its own `cluster` label, which the external label overrides (as in Thanos).
  { labels: 'cluster="own",instance="c",job="bf"', f: (i: number) => (i % 7) - 3.25 },
];

let dir: string;
let tsdbDir: string;
let port: number;
let prom: ManagedProcess | undefined;
let client: PrometheusClient;
let watcher: PrometheusWatcher;
let store: PrometheusStore;

function startPrometheus(): ManagedProcess {
  return startProcess(prometheusBin!, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${tsdbDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.min-block-duration=2h',
    '--storage.tsdb.max-block-duration=2h',
    '--storage.tsdb.retention.time=30d',
  ]);
}

async function seriesOf(req: Partial<SeriesRequest> & Pick<SeriesRequest, 'matchers'>): Promise<StoreSeries[]> {
  const frames: SeriesResponse[] = [];
  await store.series({ minTime: START, maxTime: END, ...req }, { send: (r) => void frames.push(r) }, AbortSignal.timeout(30_000));
  const out: StoreSeries[] = [];
  for (const f of frames) {
    if (f.kind === 'series') out.push(f.series);
    else if (f.kind === 'batch') out.push(...f.batch);
    else throw new Error(`unexpected frame ${f.kind}`);
  }
  return out;
}

/** Decodes a series' chunks into [t, v] pairs within [mint, maxt]. */
function samplesOf(s: StoreSeries, mint: number, maxt: number): [number, number][] {
  const out: [number, number][] = [];
  for (const c of s.chunks) {
    expect(c.raw?.type).toBe(0); // StoreAPI XOR
    const it = chunkFromData(c.raw!.type + 1, c.raw!.data).iterator();
    while (it.next() === ValueType.Float) if (it.atT() >= mint && it.atT() <= maxt) out.push([it.atT(), it.atF()]);
    expect(it.err()).toBeNull();
  }
  return out;
}

/** Raw samples straight from Prometheus's query API: `selector[range]` evaluated at `at`. */
async function promRaw(selector: string, from: number, at: number): Promise<Map<string, [number, number][]>> {
  const u = new URL(`http://127.0.0.1:${port}/api/v1/query`);
  u.searchParams.set('query', `${selector}[${Math.round((at - from) / 1000)}s]`);
  u.searchParams.set('time', String(at / 1000));
  const res = (await (await fetch(u)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  const m = new Map<string, [number, number][]>();
  for (const r of res.data.result) m.set(Labels.fromRecord(r.metric).toString(), r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]));
  return m;
}

describe.skipIf(!have)('sidecar against a real Prometheus', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-sidecar-e2e-'));
    tsdbDir = join(dir, 'tsdb');
    port = await freePort();
    let om = '# HELP backfill_metric Backfilled test data.\n# TYPE backfill_metric gauge\n';
    for (const d of seriesDefs) for (let t = START, i = 0; t <= END; t += STEP, i++) om += `backfill_metric{${d.labels}} ${d.f(i)} ${t / 1000}\n`;
    om += '# EOF\n';
    await writeFile(join(dir, 'data.om'), om);
    execFileSync(promtoolBin!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), tsdbDir], { stdio: 'pipe' });
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: test\n    replica: "a"\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
    );
    prom = startPrometheus();
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 60_000).catch((err: unknown) => {
      throw new Error(`Prometheus did not become ready: ${String(err)}\n${prom?.output()}`);
    });
    client = new PrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    watcher = new PrometheusWatcher({ client, registry: new Registry() });
    await watcher.waitReady(30_000, undefined, 200);
    store = new PrometheusStore({ client, externalLabels: () => watcher.externalLabels(), minTime: () => watcher.minTime(), registry: new Registry() });
  });

  afterAll(async () => {
    await prom?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('reads external labels, flags and the lowest timestamp from Prometheus', async () => {
    expect(watcher.externalLabels().toRecord()).toEqual({ cluster: 'test', replica: 'a' });
    expect(watcher.minTime()).toBe(START);
    const flags = await watcher.blockFlags();
    expect(flags?.minBlockDuration).toBe(7_200_000);
    expect(flags?.maxBlockDuration).toBe(7_200_000);
    expect((await client.buildInfo()).version).toMatch(/^\d+\.\d+\.\d+/);
    const info = await store.info();
    expect(info.labelSets.map((l) => l.toRecord())).toEqual([{ cluster: 'test', replica: 'a' }]);
    expect(info.store?.minTime).toBe(START);
    expect(info.componentType).toBe('sidecar');
  });

  test('Series returns the same samples as Prometheus, with external labels', async () => {
    // A window not aligned to samples or blocks, so some chunks are cut by Prometheus and some are whole.
    const mint = START + 3_600_000 + 7;
    const maxt = END - 1_800_000 + 7;
    const got = await seriesOf({ minTime: mint, maxTime: maxt, matchers: [{ type: 0, name: '__name__', value: 'backfill_metric' }] });
    const want = await promRaw('backfill_metric', mint, maxt);
    expect(got.map((s) => s.labels.toString())).toEqual([
      '{__name__="backfill_metric", cluster="test", instance="a", job="bf", replica="a"}',
      '{__name__="backfill_metric", cluster="test", instance="b", job="bf", replica="a"}',
      '{__name__="backfill_metric", cluster="test", instance="c", job="bf", replica="a"}',
    ]);
    expect(want.size).toBe(3);
    for (const s of got) {
      // Prometheus's own answer carries its stored labels; the external labels are ours to add.
      const key = [...want.keys()].find((k) => k.includes(`instance="${s.labels.get('instance')}"`))!;
      const samples = samplesOf(s, mint, maxt);
      expect(samples.length).toBeGreaterThan(100);
      expect(samples).toEqual(want.get(key));
      // Chunks are in time order and cover the range.
      for (let i = 1; i < s.chunks.length; i++) expect(s.chunks[i]!.minTime).toBeGreaterThanOrEqual(s.chunks[i - 1]!.minTime);
    }
    // Chunks fully inside the range are the block's chunk bytes, passed through unchanged.
    const blockChunks = new Set<string>();
    for (const name of (await readdir(tsdbDir)).filter((n) => /^[0-9A-Z]{26}$/.test(n))) {
      const br = await BlockReader.open(join(tsdbDir, name));
      try {
        const q = await br.chunkQuerier(mint, maxt);
        const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'backfill_metric')]);
        while (set.next()) for (const c of set.at().chunks()) blockChunks.add(Buffer.from(c.chunk.bytes()).toString('hex'));
        await q.close();
      } finally {
        br.close();
      }
    }
    // Only the first and last chunk of a series may stick out of the range; Prometheus re-encodes
    // those to the in-range samples. Every other chunk must be the block's bytes.
    let passedThrough = 0;
    for (const s of got) {
      s.chunks.forEach((c, i) => {
        const same = blockChunks.has(Buffer.from(c.raw!.data).toString('hex'));
        if (i > 0 && i < s.chunks.length - 1) expect(same).toBe(true);
        if (same) passedThrough++;
      });
    }
    expect(passedThrough).toBeGreaterThanOrEqual(3);
  });

  test('matchers on external labels: mismatch → empty, match → stripped before Prometheus', async () => {
    const name = { type: 0 as const, name: '__name__', value: 'backfill_metric' };
    expect(await seriesOf({ matchers: [name, { type: 0, name: 'cluster', value: 'other' }] })).toEqual([]);
    const own = await seriesOf({ matchers: [name, { type: 0, name: 'cluster', value: 'test' }, { type: 2, name: 'instance', value: 'a|c' }] });
    // instance="c" has a stored cluster="own" but is still returned: the matcher is evaluated on the external label.
    expect(own.map((s) => s.labels.get('instance'))).toEqual(['a', 'c']);
    await expect(seriesOf({ matchers: [{ type: 0, name: 'cluster', value: 'test' }] })).rejects.toThrow(/no matchers specified/);
  });

  test('skip_chunks, without_replica_labels, limit and batching', async () => {
    const m = [{ type: 0 as const, name: '__name__', value: 'backfill_metric' }];
    const labelsOnly = await seriesOf({ matchers: m, skipChunks: true });
    expect(labelsOnly.map((s) => [s.labels.get('instance'), s.labels.get('cluster'), s.chunks.length])).toEqual([['a', 'test', 0], ['b', 'test', 0], ['c', 'test', 0]]);
    // Only empty-matching matchers: Prometheus's /api/v1/series refuses them, remote read does not.
    const emptyMatching = await seriesOf({ matchers: [{ type: 1, name: 'job', value: 'prometheus' }, { type: 2, name: 'instance', value: 'a|b|' }], skipChunks: true });
    expect(emptyMatching.map((s) => [s.labels.get('instance'), s.chunks.length])).toEqual([['a', 0], ['b', 0]]);
    const noReplica = await seriesOf({ matchers: m, withoutReplicaLabels: ['replica'], limit: 2, responseBatchSize: 64 });
    expect(noReplica.map((s) => s.labels.has('replica'))).toEqual([false, false]);
  });

  test('LabelNames and LabelValues include external labels', async () => {
    const sig = AbortSignal.timeout(10_000);
    const names = await store.labelNames({ start: START, end: END, matchers: [{ type: 0, name: '__name__', value: 'backfill_metric' }] }, sig);
    expect(names.names).toEqual(['__name__', 'cluster', 'instance', 'job', 'replica']);
    const vals = await store.labelValues({ label: 'instance', start: START, end: END, matchers: [{ type: 0, name: 'job', value: 'bf' }] }, sig);
    expect(vals.values).toEqual(['a', 'b', 'c']);
    expect((await store.labelValues({ label: 'replica', start: START, end: END }, sig)).values).toEqual(['a']);
    expect((await store.labelValues({ label: 'replica', start: START, end: END, withoutReplicaLabels: ['replica'] }, sig)).values).toEqual([]);
  });

  test('shipper uploads the backfilled blocks with Prometheus external labels', async () => {
    const bucketDir = join(dir, 'bucket');
    const bucket = new FilesystemBucket({ directory: bucketDir });
    const local = (await readdir(tsdbDir)).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
    expect(local.length).toBeGreaterThanOrEqual(2);
    const shipper = new Shipper({ bucket, dir: tsdbDir, externalLabels: () => watcher.externalLabels(), registry: new Registry() });
    const res = await shipper.sync();
    expect(res.uploaded).toBe(local.length);
    for (const ulid of local) {
      const meta = JSON.parse(new TextDecoder().decode(await bucket.get(`${ulid}/meta.json`))) as { ulid: string; thanos: { labels: Record<string, string>; source: string; files: { rel_path: string; size_bytes?: number }[] } };
      expect(meta.ulid).toBe(ulid);
      expect(meta.thanos.labels).toEqual({ cluster: 'test', replica: 'a' });
      expect(meta.thanos.source).toBe('sidecar');
      const idx = await readFile(join(tsdbDir, ulid, 'index'));
      expect(meta.thanos.files.find((f) => f.rel_path === 'index')?.size_bytes).toBe(idx.length);
      expect(Buffer.compare(Buffer.from(await bucket.get(`${ulid}/index`)), idx)).toBe(0);
    }
    expect(JSON.parse(await readFile(join(tsdbDir, 'thanos.shipper.json'), 'utf8'))).toEqual({ version: 1, uploaded: local });
  });

  test('Prometheus down → UNAVAILABLE with a clear message; recovers after restart', async () => {
    const req = { matchers: [{ type: 0 as const, name: '__name__', value: 'backfill_metric' }] };
    await prom!.stop();
    const err = await seriesOf(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).grpcCode).toBe(14);
    expect((err as Error).message).toMatch(/Prometheus is unavailable.*127\.0\.0\.1.*ECONNREFUSED/);
    await expect(watcher.refresh()).rejects.toThrow();
    expect(watcher.isUp()).toBe(false);
    prom = startPrometheus();
    // The same store instance recovers by itself once Prometheus answers again.
    const got = await waitFor('series after restart', async () => {
      const s = await seriesOf(req);
      return s.length === 3 ? s : false;
    }, 60_000, 200);
    expect(got.map((s) => s.labels.get('instance'))).toEqual(['a', 'b', 'c']);
    await watcher.refresh();
    expect(watcher.isUp()).toBe(true);
  });
});
