import { GrpcCode, StoreError } from '../store-error.js';

/** DEFAULT_MAX_IN_FLIGHT_BYTES is the default per-request memory budget for fetched data (512 MiB). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 512 * 1024 * 1024;

/** QueryLimits bound the work of one Series/label request of a BucketStore (0 = unlimited). */
export interface QueryLimits {
  /** maxTouchedSeries bounds the series selected by postings (--store.grpc.touched-series-limit). */
  readonly maxTouchedSeries?: number;
  /** maxSamples bounds the samples of the returned chunks (--store.grpc.series-sample-limit). */
  readonly maxSamples?: number;
  /** maxDownloadedBytes bounds the bytes read from the bucket over the whole request (--store.grpc.downloaded-bytes-limit). */
  readonly maxDownloadedBytes?: number;
  /**
   * maxInFlightBytes bounds the fetched bytes (expanded postings, series entries, chunk data) one
   * request holds in memory at once (--store.grpc.series-memory-limit). Undefined means
   * DEFAULT_MAX_IN_FLIGHT_BYTES (512 MiB); 0 means unlimited.
   */
  readonly maxInFlightBytes?: number;
}

/** FetchKind names what a ranged read is for. */
export type FetchKind = 'postings' | 'series' | 'chunks' | 'header';

/**
 * QueryBudget counts what one request reads, holds and touches, and throws a ResourceExhausted
 * StoreError as soon as a limit would be exceeded.
 *
 * Two byte limits: `reserve` counts every read against maxDownloadedBytes (a total over the
 * request), `hold`/`release` track the fetched bytes the request keeps in memory right now against
 * maxInFlightBytes. Both are checked before the read is issued, so a request fails cleanly instead
 * of growing the heap.
 */
export class QueryBudget {
  readonly #l: QueryLimits;
  readonly #maxInFlight: number;
  fetchedBytes = 0;
  fetchRequests = 0;
  touchedSeries = 0;
  samples = 0;
  postingsBytes = 0;
  seriesBytes = 0;
  chunksBytes = 0;
  cachedPostings = 0;
  cachedSeries = 0;
  /** inFlightBytes is what the request holds now; peakInFlightBytes the most it held at once. */
  inFlightBytes = 0;
  peakInFlightBytes = 0;
  /** requests counts ranged reads by kind. */
  readonly requests = { postings: 0, series: 0, chunks: 0, header: 0 };

  constructor(limits: QueryLimits = {}) {
    this.#l = limits;
    this.#maxInFlight = limits.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  }

  /** maxInFlightBytes is the in-flight limit in force (0 = unlimited). */
  get maxInFlightBytes(): number {
    return this.#maxInFlight;
  }

  /** reserve accounts for a read of n bytes of the given kind before it is made. */
  reserve(n: number, kind: FetchKind): void {
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
  refund(n: number, kind: FetchKind): void {
    if (n <= 0) return;
    this.fetchedBytes -= n;
    if (kind === 'postings') this.postingsBytes -= n;
    else if (kind === 'series') this.seriesBytes -= n;
    else if (kind === 'chunks') this.chunksBytes -= n;
  }

  /**
   * hold accounts for n bytes the request is about to keep in memory (what: the data, for the
   * error message). Throws ResourceExhausted when that would exceed maxInFlightBytes.
   */
  hold(n: number, what: string): void {
    const max = this.#maxInFlight;
    if (max > 0 && this.inFlightBytes + n > max) {
      throw new StoreError(
        GrpcCode.ResourceExhausted,
        `exceeded memory limit: limit ${max} bytes of fetched data in memory per request (holding ${this.inFlightBytes}, ${n} more needed for ${what}); narrow the query or raise --store.grpc.series-memory-limit`,
      );
    }
    this.inFlightBytes += n;
    if (this.inFlightBytes > this.peakInFlightBytes) this.peakInFlightBytes = this.inFlightBytes;
  }

  /** release returns n held bytes. */
  release(n: number): void {
    this.inFlightBytes -= n;
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
