import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, startProcess, waitForHttp, type ManagedProcess } from '../testutil/index.js';
import { DataSet } from './data-set.js';
import { writeDataSetBlocks } from './write-data-set-blocks.js';

// Blocks written straight by writeDataSetBlocks, native histograms included, are served by a real
// Prometheus: its answers over the native histograms agree with the classic ones of the same data.

const bin = requireBinary('prometheus');
const ds = new DataSet({ hosts: 2, hours: 4, replica: 'b', nativeHistograms: true });
const AT = (ds.startMs + 3 * 3600_000) / 1000;

describe.skipIf(bin === undefined)('generated blocks in a real Prometheus', () => {
  let dir = '';
  let prom: ManagedProcess | undefined;
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-datagen-prom-'));
    await writeDataSetBlocks(ds, join(dir, 'data'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    prom = startProcess(bin!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=100y',
      '--enable-feature=native-histograms',
    ]);
    await waitForHttp(`${base}/-/ready`, 60_000).catch((err: unknown) => {
      throw new Error(`Prometheus at ${base} not ready: ${String(err)}\n${prom?.output() ?? ''}`);
    });
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<Map<string, number>> {
    const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: q, time: String(AT) })}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status, q).toBe('success');
    return new Map(body.data.result.map((r) => [`${r.metric['instance']} ${r.metric['handler']}`, Number(r.value[1])]));
  }

  test('histogram_count and histogram_sum equal _count and _sum, across the restart of host-0001', async () => {
    for (const [native, classic] of [
      ['histogram_count(http_request_duration_seconds)', 'http_request_duration_seconds_count'],
      ['histogram_sum(http_request_duration_seconds)', 'http_request_duration_seconds_sum'],
      ['histogram_count(rate(http_request_duration_seconds[2h]))', 'rate(http_request_duration_seconds_count[2h])'],
    ] as const) {
      const n = await query(native);
      const c = await query(classic);
      expect(n.size, native).toBe(6);
      for (const [k, v] of c) expect(n.get(k), `${native} ${k}`).toBeCloseTo(v, 9);
    }
  });

  test('native and classic medians agree within the classic bucket resolution', async () => {
    const n = await query('histogram_quantile(0.5, rate(http_request_duration_seconds[30m]))');
    const c = await query('histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[30m]))');
    expect(n.size).toBe(6);
    for (const [k, v] of c) {
      expect(n.get(k)! / v, k).toBeGreaterThan(0.8);
      expect(n.get(k)! / v, k).toBeLessThan(1.25);
    }
  });
});
