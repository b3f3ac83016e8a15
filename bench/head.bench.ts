// The ruler's write path: appends to a TSDB head with its WAL (commit of 10k samples over 10k
// series, as one rule group evaluation writing 10k recorded series), WAL replay on open, block cut.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../pkg/labels/index.js';
import { Head, Tsdb } from '../pkg/tsdb/index.js';
import type { BenchResult } from './harness.js';

const SERIES = 10_000;
const COMMITS = 120; // 2 h of 1 min evaluations
const STEP = 60_000;

export async function run(): Promise<BenchResult[]> {
  const labels = Array.from({ length: SERIES }, (_, i) => Labels.fromStrings('__name__', 'job:http_requests:rate5m', 'instance', `host-${i % 500}`, 'job', `job-${i % 20}`, 'code', String(200 + (i % 5)), 'path', `/api/v1/r${i}`));
  const refs = new Array<number>(SERIES).fill(0);
  const out: BenchResult[] = [];

  // In-memory head: the cost of append + commit without I/O.
  {
    const head = new Head();
    let t = 1_767_225_600_000;
    const commitOnce = async () => {
      const a = head.appender();
      for (let i = 0; i < SERIES; i++) refs[i] = a.append(refs[i]!, labels[i]!, t, i + t / 1e6);
      await a.commit();
      t += STEP;
    };
    await commitOnce(); // creates the series
    const start = performance.now();
    for (let c = 1; c < COMMITS; c++) await commitOnce();
    const ms = performance.now() - start;
    out.push({ name: 'head (no WAL): samples/s, commits of 10k samples', value: ((COMMITS - 1) * SERIES) / (ms / 1000), unit: 'samples/s' });
  }

  const dir = await mkdtemp(join(tmpdir(), 'tessera-head-bench-'));
  try {
    refs.fill(0);
    const db = await Tsdb.open(dir, { autoCompact: false });
    let t = 1_767_225_600_000;
    const commitOnce = async () => {
      const a = db.appender();
      for (let i = 0; i < SERIES; i++) refs[i] = a.append(refs[i]!, labels[i]!, t, i + t / 1e6);
      await a.commit();
      t += STEP;
    };
    const first = performance.now();
    await commitOnce();
    out.push({ name: 'Tsdb: first commit of 10k new series (series + samples records)', value: performance.now() - first, unit: 'ms' });
    const start = performance.now();
    for (let c = 1; c < COMMITS; c++) await commitOnce();
    const ms = performance.now() - start;
    out.push({ name: 'Tsdb (WAL, no fsync): samples/s, commits of 10k samples', value: ((COMMITS - 1) * SERIES) / (ms / 1000), unit: 'samples/s' });
    out.push({ name: 'Tsdb (WAL, no fsync): one commit of 10k samples', value: ms / (COMMITS - 1), unit: 'ms' });
    await db.close();

    const r0 = performance.now();
    const again = await Tsdb.open(dir, { autoCompact: false });
    const replayMs = performance.now() - r0;
    out.push({ name: `WAL replay on open: ${again.replay.samples} samples, ${again.replay.series} series`, value: replayMs, unit: 'ms' });
    out.push({ name: 'WAL replay rate', value: again.replay.samples / (replayMs / 1000), unit: 'samples/s' });
    // One more hour and a half makes the head compactable: cut the 2h block, checkpoint the WAL.
    for (let c = 0; c < 90; c++) {
      const a = again.appender();
      for (let i = 0; i < SERIES; i++) refs[i] = a.append(refs[i]!, labels[i]!, t, i);
      await a.commit();
      t += STEP;
    }
    const c0 = performance.now();
    const res = await again.compact();
    out.push({ name: `compact: ${res.blocks.length} block(s) cut + WAL checkpoint`, value: performance.now() - c0, unit: 'ms' });
    await again.close();

    const fs = await Tsdb.open(join(dir, 'fsync'), { autoCompact: false, fsync: true });
    refs.fill(0);
    let tf = 1_767_225_600_000;
    const f0 = performance.now();
    for (let c = 0; c < 20; c++) {
      const a = fs.appender();
      for (let i = 0; i < SERIES; i++) refs[i] = a.append(refs[i]!, labels[i]!, tf, i);
      await a.commit();
      tf += STEP;
    }
    out.push({ name: 'Tsdb (WAL, fsync per commit): one commit of 10k samples', value: (performance.now() - f0) / 20, unit: 'ms' });
    await fs.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
