import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DataSet, writeDataSetBlocks } from '../../pkg/datagen/index.js';
import { freePort, waitFor } from '../../pkg/testutil/index.js';
import { rulerPorts, startQuerierAt, startRuler } from './ruler-services.js';
import { ServiceGroup, startQuery, startStore, type Service } from './services.js';

interface Answer {
  status: string;
  data: { result: { metric: Record<string, string>; value?: [number, string]; histogram?: [number, { count: string; sum: string; buckets?: [number, string, string, string][] }] }[] };
}

async function instant(base: string, expr: string, time: number, extra: Record<string, string> = {}): Promise<Answer['data']['result']> {
  const res = await fetch(`${base}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr, time: (time / 1000).toFixed(3), ...extra }) });
  const body = (await res.json()) as Answer;
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** rangeAt evaluates a range selector at time (ms): every sample with its own timestamp. */
async function rangeAt(base: string, expr: string, time: number): Promise<{ metric: Record<string, string>; histograms?: [number, unknown][] }[]> {
  const res = await fetch(`${base}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr, time: (time / 1000).toFixed(3) }) });
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; histograms?: [number, unknown][] }[] } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/**
 * Native histogram rule results through real processes: blocks with native histograms in a bucket,
 * a store gateway, a querier the ruler queries over HTTP (--query: the histogram travels as the
 * query API's JSON), and a second querier listing the ruler's StoreAPI, where the recorded series
 * is a native histogram equal to the expression evaluated directly.
 */
describe('ruler end to end: a recording rule over native histograms', () => {
  const services = new ServiceGroup();
  let dir: string;
  let querier: Service;
  let global: Service;
  let ruler: Service;
  let name = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-ruler-nh-'));
    const bucket = join(dir, 'bucket');
    await mkdir(bucket);
    // 1h of data around now, so the rule (evaluated at the current time) sees it
    const startSec = Math.floor(Date.now() / 1000 / 15) * 15 - 1800;
    const ds = new DataSet({ hosts: 1, hours: 1, intervalSec: 15, startSec, nativeHistograms: true });
    for (const g of ds.families()) for (const h of g.histograms) name = h.labels.get('__name__');
    await writeDataSetBlocks(ds, bucket, { thanos: { labels: { source: 'gen' }, downsample: { resolution: 0 }, source: 'test', index_stats: {} } });
    const store = await services.add(startStore({ objstoreConfigFile: await cfg(bucket), dataDir: join(dir, 'store') }));
    querier = await services.add(startQuery({ endpoints: [store.grpcAddress!] }));
    await writeFile(join(dir, 'rules.yml'), `groups:\n  - name: nh\n    interval: 1s\n    rules:\n      - record: handler:latency:rate1m\n        expr: sum by (handler) (rate(${name}[1m]))\n`);
    const ports = await rulerPorts();
    ruler = await services.add(startRuler(ports, [`--rule-file=${join(dir, 'rules.yml')}`, `--query=${querier.httpUrl}`, '--label=replica="r1"', `--data-dir=${join(dir, 'ruler-data')}`, '--eval-interval=1s']));
    global = await services.add(startQuerierAt(`127.0.0.1:${await freePort()}`, [ruler.grpcAddress!], []));
  }, 240_000);

  async function cfg(bucket: string): Promise<string> {
    const f = join(dir, 'bucket.yml');
    await writeFile(f, `type: FILESYSTEM\nconfig:\n  directory: ${bucket}\n`);
    return f;
  }

  afterAll(async () => {
    await services.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  test('the recorded series is a native histogram with the ruler\'s labels, equal to the expression over the source', async () => {
    expect(name).not.toBe('');
    const got = await waitFor('the recorded histogram through the querier listing the ruler', async () => {
      const r = await instant(global.httpUrl, 'handler:latency:rate1m', Date.now());
      return r.length > 0 ? r : undefined;
    });
    expect(got.every((s) => s.histogram !== undefined && s.value === undefined && s.metric.replica === 'r1')).toBe(true);
    // Compare one evaluation at its own time. An instant query's samples carry the query's time, not
    // the recorded sample's, so that time comes from a range selector, which keeps the samples'
    // timestamps. (Evaluating the expression at the instant query's time instead compared rates
    // over windows shifted by up to an eval interval: equal data, but an extrapolation that differed
    // in the last bit, e.g. 0.02222222222222222 vs 0.022222222222222223 in a CI run on ca8ca24.)
    const t = Math.max(...(await rangeAt(global.httpUrl, 'handler:latency:rate1m[1m]', Date.now())).flatMap((s) => (s.histograms ?? []).map(([ts]) => Math.round(ts * 1000))));
    expect(Number.isFinite(t)).toBe(true);
    const recorded = await instant(global.httpUrl, 'handler:latency:rate1m', t);
    // the query as the ruler sends it (dedup, partial_response false)
    const direct = await instant(querier.httpUrl, `sum by (handler) (rate(${name}[1m]))`, t, { dedup: 'true', partial_response: 'false' });
    const norm = (r: Answer['data']['result']) => Object.fromEntries(r.map((s) => [s.metric.handler, s.histogram?.[1]]));
    expect(norm(recorded)).toEqual(norm(direct));
    expect(Object.keys(norm(direct)).length).toBeGreaterThan(0);
    // every evaluation of the last seconds, read back as a range vector, equals the expression at its time
    await waitFor('a few more evaluations', async () => (await instant(global.httpUrl, 'count_over_time(handler:latency:rate1m[1m])', Date.now())).some((r) => Number(r.value?.[1]) >= 5));
    const matrix = await rangeAt(global.httpUrl, 'handler:latency:rate1m[1m]', Date.now());
    const diffs: string[] = [];
    let compared = 0;
    for (const series of matrix) {
      for (const [ts, h] of series.histograms ?? []) {
        const at = Math.round(ts * 1000);
        const want = norm(await instant(querier.httpUrl, `sum by (handler) (rate(${name}[1m]))`, at, { dedup: 'true', partial_response: 'false' }))[series.metric.handler!];
        compared++;
        if (JSON.stringify(want) !== JSON.stringify(h)) diffs.push(`${series.metric.handler} at ${at}: recorded ${JSON.stringify(h)}, expression ${JSON.stringify(want)}`);
      }
    }
    expect(compared).toBeGreaterThanOrEqual(15);
    expect(diffs).toEqual([]);
  });
});
