import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ValueType } from '../chunkenc/index.js';
import { Matcher, MatchType } from '../labels/index.js';
import { FilesystemBucket } from '../objstore/index.js';
import { BlockReader } from '../tsdb/index.js';
import { writeDemoBlocks } from './demo-data.js';

describe('writeDemoBlocks', () => {
  test('uploads one readable 2h block per replica and window, with Thanos labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
    const bucket = new FilesystemBucket({ directory: join(dir, 'bucket') });
    const end = 1767225600000 + 4 * 3600_000;
    const ulids = await writeDemoBlocks(bucket, join(dir, 'work'), { endMs: end, hours: 4, hosts: 2 });
    expect(ulids).toHaveLength(4);
    let histograms = 0;
    for (const u of ulids) {
      const block = await BlockReader.open(join(dir, 'bucket', u));
      expect(block.meta.maxTime - block.meta.minTime).toBe(2 * 3600_000);
      const replica = block.meta.thanos?.labels['replica'];
      expect(['a', 'b']).toContain(replica);
      histograms += block.meta.stats.numHistogramSamples ?? 0;
      // Replica b misses 10 minutes (40 scrapes) halfway, at the start of the second block.
      const want = replica === 'b' && block.meta.minTime === end - 2 * 3600_000 ? 440 : 480;
      expect(block.meta.thanos?.labels['cluster']).toBe('demo');
      const q = await block.querier(block.meta.minTime, block.meta.maxTime - 1);
      const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'http_requests_total')]);
      let series = 0;
      while (set.next()) {
        series++;
        const it = set.at().iterator();
        let n = 0;
        let last = -Infinity;
        while (it.next() === ValueType.Float) {
          expect(it.atT()).toBeGreaterThan(last);
          expect(it.atF()).toBeGreaterThanOrEqual(0);
          last = it.atT();
          n++;
        }
        expect(n).toBe(want); // 2h at 15s
      }
      expect(series).toBe(18); // 2 hosts × 3 handlers × 3 codes
      await q.close();
    }
    expect(histograms).toBeGreaterThan(0);
  });
});
