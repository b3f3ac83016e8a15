import { XorChunk, type XorAppender } from '../chunkenc/index.js';
import type { FloatAggregator } from './float-aggregator.js';
import type { SampleBuffer } from './sample-buffer.js';
import { windowEnd } from './windows.js';

/** WindowSink receives the aggregator at the end of each window, stamped with the window's time. */
export interface WindowSink {
  window(t: number, a: FloatAggregator): void;
}

/**
 * aggregateWindows feeds the samples of buf (timestamps non-decreasing) through a, calling
 * sink.window at the end of every resolution window that has samples (Thanos's downsampleBatch). A
 * window is stamped with its last millisecond, but never later than the batch's last sample, so
 * that consecutive output chunks cannot overlap. Returns the last window's timestamp. buf must not
 * be empty; a is cleared first.
 */
export function aggregateWindows(buf: SampleBuffer, res: number, a: FloatAggregator, sink: WindowSink): number {
  const ts = buf.t;
  const vs = buf.v;
  const n = buf.n;
  const lastT = ts[n - 1]!;
  let nextT = -1;
  a.clear();
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (t > nextT) {
      if (nextT !== -1) sink.window(nextT, a);
      a.reset();
      const w = windowEnd(t, res);
      nextT = w < lastT ? w : lastT;
    }
    a.add(vs[i]!);
  }
  if (a.total > 0) sink.window(nextT, a);
  return nextT;
}

/** TimeRange tracks the first and last window timestamp written to an output chunk. */
export class TimeRange {
  minTime = Infinity;
  maxTime = -Infinity;

  add(t: number): void {
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
  }
}

/**
 * FiveAggregates writes every window of a raw batch to the five XOR sub-chunks of one aggregate
 * chunk (count, sum, min, max, counter).
 */
export class FiveAggregates implements WindowSink {
  readonly chunks = [new XorChunk(), new XorChunk(), new XorChunk(), new XorChunk(), new XorChunk()] as const;
  readonly count: XorAppender = this.chunks[0].appender();
  readonly sum: XorAppender = this.chunks[1].appender();
  readonly min: XorAppender = this.chunks[2].appender();
  readonly max: XorAppender = this.chunks[3].appender();
  readonly counter: XorAppender = this.chunks[4].appender();
  readonly range = new TimeRange();

  window(t: number, a: FloatAggregator): void {
    this.range.add(t);
    this.sum.append(t, a.sum);
    this.min.append(t, a.min);
    this.max.append(t, a.max);
    this.count.append(t, a.count);
    this.counter.append(t, a.counter);
  }
}

/** Which aggregator field a OneAggregate writes. */
export const Pick = { Sum: 0, Min: 1, Max: 2, Counter: 3 } as const;
export type Pick = (typeof Pick)[keyof typeof Pick];

/**
 * OneAggregate writes one aggregator field per window to one XOR chunk (re-aggregating one
 * aggregate of coarser input: counts and sums are summed, mins minimised, maxes maximised).
 */
export class OneAggregate implements WindowSink {
  readonly chunk = new XorChunk();
  readonly app: XorAppender = this.chunk.appender();
  readonly #pick: Pick;
  readonly #range: TimeRange;

  constructor(pick: Pick, range: TimeRange) {
    this.#pick = pick;
    this.#range = range;
  }

  window(t: number, a: FloatAggregator): void {
    this.#range.add(t);
    const p = this.#pick;
    this.app.append(t, p === Pick.Sum ? a.sum : p === Pick.Min ? a.min : p === Pick.Max ? a.max : a.counter);
  }
}
