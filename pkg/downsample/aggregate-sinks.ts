import { XorChunk, type XorAppender } from '../chunkenc/index.js';
import type { WindowSink } from './aggregate-windows.js';
import type { FloatAggregator } from './float-aggregator.js';
import { TimeRange } from './time-range.js';

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
