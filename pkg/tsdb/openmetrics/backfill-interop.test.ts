import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../../testutil/index.js';
import { ChunkSegmentReader } from '../chunks/index.js';
import { readBlockMeta } from '../meta/index.js';
import { parseOpenMetrics } from './openmetrics-parser.js';
import { planBackfill } from './backfill-plan.js';
import { writeOpenMetricsSync } from '../testutil/promtool-blocks.js';

const promtool = requireBinary('promtool');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(promtool === undefined)('(c) re-encoding promtool-made chunks', () => {
  // Replica a (regular 15 s), replica b (jitter + gap), and 1 s scrapes (exercises the 240-sample
  // cut and the end-time estimate).
  test.each([
    ['15s replica a', { hosts: 2, hours: 3 }],
    ['15s replica b', { hosts: 2, hours: 5, replica: 'b' }],
    ['1s replica b', { hosts: 1, hours: 2, intervalSec: 1, replica: 'b' }],
  ])('%s: every chunk byte-identical with 2.42 quirks applied', async (_name, opts) => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-reenc-'));
    dirs.push(dir);
    const om = join(dir, 'data.om');
    writeOpenMetricsSync(opts, om);
    execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, join(dir, 'prom')], { stdio: 'pipe' });

    // 2.42 quirks: pad byte, no 1 KiB cap, integer end-time estimate; 4h windows are the default.
    const legacy = await planBackfill(parseOpenMetrics(createReadStream(om)), { chunks: { legacyPadByte: true, maxBytes: null, legacyEndTime: true } });
    const modern = await planBackfill(parseOpenMetrics(createReadStream(om)));
    const byMin = new Map(legacy.map((b) => [b.minTime, b]));
    let promBytes = 0;
    let ourBytes = 0;
    let samples = 0;
    let chunks = 0;
    for (const ulid of (await readdir(join(dir, 'prom'))).filter((n) => n.length === 26)) {
      const meta = await readBlockMeta(join(dir, 'prom', ulid));
      const ours = byMin.get(meta.minTime);
      expect(ours, `block ${ulid}`).toBeDefined();
      expect(ours!.maxTime).toBe(meta.maxTime);
      expect(ours!.numSamples).toBe(meta.stats.numSamples);
      const reader = await ChunkSegmentReader.open(join(dir, 'prom', ulid, 'chunks'));
      // promtool writes series in label order, each series' chunks in time order, so the records
      // of the segment files line up with our series/chunk order.
      const records = reader.segments.flatMap((_, i) => [...reader.records(i)]);
      const mine = ours!.series.flatMap((s) => s.chunks);
      expect(mine.length).toBe(records.length);
      for (let i = 0; i < records.length; i++) {
        const got = Buffer.from(mine[i]!.chunk.bytes());
        const want = Buffer.from(records[i]!.data);
        if (!got.equals(want)) expect.fail(`block ${ulid} chunk ${i}: ours ${got.length} bytes, promtool ${want.length} bytes`);
        promBytes += want.length;
      }
      samples += meta.stats.numSamples!;
      chunks += records.length;
    }
    for (const b of modern) for (const s of b.series) for (const c of s.chunks) ourBytes += c.chunk.bytes().length;
    expect(chunks).toBeGreaterThan(0);
    console.log(
      `${_name}: ${chunks} chunks, ${samples} samples; promtool 2.42 ${(promBytes / samples).toFixed(3)} bytes/sample, ` +
        `tessera (3.x rules) ${(ourBytes / samples).toFixed(3)} bytes/sample`,
    );
  });
});
