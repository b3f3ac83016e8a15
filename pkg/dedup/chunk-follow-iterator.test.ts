import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { STALE_NAN_HI, STALE_NAN_LO, staleNaN, ValueType, XorChunk, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import { ChunkFollowIterator, type ChunkRange, type ReplicaChunkList } from './chunk-follow-iterator.js';
import { ChunkIntervalIterator } from './chunk-interval-iterator.js';
import { FollowFirstIterator } from './follow-first-iterator.js';
import { firstCoveredSamples, firstCovers, type CoveredSamples } from './first-covers.js';

const T0 = 1_767_225_600_000;

/** A replica as the querier gets it: XOR chunks with their ranges, and how often chunk(i) was asked for. */
interface Replica extends ReplicaChunkList {
  readonly chunks: readonly Chunk[];
  readonly ts: readonly number[];
  opened: number;
}

function replicaOf(ts: readonly number[], vs: readonly number[], cuts: ReadonlySet<number>): Replica {
  const chunks: Chunk[] = [];
  const ranges: ChunkRange[] = [];
  let c: XorChunk | undefined;
  let app: ReturnType<XorChunk['appender']> | undefined;
  let min = NaN;
  const close = (max: number) => {
    if (c === undefined) return;
    chunks.push(c);
    ranges.push({ minTime: min, maxTime: max });
    c = undefined;
  };
  for (let i = 0; i < ts.length; i++) {
    if (c !== undefined && cuts.has(i)) close(ts[i - 1]!);
    if (c === undefined) {
      c = new XorChunk();
      app = c.appender();
      min = ts[i]!;
    }
    // NaN stands for a staleness marker.
    if (Number.isNaN(vs[i])) app!.appendBits(ts[i]!, STALE_NAN_HI, STALE_NAN_LO);
    else app!.append(ts[i]!, vs[i]!);
  }
  close(ts[ts.length - 1]!);
  const r: Replica = {
    chunks,
    ranges,
    ts,
    opened: 0,
    chunk(i: number): Chunk {
      r.opened++;
      return chunks[i]!;
    },
  };
  return r;
}

/** openReplica is the querier's former replica reader: a ChunkIntervalIterator over the chunks overlapping [lo, hi]. */
function openReplica(r: Replica, lo: number, hi: number): SampleIterator {
  const idx = r.ranges.flatMap((c, i) => (c.maxTime >= lo && c.minTime <= hi ? [i] : []));
  return new ChunkIntervalIterator(
    idx.map((i) => r.chunk(i)),
    idx.map((i) => r.ranges[i]!),
    lo,
    hi,
  );
}

interface Pair {
  readonly interval: number;
  /** gapless: replica 0 has no removed samples. */
  readonly gapless: boolean;
  readonly replicas: Replica[];
}

/**
 * pair generates 1–3 replicas of one target: replica 0 on the scrape grid, the others shifted
 * (250–650 ms as two Prometheus servers, or anywhere within an interval), each with jitter, gaps
 * (removed index ranges), a per-replica counter base and an optional reset, chunks cut every
 * 1–130 samples at the replica's own places and at shared block boundaries.
 */
function pair(): fc.Arbitrary<Pair> {
  const replica = fc.record({
    shift: fc.oneof(fc.integer({ min: 250, max: 650 }), fc.double({ min: -0.99, max: 0.99, noNaN: true })),
    startSlot: fc.integer({ min: 0, max: 6 }),
    n: fc.integer({ min: 2, max: 160 }),
    jitters: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 160, maxLength: 160 }),
    gaps: fc.array(fc.record({ at: fc.integer({ min: 0, max: 159 }), len: fc.integer({ min: 1, max: 25 }) }), { maxLength: 3 }),
    chunkLen: fc.integer({ min: 1, max: 130 }),
    base: fc.integer({ min: 0, max: 5000 }),
    reset: fc.option(fc.integer({ min: 1, max: 159 }), { nil: undefined }),
  });
  return fc
    .record({
      interval: fc.constantFrom(10_000, 15_000, 30_000, 60_000),
      jitterScale: fc.constantFrom(0, 0.01, 0.04),
      block: fc.integer({ min: 8, max: 80 }),
      rate: fc.double({ min: 0, max: 0.01, noNaN: true }),
      reps: fc.array(replica, { minLength: 1, maxLength: 3 }),
      firstComplete: fc.boolean(),
    })
    .map(({ interval, jitterScale, block, rate, reps, firstComplete }) => {
      const replicas = reps.map((r, k) => {
        const shift = k === 0 ? 0 : r.shift >= 1 || r.shift <= -1 ? r.shift : Math.round(r.shift * interval);
        const removed = new Set<number>();
        if (!(k === 0 && firstComplete)) for (const g of r.gaps) for (let i = g.at; i < g.at + g.len; i++) removed.add(i);
        const ts: number[] = [];
        const vs: number[] = [];
        const cuts = new Set<number>();
        let resetAt = NaN;
        let lastBlock = -1;
        let sinceCut = 0;
        for (let i = 0; i < r.n; i++) {
          const t = T0 + (r.startSlot + i) * interval + shift + Math.round(r.jitters[i]! * jitterScale * interval / 1000);
          if (r.reset !== undefined && i === r.reset) resetAt = t;
          if (removed.has(i)) continue;
          const b = Math.floor((t - T0) / (block * interval));
          if (ts.length > 0 && (b !== lastBlock || sinceCut >= r.chunkLen)) {
            cuts.add(ts.length);
            sinceCut = 0;
          }
          lastBlock = b;
          sinceCut++;
          if (ts.length > 0 && t <= ts[ts.length - 1]!) continue;
          const truth = rate * (t - T0);
          ts.push(t);
          vs.push(Number.isNaN(resetAt) ? r.base + truth : truth - rate * (resetAt - T0));
        }
        return replicaOf(ts, vs, cuts);
      });
      return { interval, gapless: replicas[0]!.ts.length > 0 && (firstComplete || reps[0]!.gaps.length === 0), replicas: replicas.filter((r) => r.ts.length > 0) };
    })
    .filter((p) => p.replicas.length > 0);
}

function drain(it: SampleIterator, seekTo: number): [number, number][] {
  const out: [number, number][] = [];
  for (let ty = it.seek(seekTo); ty !== ValueType.None; ty = it.next()) out.push([it.atT(), it.atF()]);
  expect(it.err()).toBeNull();
  return out;
}

/** samplesOf lists covered samples from `from` on in time order, staleness markers as the StaleNaN they decode to. */
function samplesOf(c: CoveredSamples, from: number): [number, number][] {
  const out: [number, number][] = [];
  let j = 0;
  for (let i = 0; i <= c.fts.length; i++) {
    const t = i < c.fts.length ? c.fts[i]! : Infinity;
    for (; j < c.sts.length && c.sts[j]! < t; j++) if (c.sts[j]! >= from) out.push([c.sts[j]!, staleNaN()]);
    if (i < c.fts.length && t >= from) out.push([t, c.fvs[i]!]);
  }
  return out;
}

const runs = { numRuns: Number(process.env['DEDUP_PROPERTY_RUNS'] ?? 400) };

describe('ChunkFollowIterator', () => {
  test('yields exactly what FollowFirstIterator yields over the same chunks (times and values, counters too)', () => {
    let cases = 0;
    let covered = 0;
    let handed = 0;
    fc.assert(
      fc.property(
        pair(),
        fc.boolean(),
        fc.integer({ min: 0, max: 159 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 2, max: 25 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (p, counter, anchor, off, len, ctxIntervals, seekAt) => {
          // The window starts near one of replica 0's samples (so also before and after its data).
          const r0ts = p.replicas[0]!.ts;
          const mint = r0ts[anchor % r0ts.length]! + Math.round(off * p.interval);
          const maxt = mint + Math.round((len * p.interval) / 2);
          const ctx = ctxIntervals * p.interval;
          const seekTo = mint + Math.round(seekAt * (maxt - mint));
          const want = drain(
            new FollowFirstIterator({
              open: (lo, hi) => p.replicas.map((r) => openReplica(r, lo, hi)),
              openFirst: (lo, hi) => openReplica(p.replicas[0]!, lo, hi),
              mint,
              maxt,
              ctx,
              counter,
            }),
            seekTo,
          );
          for (const r of p.replicas) r.opened = 0;
          const got = drain(new ChunkFollowIterator({ replicas: p.replicas, mint, maxt, ctx, counter }), seekTo);
          expect(got).toEqual(want);
          // firstCovers: when it says so, the output is replica 0's samples in [mint, maxt] as they are.
          if (firstCovers({ replicas: p.replicas, mint, maxt, ctx, counter })) {
            covered++;
            const r0 = p.replicas[0]!;
            const own = drain(new ChunkIntervalIterator(r0.chunks, r0.ranges, mint, maxt), seekTo);
            expect(own).toEqual(want);
            // The samples its check decoded, handed over instead of replica 0's chunks, are the same.
            const c = firstCoveredSamples({ replicas: p.replicas, mint, maxt, ctx, counter });
            expect(c).not.toBe(false);
            if (c !== true && c !== false) {
              handed++;
              expect(c.valid()).toBe(true);
              expect(samplesOf(c, seekTo)).toEqual(want);
            }
          } else {
            expect(firstCoveredSamples({ replicas: p.replicas, mint, maxt, ctx, counter })).toBe(false);
          }
          // Where replica 0 has no gap around the window, a gauge is read from replica 0 alone.
          const r0 = p.replicas[0]!;
          const f0i = r0.ts.findIndex((t) => t >= mint - ctx);
          const f0c = r0.ranges.findIndex((c) => c.maxTime >= r0.ts[f0i]!);
          const f0Chunk = r0.ranges[f0c];
          if (!counter && p.gapless && p.replicas.length > 1 && f0i >= 0 && r0.ts[f0i]! < mint && r0.ts[r0.ts.length - 1]! > maxt && f0Chunk !== undefined && f0Chunk.maxTime > f0Chunk.minTime) {
            cases++;
            expect(p.replicas.slice(1).map((r) => r.opened)).toEqual(p.replicas.slice(1).map(() => 0));
          }
        },
      ),
      runs,
    );
    expect(cases).toBeGreaterThan(0);
    expect(covered).toBeGreaterThan(0);
    expect(handed).toBe(covered);
  });

  test('reads no other replica where replica 0 covers the window (gauges), at most the first chunk of each (counters)', () => {
    const interval = 15_000;
    const n = 2000;
    const a = Array.from({ length: n }, (_, i) => T0 + i * interval);
    const b = a.map((t, i) => t + 250 + ((i * 7919) % 401));
    const values = a.map((_, i) => i * 3);
    const cutsEvery = (k: number) => new Set(Array.from({ length: n / k }, (_, i) => i * k));
    for (const counter of [false, true]) {
      const ra = replicaOf(a, values, cutsEvery(120));
      const rb = replicaOf(b, values, cutsEvery(97));
      const mint = T0 + 3_600_000 + 7000;
      const maxt = T0 + 5 * 3_600_000;
      const got = drain(new ChunkFollowIterator({ replicas: [ra, rb], mint, maxt, ctx: 300_000, counter }), mint);
      expect(got).toEqual(a.flatMap((t, i) => (t >= mint && t <= maxt ? [[t, values[i]!]] : [])));
      expect(rb.opened).toBeLessThanOrEqual(counter ? 1 : 0);
      expect(firstCovers({ replicas: [ra, rb], mint, maxt, ctx: 300_000, counter })).toBe(true);
      // FollowFirstIterator decodes replica b over the first ctx of the window.
      rb.opened = 0;
      drain(
        new FollowFirstIterator({ open: (lo, hi) => [openReplica(ra, lo, hi), openReplica(rb, lo, hi)], openFirst: (lo, hi) => openReplica(ra, lo, hi), mint, maxt, ctx: 300_000, counter }),
        mint,
      );
      expect(rb.opened).toBeGreaterThan(0);
    }
  });

  test('hands over the samples it decoded, staleness markers apart, bounded to the window', () => {
    const interval = 15_000;
    const a = Array.from({ length: 600 }, (_, i) => T0 + i * interval);
    const b = a.map((t) => t + 400);
    const va = a.map((_, i) => (i % 50 === 7 ? NaN : i * 2));
    for (const counter of [false, true]) {
      const ra = replicaOf(a, va, new Set([120, 240, 360, 480]));
      const rb = replicaOf(b, b.map((_, i) => i * 2), new Set([100, 200, 300]));
      const mint = T0 + 1_000_000 + 3000;
      const maxt = T0 + 7_000_000;
      const c = firstCoveredSamples({ replicas: [ra, rb], mint, maxt, ctx: 300_000, counter });
      if (c === true || c === false) throw new Error(`expected samples, got ${c}`);
      expect(c.sts.length).toBeGreaterThan(3);
      expect(c.fts[0]).toBeGreaterThanOrEqual(mint);
      expect(c.fts[c.fts.length - 1]).toBeLessThanOrEqual(maxt);
      const want = drain(new ChunkFollowIterator({ replicas: [ra, rb], mint, maxt, ctx: 300_000, counter }), mint);
      expect(c.valid()).toBe(true);
      expect(samplesOf(c, mint)).toEqual(want);
      expect(want.length).toBe(a.filter((t) => t >= mint && t <= maxt).length);
      // The next call reuses the buffers: the views say they no longer hold.
      firstCoveredSamples({ replicas: [ra, rb], mint: mint + 60_000, maxt, ctx: 300_000, counter });
      expect(c.valid()).toBe(false);
    }
  });

  test('fills a gap of replica 0 from replica 1 and follows replica 0 again after it', () => {
    const interval = 15_000;
    const a = Array.from({ length: 400 }, (_, i) => T0 + i * interval).filter((t) => t < T0 + 3_000_000 || t >= T0 + 3_600_000);
    const b = Array.from({ length: 400 }, (_, i) => T0 + i * interval + 400);
    const ra = replicaOf(a, a.map((t) => (t - T0) / 1000), new Set([120, 240]));
    const rb = replicaOf(b, b.map((t) => (t - T0) / 1000), new Set([100, 200, 300]));
    const got = drain(new ChunkFollowIterator({ replicas: [ra, rb], mint: T0 + 600_000, maxt: T0 + 5_000_000, ctx: 300_000, counter: true }), T0 + 600_000);
    expect(firstCovers({ replicas: [ra, rb], mint: T0 + 600_000, maxt: T0 + 5_000_000, ctx: 300_000, counter: true })).toBe(false);
    expect(firstCovers({ replicas: [ra, rb], mint: T0 + 600_000, maxt: T0 + 2_900_000, ctx: 60_000, counter: true })).toBe(true);
    const inGap = got.filter(([t]) => t > T0 + 3_000_000 && t < T0 + 3_600_000);
    expect(inGap.length).toBeGreaterThan(30);
    expect(inGap.every(([t]) => t % 1000 === 400)).toBe(true);
    expect(got.filter(([t]) => t >= T0 + 3_600_000).every(([t]) => t % 1000 === 0)).toBe(true);
  });
});
