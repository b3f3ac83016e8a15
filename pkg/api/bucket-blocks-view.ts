import type { Registry } from 'prom-client';
import { BlockMarksFilter, MetaFetcher, nopLogger, type BlockMarks, type Logger, type MetaFilter } from '../block/index.js';
import type { BucketReader } from '../objstore/index.js';
import { BlocksInfo, type BlockMarksJson } from './blocks-api.js';

/** BucketBlocksViewOptions configure a BucketBlocksView. */
export interface BucketBlocksViewOptions {
  readonly bucket: BucketReader;
  /** label titles block groups in the UI (--label, --bucket-web-label). */
  readonly label?: string;
  /** filters select the blocks shown (time range, relabel); marks are read after them. */
  readonly filters?: readonly MetaFilter[];
  /** intervalMs between refreshes (--refresh, --block-viewer.global.sync-block-interval). */
  readonly intervalMs: number;
  /** timeoutMs bounds one refresh (--timeout, --block-viewer.global.sync-block-timeout). */
  readonly timeoutMs: number;
  /** concurrency of meta.json and marker reads. */
  readonly concurrency?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** marksJson converts block marks to their JSON objects for BlocksInfo. */
export function marksJson(marks: ReadonlyMap<string, BlockMarks>): Map<string, BlockMarksJson> {
  const out = new Map<string, BlockMarksJson>();
  for (const [id, m] of marks) {
    out.set(id, {
      ...(m.deletion !== undefined ? { deletion: { ...m.deletion } } : {}),
      ...(m.noCompact !== undefined ? { noCompact: { ...m.noCompact } } : {}),
    });
  }
  return out;
}

/**
 * BucketBlocksView keeps a BlocksInfo of a bucket up to date: every interval it lists the bucket
 * (MetaFetcher: meta.json read once per block), applies the filters and reads the blocks' marks.
 * A failed or timed-out refresh is logged and recorded as the view's error; the blocks of the
 * last good refresh stay.
 */
export class BucketBlocksView {
  readonly info: BlocksInfo;
  readonly #o: BucketBlocksViewOptions;
  readonly #fetcher: MetaFetcher;
  readonly #marks: BlockMarksFilter;
  readonly #ac = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(o: BucketBlocksViewOptions) {
    this.#o = o;
    this.info = new BlocksInfo(o.label ?? '');
    this.#marks = new BlockMarksFilter(o.bucket, o.concurrency ?? 20);
    this.#fetcher = new MetaFetcher({
      bucket: o.bucket,
      filters: [...(o.filters ?? []), this.#marks],
      concurrency: o.concurrency ?? 32,
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.logger !== undefined ? { logger: o.logger } : {}),
    });
  }

  /** refresh runs one refresh now (joining one in flight); never rejects. */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const signal = AbortSignal.any([this.#ac.signal, AbortSignal.timeout(this.#o.timeoutMs)]);
    try {
      const res = await this.#fetcher.fetch(signal);
      this.info.set(res.metas.values(), marksJson(this.#marks.marks()));
    } catch (err) {
      if (this.#ac.signal.aborted) return;
      (this.#o.logger ?? nopLogger).warn('refresh blocks of the bucket', { err });
      this.info.setError(signal.aborted ? new Error(`refresh blocks of the bucket: timed out after ${this.#o.timeoutMs} ms`) : err);
    }
  }

  /** start runs the first refresh, then one every interval. */
  async start(): Promise<void> {
    await this.refresh();
    const tick = (): void => {
      if (this.#ac.signal.aborted) return;
      this.#timer = setTimeout(() => {
        void this.refresh().then(tick);
      }, this.#o.intervalMs);
    };
    tick();
  }

  /** stop ends the refresh loop (aborting a refresh in flight). */
  async stop(): Promise<void> {
    this.#ac.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }
}
