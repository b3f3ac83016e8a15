import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isStaleNaN } from '../chunkenc/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import { writeOutOfOrderBlock } from '../testutil/index.js';
import { BlockReader, UlidGenerator } from '../tsdb/index.js';
import { newStreamingMerger } from './streaming-merger.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tessera-merger-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('streaming merger', () => {
  test('repairing overlapping chunks keeps a stale marker bit for bit (values never pass through a number[])', async () => {
    const src = await writeOutOfOrderBlock(join(tmp, 'in'), { stale: true });
    const ulid = new UlidGenerator().next(Date.now());
    await newStreamingMerger().merge({ inputDirs: [src.dir], outDir: join(tmp, 'out'), ulid, overlapping: false, repair: true });
    const r = await BlockReader.open(join(tmp, 'out', ulid));
    try {
      const q = await r.querier(r.minTime, r.maxTime);
      const set = await q.select(true, undefined, [new Matcher(MatchType.Equal, '__name__', 'm')]);
      const got: string[] = [];
      while (set.next()) {
        const it = set.at().iterator();
        while (it.next() !== 0) got.push(`${it.atT() / 900_000} ${isStaleNaN(it.atF()) ? 'stale' : it.atF()}`);
      }
      expect(set.err()).toBeNull();
      await q.close();
      expect(got).toEqual(['0 0', '1 1', '2 2', '3 3', '4 4', '5 stale', '6 6', '7 7']);
    } finally {
      r.close();
    }
  });
});
