import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ValueType } from '../chunkenc/index.js';
import { Matcher, MatchType } from '../labels/index.js';
import { FilesystemBucket } from '../objstore/index.js';
import { BlockReader, formatBlockMeta, readBlockMeta } from '../tsdb/index.js';
import { writeDemoBlocks } from './demo-data.js';
import { demoHistoryEnd } from './demo-history-end.js';

describe('demoHistoryEnd and topping the history up', () => {
  test('the end of the cluster="demo" blocks; a top-up from there continues without overlapping samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-end-'));
    const bucket = new FilesystemBucket({ directory: join(dir, 'bucket') });
    expect(await demoHistoryEnd(bucket)).toBeUndefined();
    const t = 1767225600000 + 3 * 3600_000; // not on a 2h boundary
    await writeDemoBlocks(bucket, join(dir, 'work'), { endMs: t, hours: 2, hosts: 1 });
    expect(await demoHistoryEnd(bucket)).toBe(t);

    // A newer block of another cluster (a sidecar's, the ruler's) does not count.
    const [other] = await writeDemoBlocks(new FilesystemBucket({ directory: join(dir, 'other') }), join(dir, 'work'), { endMs: t + 4 * 3600_000, hours: 1, hosts: 1, replicas: ['a'] });
    const meta = await readBlockMeta(join(dir, 'other', other!));
    await bucket.upload(`${other}/meta.json`, new TextEncoder().encode(formatBlockMeta({ ...meta, thanos: { ...meta.thanos!, labels: { cluster: 'live', replica: 'a' } } })));
    expect(await demoHistoryEnd(bucket)).toBe(t);

    const topUp = await writeDemoBlocks(bucket, join(dir, 'work'), { startMs: t, endMs: t + 3600_000, hosts: 1 });
    expect(topUp).toHaveLength(2); // one per replica: [t, t + 1h) lies in one 2h window
    expect(await demoHistoryEnd(bucket)).toBe(t + 3600_000);
    for (const u of topUp) {
      const block = await BlockReader.open(join(dir, 'bucket', u));
      const q = await block.querier(block.meta.minTime, block.meta.maxTime - 1);
      const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'up')]);
      expect(set.next()).toBe(true);
      const it = set.at().iterator();
      expect(it.next()).toBe(ValueType.Float);
      // the first top-up scrape is the one after the old history's last (replica b: a little later)
      expect(it.atT()).toBeGreaterThanOrEqual(t);
      expect(it.atT()).toBeLessThan(t + 1000);
      await q.close();
    }
  });

  test('no top-up shorter than a scrape interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-end-'));
    const bucket = new FilesystemBucket({ directory: join(dir, 'bucket') });
    expect(await writeDemoBlocks(bucket, join(dir, 'work'), { startMs: 1767225600000, endMs: 1767225600000 + 10_000, hosts: 1 })).toEqual([]);
  });
});
