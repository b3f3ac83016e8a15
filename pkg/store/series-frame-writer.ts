import type { StoreSeries } from '../storepb/index.js';
import type { SeriesSink } from './store-api.js';

/**
 * SeriesFrameWriter sends series to a sink one per frame, or packed into `batch` frames of up to
 * batchSize series when batchSize > 1 (SeriesRequest.response_batch_size). Pending series are
 * flushed before any warning or hints frame and by flush() at the end, so frame order is kept.
 */
export class SeriesFrameWriter {
  readonly #sink: SeriesSink;
  readonly #batchSize: number;
  #pending: StoreSeries[] = [];

  constructor(sink: SeriesSink, batchSize: number) {
    this.#sink = sink;
    this.#batchSize = batchSize > 1 ? Math.min(batchSize, 1 << 20) : 1;
  }

  /** series queues or sends s; returns the sink's back-pressure promise, if any. */
  series(s: StoreSeries): Promise<void> | undefined {
    if (this.#batchSize === 1) return this.#sink.send({ kind: 'series', series: s });
    this.#pending.push(s);
    if (this.#pending.length >= this.#batchSize) return this.#sendBatch();
    return undefined;
  }

  #sendBatch(): Promise<void> | undefined {
    const batch = this.#pending;
    this.#pending = [];
    return this.#sink.send({ kind: 'batch', batch });
  }

  /** warning flushes pending series and sends a warning frame. */
  async warning(w: string): Promise<void> {
    await this.flush();
    await this.#sink.send({ kind: 'warning', warning: w });
  }

  /** flush sends the pending batch, if any. */
  async flush(): Promise<void> {
    if (this.#pending.length > 0) await this.#sendBatch();
  }
}
