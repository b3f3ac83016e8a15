import { describe, expect, test } from 'vitest';
import { ValueType, XorChunk } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import type { AggrChunk, SeriesResponse, StoreSeries } from '../storepb/index.js';
import { StoreSeriesStream, type StoreSeriesStreamOptions } from './store-series-stream.js';

function chunk(ts: readonly number[]): AggrChunk {
  const c = new XorChunk();
  const a = c.appender();
  for (const t of ts) a.append(t, t / 1000);
  return { minTime: ts[0]!, maxTime: ts[ts.length - 1]!, raw: { type: 0, data: c.bytes(), hashHi: 0, hashLo: 0 } };
}

/** series of one replica, 15 s scrapes over [0, 600 s], replica b 300 ms late. */
function series(rec: Record<string, string>): StoreSeries {
  const off = rec['replica'] === 'b' ? 300 : 0;
  return { labels: Labels.fromRecord(rec), chunks: [chunk(Array.from({ length: 41 }, (_, i) => i * 15_000 + off))] };
}

/** The stream's input: every series sorted by labels (the StoreAPI contract), in frames of `per`. */
function frames(all: StoreSeries[], per: number): SeriesResponse[][] {
  const sorted = [...all].sort((a, b) => Labels.compare(a.labels, b.labels));
  const out: SeriesResponse[][] = [];
  for (let i = 0; i < sorted.length; i += per) out.push([{ kind: 'batch', batch: sorted.slice(i, i + per) }, { kind: 'warning', warning: `w${i}` }]);
  return out;
}

/** source yields the frames and counts how many were pulled and whether it was closed. */
function source(fs: SeriesResponse[][]): AsyncIterable<SeriesResponse[]> & { pulled: number; closed: Promise<void> } {
  let onClose!: () => void;
  const s = {
    pulled: 0,
    closed: new Promise<void>((r) => (onClose = r)),
    async *[Symbol.asyncIterator]() {
      try {
        for (const f of fs) {
          s.pulled++;
          yield f;
        }
      } finally {
        onClose();
      }
    },
  };
  return s;
}

const opts = (incremental: boolean, maxBuffered?: number): StoreSeriesStreamOptions => ({
  replica: new Set(['replica']),
  aggrs: [],
  mint: 0,
  maxt: 600_000,
  ctx: 0,
  func: undefined,
  incremental,
  ...(maxBuffered !== undefined ? { maxBuffered } : {}),
});

/** drain reads an incremental set to its end: labels and sample count per series, in order. */
async function drain(set: StoreSeriesStream): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for (;;) {
    while (set.next()) {
      const it = set.at().iterator();
      let n = 0;
      while (it.next() !== ValueType.None) n++;
      out.push([set.at().labels().toString(), n]);
    }
    if (set.err() !== null) throw set.err();
    if (set.done()) return out;
    await set.more();
  }
}

// Labels that sort after "replica" (zone) put other series between two replicas of one series.
const all: StoreSeries[] = [];
for (const job of ['api', 'db']) {
  for (const zone of ['z1', 'z2', 'z3']) {
    for (const replica of ['a', 'b']) all.push(series({ __name__: 'up', job, replica, zone }));
  }
  all.push(series({ __name__: 'up', job, replica: 'a' }), series({ __name__: 'up', job, replica: 'b' }));
  all.push(series({ __name__: 'up', job }));
}

describe('StoreSeriesStream', () => {
  test('incremental sets merge each series replicas once, like reading everything first', async () => {
    const whole = new StoreSeriesStream(source(frames(all, 3)), opts(false), new AbortController().signal);
    await whole.started;
    // Not incremental: select has read everything, so the set never asks for more.
    const more = whole.more.bind(whole);
    whole.more = () => {
      throw new Error('asked for more');
    };
    const want = await drain(whole);
    whole.more = more;
    // One series per label set without the replica label: job × (3 zones + none).
    expect(want.map(([l]) => l)).toHaveLength(8);
    expect(new Set(want.map(([l]) => l)).size).toBe(8);
    // Replica a is complete: dedup yields its 41 samples.
    for (const [, n] of want) expect(n).toBe(41);
    for (const per of [1, 2, 5, 100]) {
      const set = new StoreSeriesStream(source(frames(all, per)), opts(true, 2), new AbortController().signal);
      await set.started;
      const got = await drain(set);
      expect([...got].sort()).toEqual([...want].sort());
      expect(set.warnings()).toContain('w0');
    }
  });

  test('a set not read yet buffers the whole stream', async () => {
    const src = source(frames(all, 1));
    const set = new StoreSeriesStream(src, opts(true, 2), new AbortController().signal);
    await set.started;
    await src.closed;
    expect(src.pulled).toBe(18);
    expect((await drain(set)).length).toBe(8);
  });

  test('once read, the stream is read ahead by a bounded number of series only', async () => {
    const src = source(frames(all, 1));
    const set = new StoreSeriesStream(src, opts(true, 2), new AbortController().signal);
    await set.started;
    expect(set.next()).toBe(true); // the consumer starts reading: from now on the stream waits for it
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
    // 18 frames (one series each) in 8 groups, 9 per job. Job api's 4 groups are complete only
    // once the stream has reached job db (frame 10): views waiting (above 2) stop the reading.
    expect(src.pulled).toBeLessThan(12);
    expect(set.done()).toBe(false);
    expect((await drain(set)).length).toBe(7);
    expect(src.pulled).toBe(18);
  });

  test('stopping ends the stream and closes the source', async () => {
    const src = source(frames(all, 1));
    const stop = new AbortController();
    const set = new StoreSeriesStream(src, opts(true, 1), stop.signal);
    await set.started;
    expect(set.next()).toBe(true);
    stop.abort(new Error('closed'));
    for (;;) {
      while (set.next());
      if (set.done()) break;
      await set.more();
    }
    expect(set.err()?.message).toBe('closed');
    await src.closed;
    expect(src.pulled).toBeLessThan(12);
  });

  test('a series after its group was handed over fails the set instead of repeating it', async () => {
    const a = series({ __name__: 'up', job: 'api', replica: 'a' });
    const b = series({ __name__: 'up', job: 'db', replica: 'a' });
    const again = series({ __name__: 'up', job: 'api', replica: 'b' });
    const set = new StoreSeriesStream(source([[{ kind: 'series', series: a }], [{ kind: 'series', series: b }], [{ kind: 'series', series: again }]]), opts(true), new AbortController().signal);
    await set.started;
    await expect(drain(set)).rejects.toThrow(/stores sent one after later series/);
  });

  test('a failing source before any series fails the set', async () => {
    const failing: AsyncIterable<SeriesResponse[]> = {
      // eslint-disable-next-line require-yield
      async *[Symbol.asyncIterator]() {
        throw new Error('store down');
      },
    };
    const set = new StoreSeriesStream(failing, opts(true), new AbortController().signal);
    await set.started;
    expect(set.next()).toBe(false);
    expect(set.done()).toBe(true);
    expect(set.err()?.message).toBe('store down');
  });
});

describe('StoreSeriesStream order', () => {
  /** valuesOf reads every view of a set: labels and samples, in the order the set hands them over. */
  async function valuesOf(set: StoreSeriesStream): Promise<[string, [number, number][]][]> {
    const out: [string, [number, number][]][] = [];
    for (;;) {
      while (set.next()) {
        const it = set.at().iterator();
        const samples: [number, number][] = [];
        while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
        out.push([set.at().labels().toString(), samples]);
      }
      if (set.err() !== null) throw set.err();
      if (set.done()) return out;
      await set.more();
    }
  }

  test('chunks of one replica with equal ranges from several stores give the same series in either order', async () => {
    // Two stores hold replica a's chunk of [0, 600 s]: equal range, different bytes (one sample
    // differs). Which one dedup prefers must not depend on the order the stores were merged in.
    const ts = Array.from({ length: 41 }, (_, i) => i * 15_000);
    const mk = (bump: number): AggrChunk => {
      const c = new XorChunk();
      const app = c.appender();
      for (const t of ts) app.append(t, t / 1000 + (t === 300_000 ? bump : 0));
      return { minTime: ts[0]!, maxTime: ts[ts.length - 1]!, raw: { type: 0, data: c.bytes(), hashHi: 0, hashLo: 0 } };
    };
    const [c1, c2] = [mk(0), mk(0.5)];
    const b = series({ __name__: 'up', replica: 'b' });
    const run = async (chunks: AggrChunk[]) => {
      const a: StoreSeries = { labels: Labels.fromRecord({ __name__: 'up', replica: 'a' }), chunks };
      const set = new StoreSeriesStream(source([[{ kind: 'batch', batch: [a, b] }]]), opts(true), new AbortController().signal);
      await set.started;
      return valuesOf(set);
    };
    const one = await run([c1, c2]);
    expect(one[0]![1]).toHaveLength(41);
    expect(await run([c2, c1])).toEqual(one);
  });

  test('the views come in the same order whatever the frames are and however the stream is read', async () => {
    const want = await valuesOf(new StoreSeriesStream(source(frames(all, 1)), opts(true), new AbortController().signal));
    for (const per of [2, 3, 7, 100]) {
      for (const maxBuffered of [1, 3, 1024]) {
        const set = new StoreSeriesStream(source(frames(all, per)), opts(true, maxBuffered), new AbortController().signal);
        await set.started;
        expect(await valuesOf(set)).toEqual(want);
      }
    }
  });
});
