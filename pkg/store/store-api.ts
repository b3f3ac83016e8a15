import type {
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  SeriesRequest,
  SeriesResponse,
} from '../storepb/index.js';

/**
 * SeriesSink receives the frames of one Series call, in order.
 *
 * send returns undefined when the transport can take more right away, or a promise that resolves
 * once it can (gRPC back-pressure); producers await it before sending more. A promise per frame is
 * avoided on purpose. Frames must not be modified after send. send throws (or the promise rejects)
 * when the call is gone (cancelled, deadline exceeded); producers then stop.
 */
export interface SeriesSink {
  send(resp: SeriesResponse): Promise<void> | undefined;
}

/**
 * StoreServer is the server side of the Thanos StoreAPI (thanos.Store) and Info (thanos.info.Info).
 *
 * Contracts, as a Thanos querier relies on them:
 * - series() sends series sorted by their final label set (Labels.compare, with external labels
 *   added and `withoutReplicaLabels` removed); a series may span consecutive frames but never
 *   reappears once another series was sent. Every series carries the external labels. Chunks
 *   overlapping [minTime, maxTime] are sent as stored (never re-encoded), sorted by minTime.
 *   Warnings are `warning` frames. It resolves when all frames were handed to the sink and rejects
 *   with a StoreError (mapped to a gRPC status) on failure. `signal` aborts the work (client gone,
 *   deadline).
 * - labelNames()/labelValues() return sorted, unique strings, including external labels.
 */
export interface StoreServer {
  info(signal?: AbortSignal): Promise<InfoResponse>;
  series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void>;
  labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse>;
  labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse>;
}

/** Options of one client call. */
export interface StoreCallOptions {
  /** signal cancels the call (the server sees a gRPC cancellation). */
  readonly signal?: AbortSignal;
  /** timeoutMs sets a gRPC deadline for the call. */
  readonly timeoutMs?: number;
  /** tenant is forwarded as the `thanos-tenant` metadata. */
  readonly tenant?: string;
}

/**
 * StoreClient calls a StoreAPI server (over gRPC or in process).
 *
 * series() returns the response frames in batches as they arrive: each batch holds the frames that
 * were available at once (at least one), in stream order. Iteration ends with the stream; a failed
 * call throws a StoreError carrying the gRPC code. Breaking out of the loop cancels the call. Frames
 * of kind 'unknown' (oneof cases added upstream later) are passed on; consumers ignore them.
 */
export interface StoreClient {
  /** name identifies the store in warnings and errors (usually its address). */
  readonly name: string;
  info(opts?: StoreCallOptions): Promise<InfoResponse>;
  series(req: SeriesRequest, opts?: StoreCallOptions): AsyncIterable<SeriesResponse[]>;
  labelNames(req: LabelNamesRequest, opts?: StoreCallOptions): Promise<LabelNamesResponse>;
  labelValues(req: LabelValuesRequest, opts?: StoreCallOptions): Promise<LabelValuesResponse>;
}
