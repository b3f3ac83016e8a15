import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../testutil/index.js';
import { readBlockMeta, parseOpenMetrics } from '../tsdb/index.js';
import { DataSet } from './data-set.js';
import { openMetricsText, writeOpenMetrics, type OpenMetricsStats } from './open-metrics-text.js';

const promtool = requireBinary('promtool');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function* once(s: string): AsyncGenerator<string> {
  yield s;
}

describe('openMetricsText', () => {
  const ds = new DataSet({ hosts: 2, hours: 2.5, replica: 'b' });
  const stats: OpenMetricsStats = { series: 0, samples: 0, firstMs: NaN, lastMs: NaN };
  const text = [...openMetricsText(ds, stats)].join('');

  test('writes every float series of every step this replica scraped, with metadata and # EOF', async () => {
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text).toContain('# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\n');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram\n');
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{handler="\/api\/v1\/query",instance="host-0000:9100",job="api",le="\+Inf"\} \d+ 1767225600\.\d{3}$/m);
    const expected = new Map<string, { ts: number[]; vs: number[] }>();
    for (const g of ds.families()) {
      for (const s of g.floats) {
        const e = { ts: [] as number[], vs: [] as number[] };
        for (let i = 0; i < ds.steps; i++) if (!Number.isNaN(ds.timestamps[i]!)) (e.ts.push(ds.timestamps[i]!), e.vs.push(s.values[i]!));
        expected.set(s.labels.toString(), e);
      }
    }
    const got = new Map<string, { ts: number[]; vs: number[] }>();
    for await (const batch of parseOpenMetrics(once(text))) {
      for (let i = 0; i < batch.length; i++) {
        const k = batch.labels[i]!.toString();
        let e = got.get(k);
        if (e === undefined) got.set(k, (e = { ts: [], vs: [] }));
        e.ts.push(batch.timestamps[i]!);
        e.vs.push(batch.values[i]!);
      }
    }
    expect(got.size).toBe(2 * 72);
    expect(stats.series).toBe(2 * 72);
    expect(stats.samples).toBe(2 * 72 * (600 - 40));
    expect(stats.firstMs).toBe(ds.timestamps[0]);
    expect(stats.lastMs).toBe(ds.timestamps[599]);
    for (const [k, e] of expected) expect(got.get(k), k).toEqual(e);
  });

  test('writeOpenMetrics streams the same text', async () => {
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (b: Buffer) => parts.push(b));
    const s = await writeOpenMetrics(ds, out);
    out.end();
    expect(Buffer.concat(parts).toString()).toBe(text);
    expect(s).toEqual(stats);
  });

  test.skipIf(promtool === undefined)('promtool backfills it into 2h blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-datagen-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'data.om'), text);
    execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), join(dir, 'data')], { stdio: 'pipe' });
    const list = execFileSync(promtool!, ['tsdb', 'list', join(dir, 'data')], { encoding: 'utf8' });
    const ulids = [...list.matchAll(/^([0-9A-Z]{26})\s/gm)].map((m) => m[1]!);
    expect(ulids).toHaveLength(2);
    return Promise.all(ulids.map((u) => readBlockMeta(join(dir, 'data', u)))).then((metas) => {
      expect(metas.reduce((n, m) => n + (m.stats.numSamples ?? 0), 0)).toBe(stats.samples);
    });
  });
});
