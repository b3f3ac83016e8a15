import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { staleNaN } from '../../chunkenc/index.js';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels } from '../../labels/index.js';
import { freePort, requireBinary, startProcess, waitForHttp, type ManagedProcess } from '../../testutil/index.js';
import { Tsdb } from './tsdb.js';

// A real Prometheus opens a data dir our Tsdb wrote (a block cut from the head, a checkpointed WAL
// holding floats, float histograms and a stale marker) and answers queries over all of it.

const bin = requireBinary('prometheus');
const H = 3_600_000;
const STEP = 60_000;
const END = 3.5 * H;

describe.skipIf(bin === undefined)('Prometheus reads a data dir written by Tsdb', () => {
  let dir: string;
  let prom: ManagedProcess | undefined;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-prom-interop-'));
    const data = join(dir, 'data');
    const db = await Tsdb.open(data, { walSegmentSize: 64 * 1024, thanos: { labels: Labels.fromStrings('replica', 'a'), source: 'ruler' } });
    for (let t = 0; t < END; t += STEP) {
      const a = db.appender();
      a.append(0, Labels.fromStrings('__name__', 'job:rec', 'job', 'api'), t, t / STEP);
      const h = new FloatHistogram();
      h.count = t / STEP + 1;
      h.sum = (t / STEP) * 0.5;
      h.positiveSpans = [{ offset: 0, length: 2 }];
      h.positiveBuckets = [t / STEP, 1];
      a.appendHistogram(0, Labels.fromStrings('__name__', 'job:hist'), t, h);
      await a.commit();
    }
    const a = db.appender();
    a.append(0, Labels.fromStrings('__name__', 'job:rec', 'job', 'api'), END, staleNaN());
    await a.commit();
    await db.compact();
    expect(db.blocks().map((b) => [b.minTime, b.maxTime])).toEqual([[0, 2 * H]]);
    await db.close();
    await writeFile(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prom = startProcess(bin!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=native-histograms']);
    await waitForHttp(`${url}/-/ready`, 60_000);
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function query(q: string, time: number): Promise<unknown[]> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${time / 1000}`);
    const body = (await res.json()) as { status: string; data: { result: unknown[] } };
    expect(body.status).toBe('success');
    return body.data.result;
  }

  test('every float sample, from the block and from the WAL, once', async () => {
    expect(await query('count_over_time(job:rec[4h])', END - STEP)).toEqual([{ metric: { job: 'api' }, value: [(END - STEP) / 1000, String(END / STEP)] }]);
    expect(await query('sum_over_time(job:rec[4h])', END - STEP)).toEqual([{ metric: { job: 'api' }, value: [(END - STEP) / 1000, String(((END / STEP - 1) * (END / STEP)) / 2)] }]);
  });

  test('the stale marker ends the series', async () => {
    expect(await query('job:rec', END - STEP)).toHaveLength(1);
    expect(await query('job:rec', END + STEP)).toEqual([]);
  });

  test('float histograms from the block and from the WAL', async () => {
    for (const t of [H, 3 * H]) {
      const got = (await query('job:hist', t)) as { histogram: [number, { count: string; sum: string }] }[];
      expect(got).toHaveLength(1);
      expect(got[0]!.histogram[1].count).toBe(String(t / STEP + 1));
      expect(got[0]!.histogram[1].sum).toBe(String((t / STEP) * 0.5));
    }
  });
});
