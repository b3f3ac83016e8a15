import type { QueryOptions } from '../api/index.js';
import type { GrpcClientTlsOptions } from '../store/index.js';
import type { PackedQueryResult } from './query-result-transfer.js';
import type { WireError } from './wire-error.js';

/**
 * QueryWorkerData is what a query worker thread is started with (workerData): the engine's limits
 * and the querier's per-request defaults, the same for every worker.
 */
export interface QueryWorkerData {
  readonly engine: {
    readonly timeoutMs: number;
    readonly maxSamples: number;
    readonly maxMemoryBytes: number;
    readonly lookbackDeltaMs: number;
    readonly noStepSubqueryIntervalMs: number;
  };
  readonly replicaLabels: readonly string[];
  readonly partialResponse: boolean;
  readonly autoDownsampling: boolean;
  readonly instantDefaultMaxSourceResolutionMs?: number;
  /**
   * storeResponseTimeoutMs is --store.response-timeout, as on the main thread: the ProxyStore's
   * response timeout and the deadline of each store call; 0 or absent = none.
   */
  readonly storeResponseTimeoutMs?: number;
  /** grpcClientTls: the --grpc-client-tls-* flags; the worker reads the files itself. */
  readonly grpcClientTls?: GrpcClientTlsOptions;
  /** idleClientMs: a connection no query used for this long is closed (default 1 min). */
  readonly idleClientMs?: number;
  /** testHooks lets a test crash the worker ({ type: 'crash' }: an uncaught error, or running out of heap). */
  readonly testHooks?: boolean;
}

/**
 * TargetDescriptor is a healthy StoreAPI endpoint as the main thread sees it when a query starts:
 * what ProxyStore's store selection needs. `epoch` grows each time the endpoint turns healthy, so
 * a worker resets its own connection's reconnect backoff when the main thread saw it come back.
 */
export interface TargetDescriptor {
  readonly address: string;
  /** labelSets as sorted flat name/value arrays. */
  readonly labelSets: readonly (readonly string[])[];
  readonly minTime: number;
  readonly maxTime: number;
  readonly supportsWithoutReplicaLabels: boolean;
  readonly epoch: number;
}

/** WireQueryOptions are QueryOptions without the signal and storeMatch[] (applied on the main thread). */
export type WireQueryOptions = Omit<QueryOptions, 'signal' | 'storeMatchers'>;

/** QueryRequestMessage asks a worker to evaluate one query. */
export type QueryRequestMessage = {
  readonly type: 'query';
  readonly id: number;
  readonly expr: string;
  readonly opts: WireQueryOptions;
  /** queuedSec is the wait for --query.max-concurrent on the main thread (stats' execQueueTime). */
  readonly queuedSec: number;
  readonly targets: readonly TargetDescriptor[];
} & ({ readonly kind: 'instant'; readonly time: number } | { readonly kind: 'range'; readonly start: number; readonly end: number; readonly step: number });

/** ToWorkerMessage is what the main thread posts to a query worker. */
export type ToWorkerMessage = QueryRequestMessage | { readonly type: 'cancel'; readonly id: number; readonly reason: WireError } | { readonly type: 'crash'; readonly how: 'throw' | 'oom' }
  | { readonly type: 'block'; readonly flag: Int32Array }
  | { readonly type: 'clients' };

/** FromWorkerMessage is what a query worker posts back. */
export type FromWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: WireError }
  | { readonly type: 'result'; readonly id: number; readonly result: PackedQueryResult }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | { readonly type: 'clients'; readonly addresses: readonly string[] };
