import { GrpcCode, StoreError } from '../store-error.js';

/** QueryLimits bound the work of one Series/label request of a BucketStore (0 = unlimited). */
export interface QueryLimits {
  /** maxTouchedSeries bounds the series selected by postings (--store.grpc.touched-series-limit). */
  readonly maxTouchedSeries?: number;
  /** maxSamples bounds the samples of the returned chunks (--store.grpc.series-sample-limit). */
  readonly maxSamples?: number;
  /** maxDownloadedBytes bounds the bytes read from the bucket (--store.grpc.downloaded-bytes-limit). */
  readonly maxDownloadedBytes?: number;
}

/**
 * QueryBudget counts what one request reads and touches, and throws a ResourceExhausted
 * StoreError as soon as a limit would be exceeded. Bytes are reserved before a read is issued,
 * so the memory a request holds for fetched data stays under maxDownloadedBytes.
 */
export class QueryBudget {
  readonly #l: QueryLimits;
  fetchedBytes = 0;
  fetchRequests = 0;
  touchedSeries = 0;
  samples = 0;
  postingsBytes = 0;
  seriesBytes = 0;
  chunksBytes = 0;
  cachedPostings = 0;
  cachedSeries = 0;
  /** requests counts ranged reads by kind. */
  readonly requests = { postings: 0, series: 0, chunks: 0, header: 0 };

  constructor(limits: QueryLimits = {}) {
    this.#l = limits;
  }

  /** reserve accounts for a read of n bytes of the given kind before it is made. */
  reserve(n: number, kind: 'postings' | 'series' | 'chunks' | 'header'): void {
    const max = this.#l.maxDownloadedBytes;
    if (max && this.fetchedBytes + n > max) {
      throw new StoreError(GrpcCode.ResourceExhausted, `exceeded bytes limit: limit ${max} downloaded bytes per request (would reach ${this.fetchedBytes + n} reading ${kind})`);
    }
    this.fetchedBytes += n;
    this.fetchRequests++;
    this.requests[kind]++;
    if (kind === 'postings') this.postingsBytes += n;
    else if (kind === 'series') this.seriesBytes += n;
    else if (kind === 'chunks') this.chunksBytes += n;
  }

  /** refund returns n reserved bytes that a read did not deliver (it was cut at the object's end). */
  refund(n: number, kind: 'postings' | 'series' | 'chunks' | 'header'): void {
    if (n <= 0) return;
    this.fetchedBytes -= n;
    if (kind === 'postings') this.postingsBytes -= n;
    else if (kind === 'series') this.seriesBytes -= n;
    else if (kind === 'chunks') this.chunksBytes -= n;
  }

  /** touch accounts for n series selected by postings. */
  touch(n: number): void {
    this.touchedSeries += n;
    const max = this.#l.maxTouchedSeries;
    if (max && this.touchedSeries > max) {
      throw new StoreError(GrpcCode.ResourceExhausted, `exceeded series limit: limit ${max} touched series per request (at ${this.touchedSeries})`);
    }
  }

  /** addSamples accounts for n returned samples. */
  addSamples(n: number): void {
    this.samples += n;
    const max = this.#l.maxSamples;
    if (max && this.samples > max) {
      throw new StoreError(GrpcCode.ResourceExhausted, `exceeded samples limit: limit ${max} samples per request (at ${this.samples})`);
    }
  }
}
