import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { XorChunk } from '../../pkg/chunkenc/index.js';
import { Labels } from '../../pkg/labels/index.js';
import { StoreType, type SeriesResponse } from '../../pkg/storepb/index.js';
import { requireBinary } from '../../pkg/testutil/index.js';
import { buildGrpcPeer, startGrpcPeer, writePeerFrames, type RunningPeer } from '../grpc-peer/peer.js';
import { startQuery, type Service } from './services.js';
import { rng as prng } from '../../pkg/datagen/index.js';

/**
 * Issue 13, item 9: the querier died with SIGSEGV (inside V8-optimised binary-operator code) while
 * answering query loops against a Go gRPC store (Thanos). This drives a real `tessera query`
 * process hard against a Go gRPC peer (google.golang.org/grpc, test/grpc-peer) that replays
 * thousands of Series frames written by our encoders (realistic XOR chunks): a bounded loop of
 * concurrent range queries with binary operators, aggregations and rate. The querier process must
 * stay alive (no exit, no signal) and every answer must be 200 JSON with the expected series count.
 */
const T0 = 1_767_225_600_000;
const HOURS = 1;
const SCRAPE = 30_000;
const INSTANCES = 200;
const CPUS = 10;
const SERIES = INSTANCES * CPUS;
// TESSERA_STRESS_QUERIES / _SECONDS / _CONCURRENCY lengthen the loop for a soak by hand; CI runs the defaults.
const QUERIES = Number(process.env['TESSERA_STRESS_QUERIES'] ?? 300);
const CONCURRENCY = Number(process.env['TESSERA_STRESS_CONCURRENCY'] ?? 4);
const TIME_BUDGET_MS = Number(process.env['TESSERA_STRESS_SECONDS'] ?? 40) * 1000;

const go = requireBinary('go');

/** seriesFrames yields one frame per series: a counter with jittered increments and an occasional reset, in 120-sample XOR chunks. */
function* seriesFrames(): Generator<SeriesResponse> {
  const rnd = prng(13);
  const n = (HOURS * 3_600_000) / SCRAPE;
  for (let i = 0; i < INSTANCES; i++) {
    for (let c = 0; c < CPUS; c++) {
      const labels = Labels.fromStrings('__name__', 'stress_metric', 'cpu', String(c), 'instance', `host-${i}:9100`, 'job', 'node', 'peer', 'go');
      const chunks = [];
      let v = Math.floor(rnd() * 1e6) / 100;
      for (let s = 0; s < n; s += 120) {
        const chunk = new XorChunk();
        const app = chunk.appender();
        const end = Math.min(n, s + 120);
        for (let k = s; k < end; k++) {
          v = rnd() < 0.002 ? 0 : v + Math.round(rnd() * 1000) / 100;
          app.append(T0 + k * SCRAPE + Math.floor(rnd() * 20), v);
        }
        chunks.push({ minTime: T0 + s * SCRAPE, maxTime: T0 + (end - 1) * SCRAPE + 20, raw: { type: 0 as const, data: chunk.bytes().slice(), hashHi: 0, hashLo: 0 } });
      }
      yield { kind: 'series', series: { labels, chunks } };
    }
  }
}

/** The query mix, each with the number of series its range result must have. */
const QUERY_MIX: readonly { q: string; series: number }[] = [
  { q: 'sum by (instance) (stress_metric * 2 + stress_metric)', series: INSTANCES },
  { q: 'sum by (cpu) (rate(stress_metric[5m]))', series: CPUS },
  { q: 'avg by (cpu) (stress_metric / on(instance, cpu) (stress_metric + 1))', series: CPUS },
  { q: 'count(stress_metric >= 0)', series: 1 },
  { q: 'max by (instance) (stress_metric) - min by (instance) (stress_metric)', series: INSTANCES },
  { q: 'sum by (instance) (rate(stress_metric[5m]) * 60 - irate(stress_metric[5m]) * 60)', series: INSTANCES },
  { q: 'quantile by (cpu) (0.9, stress_metric - stress_metric offset 5m)', series: CPUS },
  { q: 'sum(stress_metric > bool 1000)', series: 1 },
  { q: 'sum by (cpu) (increase(stress_metric[10m])) / ignoring(cpu) group_left sum(increase(stress_metric[10m]))', series: CPUS },
  { q: 'count(abs(stress_metric - avg without (cpu) (stress_metric)) * 1.5 < 1e9 or stress_metric)', series: 1 },
];

/**
 * post sends one form POST on a connection of its own (no keep-alive): a reused idle connection
 * can be closed by the server's keep-alive timeout just as the client writes on it, which is not
 * the querier failing; on a fresh connection any reset is the querier's.
 */
function post(url: string, form: string): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }, timeout: 120_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', reject);
    req.end(form);
  });
}

let work: string;
let peer: RunningPeer | undefined;
let querier: Service | undefined;
let frameCount = 0;

describe.skipIf(go === undefined)('querier against a Go gRPC peer: stress', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'tessera-go-peer-'));
    const build = await buildGrpcPeer(go!);
    console.log(`grpc-peer: ${build.cached ? 'cached build' : 'built'} in ${build.ms} ms (${build.bin})`);
    frameCount = await writePeerFrames(join(work, 'frames'), {
      info: { labelSets: [Labels.fromStrings('peer', 'go')], componentType: 'store', store: { minTime: T0, maxTime: T0 + HOURS * 3_600_000 } },
      legacyInfo: { labels: Labels.fromStrings('peer', 'go'), minTime: T0, maxTime: T0 + HOURS * 3_600_000, storeType: StoreType.STORE, labelSets: [Labels.fromStrings('peer', 'go')] },
      labelNames: ['__name__', 'cpu', 'instance', 'job', 'peer'],
      labelValues: ['stress_metric'],
      series: seriesFrames(),
    });
    peer = await startGrpcPeer(build.bin, join(work, 'frames'));
    querier = await startQuery({ endpoints: [peer.address] });
  }, 900_000);

  afterAll(async () => {
    await querier?.stop();
    await peer?.process.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test(`${QUERIES} concurrent range queries (${CONCURRENCY} at a time, at most ${TIME_BUDGET_MS / 1000} s) leave the querier alive, every answer complete`, async () => {
    expect(frameCount).toBe(SERIES);
    const proc = querier!.process.proc;
    let died: string | undefined;
    proc.once('exit', (code, signal) => {
      died = `querier exited during the loop: code ${code}, signal ${signal}`;
    });
    const api = querier!.httpUrl;
    const start = (T0 + 600_000) / 1000;
    const end = (T0 + HOURS * 3_600_000) / 1000;
    const deadline = Date.now() + TIME_BUDGET_MS;
    const failures: string[] = [];
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (died === undefined && failures.length === 0 && Date.now() < deadline) {
        const i = next++;
        if (i >= QUERIES) return;
        const { q, series } = QUERY_MIX[i % QUERY_MIX.length]!;
        const params = new URLSearchParams({ query: q, start: String(start), end: String(end), step: String(60 + (i % 3) * 30) });
        let res: { status: number; contentType: string; text: string };
        try {
          res = await post(`${api}/api/v1/query_range`, params.toString());
        } catch (err) {
          failures.push(`query ${i} ${q}: request failed after ${Date.now() - t0} ms: ${(err as Error).message}`);
          return;
        }
        const text = res.text;
        if (res.status !== 200 || !res.contentType.includes('application/json')) {
          failures.push(`query ${i} ${q}: ${res.status} ${res.contentType}: ${text.slice(0, 300)}`);
          return;
        }
        const body = JSON.parse(text) as { status: string; data: { resultType: string; result: unknown[] }; warnings?: string[] };
        if (body.status !== 'success' || body.data.resultType !== 'matrix' || body.data.result.length !== series || body.warnings !== undefined) {
          failures.push(`query ${i} ${q}: status ${body.status}, ${body.data.resultType}, ${body.data.result.length} series (want ${series}), warnings ${JSON.stringify(body.warnings)}`);
          return;
        }
        done++;
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(`go-peer stress: ${done} queries in ${Date.now() - t0} ms on node ${process.version}; querier alive: ${proc.exitCode === null && proc.signalCode === null}`);
    const ctx = `\n--- tessera query output ---\n${querier!.process.output().slice(-4000)}`;
    expect(died, ctx).toBeUndefined();
    expect(failures, ctx).toEqual([]);
    expect(proc.exitCode).toBeNull();
    expect(proc.signalCode).toBeNull();
    // Bounded by time as well as count: on a slow machine fewer than QUERIES run, but a loop
    // that did almost nothing would prove nothing.
    expect(done).toBeGreaterThanOrEqual(Math.min(QUERIES, 20));
    // Still serving after the loop.
    const last = await fetch(`${api}/api/v1/query?query=${encodeURIComponent('count(stress_metric)')}&time=${end}`);
    expect(last.status).toBe(200);
    expect(((await last.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1]).toBe(String(SERIES));
  }, TIME_BUDGET_MS + 260_000);
});
