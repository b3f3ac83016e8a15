import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { BlockWriter, openDB, type BlockDB } from '../../tsdb/index.js';
import { Engine } from './engine.js';
import { fastPaths } from './fast-paths.js';
import { staleNaN } from './stale.js';

// Local blocks are read chunk by chunk when the storage also serves chunks; the results must be
// those of reading the merged sample series (fastPaths off), including across block boundaries,
// series missing from some blocks, staleness markers, and blocks that overlap in time (which
// take the sample path).

const MIN = 60_000;
const HOUR = 60 * MIN;

function samples(block: number, h: number, overlap: boolean): { ts: number[]; vs: number[] } {
  const ts: number[] = [];
  const vs: number[] = [];
  const from = block * HOUR - (overlap ? 10 * MIN : 0);
  for (let t = from; t < (block + 1) * HOUR; t += 15_000) {
    const i = t / 15_000;
    ts.push(t);
    vs.push(i % 97 === 13 ? staleNaN : i * (h + 1) + (overlap ? 0.5 : 0) - (i % 50 === 0 ? 1000 : 0));
  }
  return { ts, vs };
}

let dir: string;
let db: BlockDB;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-chunk-load-'));
  for (let b = 0; b < 3; b++) {
    const w = await BlockWriter.create(dir);
    for (let h = 0; h < 4; h++) {
      if (b === 1 && h === 3) continue; // a series missing from the middle block
      const { ts, vs } = samples(b, h, false);
      await w.addSeries(Labels.fromStrings('__name__', 'a_total', 'h', String(h)), ts, vs);
    }
    // b_total's blocks overlap by 10 minutes.
    const { ts, vs } = samples(b, 0, b > 0);
    await w.addSeries(Labels.fromStrings('__name__', 'b_total', 'h', '0'), ts, vs);
    await w.flush();
  }
  db = await openDB(dir);
});

afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const engine = new Engine();

async function run(q: string): Promise<string> {
  try {
    const r = await engine.rangeQuery(db, q, 20 * MIN + 7000, 3 * HOUR + 5 * MIN, 45_000).exec();
    return JSON.stringify(r.value.value, (_k, x: unknown) => (x instanceof Labels ? x.toString() : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('engine over local blocks reads chunks directly', () => {
  test.each([
    'a_total',
    'rate(a_total[5m])',
    'sum by (h) (increase(a_total[1h]))',
    'max_over_time(a_total[20m])',
    'b_total',
    'rate(b_total[5m]) + on() group_left sum(a_total)',
    'timestamp(a_total)',
    'last_over_time({__name__=~"a_total|b_total"}[3m])',
  ])('%s', async (q) => {
    fastPaths.enabled = true;
    const fast = await run(q);
    fastPaths.enabled = false;
    try {
      const slow = await run(q);
      expect(fast.startsWith('error')).toBe(false);
      expect(fast).toEqual(slow);
    } finally {
      fastPaths.enabled = true;
    }
  });
});

describe('pooled sample blocks', () => {
  const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x instanceof Labels ? x.toString() : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  // The loaded samples live in blocks that go back to a pool when a query is done; results must
  // not share them, or a later query would overwrite an earlier result.
  test('results stay intact while later queries reuse the blocks', async () => {
    const queries: [string, () => Promise<unknown>][] = [
      ['range a_total', async () => (await engine.rangeQuery(db, 'a_total', 20 * MIN, 3 * HOUR, 60_000).exec()).value.value],
      ['instant a_total[10m]', async () => (await engine.instantQuery(db, '{__name__=~"a_total|b_total"}[10m]', 2 * HOUR).exec()).value.value],
      ['range rate', async () => (await engine.rangeQuery(db, 'rate(a_total[5m])', 20 * MIN, 3 * HOUR, 60_000).exec()).value.value],
      ['instant subquery', async () => (await engine.instantQuery(db, 'a_total[30m:1m]', 2 * HOUR).exec()).value.value],
      ['range last_over_time', async () => (await engine.rangeQuery(db, 'last_over_time(b_total[3m])', 20 * MIN, 3 * HOUR, 60_000).exec()).value.value],
    ];
    const kept: { name: string; value: unknown; json: string }[] = [];
    for (const [name, q] of queries) {
      const value = await q();
      kept.push({ name, value, json: show(value) });
      // Other queries over other data reuse (and overwrite) the pooled blocks.
      await engine.rangeQuery(db, 'b_total * 1000', 0, 3 * HOUR, 15_000).exec();
      await engine.rangeQuery(db, 'a_total - 7', 0, 3 * HOUR, 15_000).exec();
    }
    for (const k of kept) expect(show(k.value), k.name).toBe(k.json);
    expect(kept[1]!.json.length).toBeGreaterThan(100);
  });

  test('queries that fail while loading or run concurrently do not disturb the others', async () => {
    const qs = ['a_total', 'rate(a_total[5m])', 'b_total - 1', 'max_over_time(a_total[7m])', 'a_total offset 3m'];
    const one = async (q: string) => show((await engine.rangeQuery(db, q, 20 * MIN, 3 * HOUR, 30_000).exec()).value.value);
    const want: string[] = [];
    for (const q of qs) want.push(await one(q));
    const ac = new AbortController();
    ac.abort();
    const failing = [
      new Engine({ maxMemoryBytes: 20_000 }).rangeQuery(db, 'a_total', 0, 3 * HOUR, 15_000).exec(),
      engine.rangeQuery(db, 'a_total', 0, 3 * HOUR, 15_000, { signal: ac.signal }).exec(),
    ];
    const got = await Promise.all([...qs.map(one), ...qs.map(one), ...failing.map((p) => p.then(() => 'ok', () => 'failed'))]);
    expect(got.slice(0, 2 * qs.length)).toEqual([...want, ...want]);
    expect(got.slice(2 * qs.length)).toEqual(['failed', 'failed']);
    // After the failures, the blocks are handed out once each: results still agree.
    expect(await Promise.all(qs.map(one))).toEqual(want);
  });
});
