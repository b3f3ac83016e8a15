import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { InMemoryBucket } from '../objstore/index.js';
import { Tsdb } from '../tsdb/index.js';
import { Shipper } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-ship-tsdb-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the shipper uploads a Tsdb's cut blocks with source 'ruler' and the ruler's labels; retention-deleted blocks leave the state file", async () => {
  const H = 3_600_000;
  const labels = Labels.fromStrings('replica', 'r1');
  const db = await Tsdb.open(dir, { blockDuration: H, retention: 2 * H, thanos: { labels, source: 'ruler' } });
  const bucket = new InMemoryBucket();
  const shipper = new Shipper({ bucket, dir, externalLabels: () => labels, source: 'ruler', registry: new Registry() });
  const append = async (from: number, to: number) => {
    for (let t = from; t < to; t += 60_000) {
      const a = db.appender();
      a.append(0, Labels.fromStrings('__name__', 'job:up:sum', 'job', 'api'), t, t);
      await a.commit();
    }
    await db.compact();
  };
  await append(0, 4 * H);
  const cut = db.blocks().map((b) => b.ulid);
  expect(cut).toHaveLength(2);
  expect(await shipper.sync()).toEqual({ uploaded: 2, failed: 0, waiting: 0 });
  for (const u of cut) {
    const meta = JSON.parse(new TextDecoder().decode(await bucket.get(`${u}/meta.json`))) as { thanos: { source: string; labels: Record<string, string> } };
    expect(meta.thanos.source).toBe('ruler');
    expect(meta.thanos.labels).toEqual({ replica: 'r1' });
    expect(await bucket.exists(`${u}/index`)).toBe(true);
  }
  const state = JSON.parse(await readFile(join(dir, 'thanos.shipper.json'), 'utf8')) as { uploaded: string[] };
  expect(state.uploaded).toEqual([...cut].sort());
  // Four more hours: retention (2h behind the newest block) deletes the first blocks locally.
  await append(4 * H, 8 * H);
  expect(db.blocks().map((b) => b.ulid)).not.toContain(cut[0]);
  const second = await shipper.sync();
  expect(second.uploaded).toBe(db.blocks().filter((b) => !cut.includes(b.ulid)).length);
  expect(shipper.uploadedBlocks()).not.toContain(cut[0]);
  await db.close();
});
