import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Bucket, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';

/** BucketMetrics are the prom-client metrics of {@link InstrumentedBucket}, shareable by several buckets. */
export interface BucketMetrics {
  readonly ops: Counter<'bucket' | 'operation'>;
  readonly failures: Counter<'bucket' | 'operation'>;
  readonly duration: Histogram<'bucket' | 'operation'>;
  readonly fetchedBytes: Counter<'bucket' | 'operation'>;
  readonly lastUpload: Gauge<'bucket'>;
}

const OPS = ['iter', 'get', 'get_range', 'exists', 'attributes', 'upload', 'delete'] as const;

/**
 * newBucketMetrics registers the Thanos objstore metrics (`thanos_objstore_bucket_operations_total`,
 * `..._operation_failures_total`, `..._operation_duration_seconds`, `..._operation_fetched_bytes_total`,
 * `..._last_successful_upload_time`) in registry. Call it once per registry.
 */
export function newBucketMetrics(registry: Registry, prefix = 'thanos_'): BucketMetrics {
  const labelNames = ['bucket', 'operation'] as const;
  return {
    ops: new Counter({ name: `${prefix}objstore_bucket_operations_total`, help: 'Total number of all attempted operations against a bucket.', labelNames, registers: [registry] }),
    failures: new Counter({
      name: `${prefix}objstore_bucket_operation_failures_total`,
      help: 'Total number of operations against a bucket that failed, but were not expected to fail in certain way from caller perspective. Those errors have to be investigated.',
      labelNames,
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${prefix}objstore_bucket_operation_duration_seconds`,
      help: 'Duration of successful operations against the remote bucket',
      labelNames,
      buckets: [0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120],
      registers: [registry],
    }),
    fetchedBytes: new Counter({ name: `${prefix}objstore_bucket_operation_fetched_bytes_total`, help: 'Total number of bytes fetched from bucket, per operation.', labelNames, registers: [registry] }),
    lastUpload: new Gauge({ name: `${prefix}objstore_bucket_last_successful_upload_time`, help: 'Second timestamp of the last successful upload to the bucket.', labelNames: ['bucket'], registers: [registry] }),
  };
}

/**
 * InstrumentedBucket wraps a bucket and counts every operation, its failures and its duration.
 * A not-found error from `get`, `get_range`, `attributes` (an expected outcome for callers probing
 * optional objects; Thanos callers opt into this with `ReaderWithExpectedErrs`) and an abort are
 * not counted as failures. Every label
 * combination is initialised at construction so series exist from the start.
 */
export class InstrumentedBucket implements Bucket {
  readonly #inner: Bucket;
  readonly #m: BucketMetrics;
  readonly #label: string;

  constructor(inner: Bucket, metrics: BucketMetrics, bucketLabel = inner.name()) {
    this.#inner = inner;
    this.#m = metrics;
    this.#label = bucketLabel;
    for (const op of OPS) {
      metrics.ops.labels(bucketLabel, op).inc(0);
      metrics.failures.labels(bucketLabel, op).inc(0);
    }
    metrics.lastUpload.labels(bucketLabel).set(0);
  }

  async *iter(dir: string, opts: IterOptions = {}): AsyncIterable<string> {
    const end = this.#start('iter');
    let failed = false;
    try {
      yield* this.#inner.iter(dir, opts);
    } catch (err) {
      failed = true;
      this.#fail('iter', err, opts.signal);
      throw err;
    } finally {
      // Also observed when the consumer stops early.
      if (!failed) end();
    }
  }

  get(name: string, opts?: ReadOptions): Promise<Uint8Array> {
    return this.#read('get', opts, () => this.#inner.get(name, opts));
  }

  getRange(name: string, off: number, length: number, opts?: ReadOptions): Promise<Uint8Array> {
    return this.#read('get_range', opts, () => this.#inner.getRange(name, off, length, opts));
  }

  exists(name: string, opts?: ReadOptions): Promise<boolean> {
    return this.#op('exists', opts, () => this.#inner.exists(name, opts));
  }

  attributes(name: string, opts?: ReadOptions): Promise<ObjectAttributes> {
    return this.#op('attributes', opts, () => this.#inner.attributes(name, opts));
  }

  async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void> {
    await this.#op('upload', opts, () => this.#inner.upload(name, data, opts));
    this.#m.lastUpload.labels(this.#label).set(Date.now() / 1000);
  }

  delete(name: string, opts?: ReadOptions): Promise<void> {
    return this.#op('delete', opts, () => this.#inner.delete(name, opts));
  }

  isObjNotFoundErr(err: unknown): boolean {
    return this.#inner.isObjNotFoundErr(err);
  }

  isAccessDeniedErr(err: unknown): boolean {
    return this.#inner.isAccessDeniedErr(err);
  }

  name(): string {
    return this.#inner.name();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #read(op: string, opts: ReadOptions | undefined, fn: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const data = await this.#op(op, opts, fn);
    this.#m.fetchedBytes.labels(this.#label, op).inc(data.length);
    return data;
  }

  async #op<T>(op: string, opts: ReadOptions | undefined, fn: () => Promise<T>): Promise<T> {
    const end = this.#start(op);
    try {
      const v = await fn();
      end();
      return v;
    } catch (err) {
      this.#fail(op, err, opts?.signal);
      throw err;
    }
  }

  #start(op: string): () => void {
    this.#m.ops.labels(this.#label, op).inc();
    return this.#m.duration.labels(this.#label, op).startTimer();
  }

  #fail(op: string, err: unknown, signal: AbortSignal | undefined): void {
    if (signal?.aborted === true) return;
    if ((op === 'get' || op === 'get_range' || op === 'attributes') && this.#inner.isObjNotFoundErr(err)) return;
    this.#m.failures.labels(this.#label, op).inc();
  }
}
