import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CounterResetHeader, Encoding, HistogramChunk, ValueType } from '../chunkenc/index.js';
import { Matcher, MatchType } from '../labels/index.js';
import { BlockReader } from '../tsdb/index.js';
import { DataSet } from './data-set.js';
import { writeDataSetBlocks } from './write-data-set-blocks.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('writeDataSetBlocks', () => {
  test('writes aligned blocks whose float and native histogram samples read back as generated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-datagen-blocks-'));
    dirs.push(dir);
    // 3.5 hours starting one hour into a 2h range: [0h,2h) half full, [2h,4h), [4h,4.5h) cut at the data end.
    const ds = new DataSet({ hosts: 2, hours: 3.5, startSec: 1_767_225_600 + 3600, replica: 'b', nativeHistograms: true });
    const written = await writeDataSetBlocks(ds, dir, { thanos: { labels: { replica: 'b' }, downsample: { resolution: 0 }, source: 'test', index_stats: {} } });
    expect(written.map((w) => [w.meta.minTime, w.meta.maxTime])).toEqual([
      [1_767_225_600_000, 1_767_225_600_000 + 2 * 3600_000],
      [1_767_225_600_000 + 2 * 3600_000, 1_767_225_600_000 + 4 * 3600_000],
      [1_767_225_600_000 + 4 * 3600_000, ds.endMs],
    ]);
    expect(written[0]!.meta.thanos?.labels).toEqual({ replica: 'b' });
    expect(written.every((w) => (w.meta.stats.numHistogramSamples ?? 0) > 0)).toBe(true);

    const want = new Map<string, { t: number[]; v: number[] }>();
    for (const g of ds.families()) {
      for (const s of g.floats) {
        const e = { t: [] as number[], v: [] as number[] };
        for (let i = 0; i < ds.steps; i++) if (!Number.isNaN(ds.timestamps[i]!)) (e.t.push(ds.timestamps[i]!), e.v.push(s.values[i]!));
        want.set(s.labels.toString(), e);
      }
    }
    const got = new Map<string, { t: number[]; v: number[] }>();
    let histSamples = 0;
    let resetChunks = 0;
    const native = [...ds.families()].flatMap((g) => g.histograms);
    for (const w of written) {
      const block = await BlockReader.open(w.dir);
      const q = await block.querier(w.meta.minTime, w.meta.maxTime - 1);
      const set = await q.select(true, undefined, [new Matcher(MatchType.NotEqual, '__name__', '')]);
      while (set.next()) {
        const s = set.at();
        const key = s.labels().toString();
        const it = s.iterator();
        const h = native.find((n) => n.labels.toString() === key);
        if (h !== undefined) {
          for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
            expect(vt).toBe(ValueType.Histogram);
            const i = ds.timestamps.indexOf(it.atT());
            const fh = it.atFloatHistogram();
            const exp = ds.histogramAt(h, i);
            expect([fh.count, fh.sum, fh.schema, fh.positiveBuckets]).toEqual([exp.count, exp.sum, exp.schema, exp.positiveBuckets]);
            histSamples++;
          }
          continue;
        }
        let e = got.get(key);
        if (e === undefined) got.set(key, (e = { t: [], v: [] }));
        while (it.next() === ValueType.Float) (e.t.push(it.atT()), e.v.push(it.atF()));
      }
      await q.close();
      const cq = await block.chunkQuerier(w.meta.minTime, w.meta.maxTime - 1);
      const cset = await cq.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'http_request_duration_seconds')]);
      while (cset.next()) {
        for (const c of cset.at().chunks()) {
          if (c.chunk.encoding() !== Encoding.Histogram) continue;
          if (HistogramChunk.fromBytes(c.chunk.bytes()).counterResetHeader() === CounterResetHeader.CounterReset) resetChunks++;
        }
      }
      await cq.close();
      block.close();
    }
    expect(got).toEqual(want);
    expect(histSamples).toBe(2 * 3 * (ds.steps - 40));
    expect(resetChunks).toBeGreaterThan(0); // host-0001's API process restarted
  });
});
