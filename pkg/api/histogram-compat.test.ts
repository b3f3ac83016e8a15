import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FloatHistogram, type Span } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { freePort, remoteWriteHistograms, requireBinary, startProcess, waitForHttp, type ManagedProcess } from '../testutil/index.js';
import { resultJson } from './result-json.js';

// Native histogram encoding checked byte for byte against a real Prometheus: histograms are
// remote-written into it (integer histograms, 2.42 accepts those) and read back with /query.

const bin = requireBinary('prometheus');

interface Case {
  readonly name: string;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly sum: number;
  readonly positiveSpans: Span[];
  readonly positiveCounts: number[];
  readonly negativeSpans: Span[];
  readonly negativeCounts: number[];
}

const cases: Case[] = [
  { name: 'h_schema0', schema: 0, zeroThreshold: 0.001, zeroCount: 2, sum: 12.5, positiveSpans: [{ offset: 0, length: 3 }, { offset: 2, length: 1 }], positiveCounts: [1, 0, 4, 3], negativeSpans: [{ offset: 1, length: 2 }], negativeCounts: [5, 1] },
  { name: 'h_schema3', schema: 3, zeroThreshold: 1e-128, zeroCount: 0, sum: -3.25, positiveSpans: [{ offset: -9, length: 20 }], positiveCounts: Array.from({ length: 20 }, (_, i) => (i * 7) % 5), negativeSpans: [{ offset: 3, length: 5 }], negativeCounts: [1, 2, 3, 0, 9] },
  { name: 'h_schema8', schema: 8, zeroThreshold: 0, zeroCount: 0, sum: 1e-7, positiveSpans: [{ offset: 100, length: 300 }], positiveCounts: Array.from({ length: 300 }, (_, i) => i % 3), negativeSpans: [], negativeCounts: [] },
  { name: 'h_schema5', schema: 5, zeroThreshold: 0.25, zeroCount: 1, sum: 0.1, positiveSpans: [{ offset: -100, length: 140 }], positiveCounts: Array.from({ length: 140 }, (_, i) => 1 + (i % 2)), negativeSpans: [{ offset: -70, length: 40 }], negativeCounts: Array.from({ length: 40 }, () => 1) },
  { name: 'h_schema1', schema: 1, zeroThreshold: 0, zeroCount: 0, sum: 3, positiveSpans: [{ offset: 2000, length: 48 }], positiveCounts: Array.from({ length: 48 }, () => 1), negativeSpans: [], negativeCounts: [] },
  { name: 'h_schema_neg4', schema: -4, zeroThreshold: 0.5, zeroCount: 7, sum: 1e21, positiveSpans: [{ offset: -3, length: 6 }], positiveCounts: [1, 2, 3, 4, 5, 6], negativeSpans: [{ offset: -2, length: 4 }], negativeCounts: [4, 3, 2, 1] },
];

function floatHistogram(c: Case): FloatHistogram {
  const h = new FloatHistogram();
  h.schema = c.schema;
  h.zeroThreshold = c.zeroThreshold;
  h.zeroCount = c.zeroCount;
  h.sum = c.sum;
  h.count = c.zeroCount + c.positiveCounts.reduce((a, b) => a + b, 0) + c.negativeCounts.reduce((a, b) => a + b, 0);
  h.positiveSpans = c.positiveSpans;
  h.positiveBuckets = c.positiveCounts;
  h.negativeSpans = c.negativeSpans;
  h.negativeBuckets = c.negativeCounts;
  return h;
}

describe.skipIf(bin === undefined)('native histogram JSON matches a real Prometheus', () => {
  let prom: ManagedProcess;
  let base = '';
  let dir = '';
  const ts = Math.floor(Date.now() / 1000) * 1000 - 60_000 + 123;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-api-hist-'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    const port = await freePort();
    prom = startProcess(bin!, [
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      '--web.enable-remote-write-receiver',
      '--enable-feature=native-histograms',
    ]);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/-/ready`);
    const res = await remoteWriteHistograms(base, cases.map((c) => [c.name, [{ t: ts, h: floatHistogram(c) }]] as const));
    expect(res.status, `${await res.text()}\n${prom.output()}`).toBe(204);
  });

  afterAll(async () => {
    await prom?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test.each(cases)('$name', async (c) => {
    const got = await (await fetch(`${base}/api/v1/query?query=${c.name}&time=${ts / 1000}`)).text();
    const want = resultJson({ resultType: 'vector', result: [{ metric: Labels.fromStrings('__name__', c.name), t: ts, f: 0, h: floatHistogram(c) }] });
    expect(got).toBe(`{"status":"success","data":{"resultType":"vector","result":${want}}}`);
  });
});
