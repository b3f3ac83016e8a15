import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { writeTestBlock } from '../../pkg/testutil/index.js';
import { ServiceGroup, startQuery, startStore, type Service } from './services.js';

/**
 * Issue 13 items 1, 2 and 4 with the inputs against real processes, as they were probed:
 * `tessera store` over a FILESYSTEM bucket of two replicas × 20 hosts × 6 h of `up` (15 s), and
 * `tessera query` deduplicating on `replica`.
 *
 * Scaled for CI as pkg/promql/engine/subquery-memory.test.ts is: --query.max-samples 6 M instead of
 * the default 50 M, so `count_over_time(up[6h:100ms])` (4.32 M subquery samples) is the query
 * within the limit and `[6h:10ms]` (43.2 M) joins `[6h:1ms]` beyond it. The querier runs with a
 * 256 MB old space: an object per subquery sample (~100 bytes, what crashed the querier) needs
 * ~430 MB of heap for the 4.32 M samples and dies with "heap out of memory"; typed arrays hold
 * them outside the heap.
 *
 * A second querier over the same store has --query.max-memory=256KB: the per-query budget the issue
 * asks for what max-samples cannot count (series data loaded from stores), enforced end to end.
 */
const START = 1_767_225_600_000;
const AT = 1_767_247_200; // the evaluation time: START + 6 h, in seconds
const HOURS = 6;
const SCRAPE = 15_000;
const HOSTS = 20;
const MAX_SAMPLES = 6_000_000;

const services = new ServiceGroup();
let work: string;
let query: Service;
/** budgeted is a second querier with --query.max-memory=256KB (the budget for what max-samples does not count). */
let budgeted: Service;

interface Answer {
  status: number;
  transferEncoding: string | undefined;
  contentType: string | undefined;
  body: {
    status: string;
    errorType?: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
  };
}

/** get sends one GET to a querier (default: query) and parses its answer. */
function get(path: string, params: Record<string, string>, to: Service = query): Promise<Answer> {
  const u = new URL(`${to.httpUrl}${path}?${new URLSearchParams(params)}`);
  return new Promise((resolve, reject) => {
    request(u, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            transferEncoding: res.headers['transfer-encoding'],
            contentType: res.headers['content-type'],
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'],
          });
        } catch (err) {
          reject(new Error(`GET ${path}: answer is not JSON (HTTP ${res.statusCode})`, { cause: err }));
        }
      });
    })
      .on('error', reject)
      .end();
  });
}

function expectAlive(q: Service = query): void {
  expect(q.process.proc.exitCode, q.process.output().slice(-2000)).toBeNull();
  expect(q.process.proc.signalCode, q.process.output().slice(-2000)).toBeNull();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-querier-hardening-'));
  const bucketDir = join(work, 'bucket');
  const bkt = new FilesystemBucket({ directory: bucketDir });
  const n = (HOURS * 3_600_000) / SCRAPE;
  const series = Array.from({ length: HOSTS }, (_, h) => ({
    labels: Labels.fromStrings('__name__', 'up', 'instance', `host-${String(h).padStart(2, '0')}:9100`, 'job', 'node'),
    samples: Array.from({ length: n }, (_, i) => [START + i * SCRAPE, 1] as [number, number]),
  }));
  for (const replica of ['a', 'b']) await writeTestBlock(bkt, series, Labels.fromStrings('cluster', 'c1', 'replica', replica));
  const config = join(work, 'bucket.yml');
  await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const store = await services.add(startStore({ objstoreConfigFile: config, dataDir: join(work, 'store-data') }));
  query = await services.add(
    startQuery({
      endpoints: [store.grpcAddress!],
      replicaLabels: ['replica'],
      extraArgs: [`--query.max-samples=${MAX_SAMPLES}`],
      nodeArgs: ['--max-old-space-size=256'],
    }),
  );
  budgeted = await services.add(startQuery({ endpoints: [store.grpcAddress!], replicaLabels: ['replica'], extraArgs: ['--query.max-memory=256KB'] }));
});

afterAll(async () => {
  await services.stopAll();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('issue 13 against tessera store + tessera query processes', () => {
  test('item 1: count_over_time(up[6h:100ms]) at 1767247200 (4.32 M subquery samples, limit 6 M) answers in a 256 MB heap', async () => {
    const r = await get('/api/v1/query', { query: 'count_over_time(up[6h:100ms])', time: String(AT) });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    const result = r.body.data!.result;
    expect(result).toHaveLength(HOSTS);
    expect(new Set(result.map((s) => s.value![1]))).toEqual(new Set(['216000']));
    expectAlive();
  });

  test('item 1: [6h:10ms] and [6h:1ms] beyond the limit answer 422 execution "too many samples"; the process keeps serving', async () => {
    for (const step of ['10ms', '1ms']) {
      const r = await get('/api/v1/query', { query: `count_over_time(up[6h:${step}])`, time: String(AT) });
      expect([r.status, r.contentType], step).toEqual([422, 'application/json']);
      expect(r.body, step).toEqual({ status: 'error', errorType: 'execution', error: 'query processing would load too many samples into memory in query execution' });
      expectAlive();
    }
    const ok = await get('/api/v1/query', { query: 'count(up)', time: String(AT) });
    expect(ok.status).toBe(200);
    expect(ok.body.data!.result[0]!.value![1]).toBe(String(HOSTS));
  });

  test('item 4: count(up+0+0+...) with 1,200 terms answers 200, as Prometheus does', async () => {
    const expr = `count(up${'+0'.repeat(1199)})`;
    const r = await get('/api/v1/query', { query: expr, time: String(AT) });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    expect(r.body.data!.result).toEqual([{ metric: {}, value: [AT, String(HOSTS)] }]);
    const range = await get('/api/v1/query_range', { query: expr, start: String(AT - 3600), end: String(AT), step: '60' });
    expect(range.status).toBe(200);
    expect(range.body.data!.result[0]!.values).toHaveLength(61);
    expectAlive();
  });

  test('item 2: query_range {__name__=~".+"} over 6 h at step=2 with dedup=false is streamed: 40 series × 10,801 points', async () => {
    const r = await get('/api/v1/query_range', { query: '{__name__=~".+"}', start: String(START / 1000), end: String(AT), step: '2', dedup: 'false' });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    expect(r.transferEncoding).toBe('chunked');
    const result = r.body.data!.result;
    expect(result).toHaveLength(2 * HOSTS);
    expect(new Set(result.map((s) => s.metric['replica']))).toEqual(new Set(['a', 'b']));
    for (const s of result) expect(s.values).toHaveLength((HOURS * 3600) / 2 + 1);
    expectAlive();
  });

  test('--query.max-memory=256KB: a query loading more series data, or holding more samples, than the budget answers 422; small ones answer', async () => {
    const small = await get('/api/v1/query', { query: 'count(up)', time: String(AT) }, budgeted);
    expect(small.status).toBe(200);
    expect(small.body.data!.result[0]!.value![1]).toBe(String(HOSTS));
    // 6 h of 20 series (replicas deduplicated): about 20 × 1,440 floats × 16 bytes = 460 KB.
    const load = await get('/api/v1/query', { query: 'count_over_time(up[6h])', time: String(AT) }, budgeted);
    expect([load.status, load.body.errorType]).toEqual([422, 'execution']);
    expect(load.body.error).toMatch(/^query processing would use more than the per-query memory budget of 262144 bytes \(--query.max-memory\) in series loading: about \d+ bytes$/);
    // Little data loaded (the last minutes), but 1.2 M subquery samples: far under --query.max-samples
    // (50 M), over the budget.
    const held = await get('/api/v1/query', { query: 'count_over_time(up[1m:1ms])', time: String(AT) }, budgeted);
    expect([held.status, held.body.errorType]).toEqual([422, 'execution']);
    expect(held.body.error).toMatch(/^query processing would use more than the per-query memory budget of 262144 bytes \(--query.max-memory\) in query execution: about \d+ bytes$/);
    expectAlive(budgeted);
  });
});
