import * as grpc from '@grpc/grpc-js';
import type {
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  RuleGroupProto,
  RulesRequest,
  RulesResponse,
  SeriesRequest,
  SeriesResponse,
} from '../storepb/index.js';
import { infoService, rulesService, storeService } from './grpc-services.js';
import type { StoreCallOptions, StoreClient } from './store-api.js';
import { GrpcCode, StoreError, abortReason, toStoreError } from './store-error.js';

/** Options of a GrpcStoreClient. */
export interface GrpcStoreClientOptions {
  /** credentials (default insecure); grpcClientCredentials builds them from Thanos's flags. */
  readonly credentials?: grpc.ChannelCredentials;
  /** serverName: with TLS, the name the server's certificate is checked for and sent as SNI. */
  readonly serverName?: string;
  /** maxRecvMsgSize in bytes (default math.MaxInt32, as Thanos). */
  readonly maxRecvMsgSize?: number;
  /** compression of requests: 'identity' (default, as Thanos queriers) or 'gzip'. */
  readonly compression?: 'identity' | 'gzip';
  /** maxBatchFrames caps the number of frames per yielded batch (default 1024). */
  readonly maxBatchFrames?: number;
  /** channelOptions are passed to grpc-js after the client's own (e.g. 'grpc.initial_reconnect_backoff_ms'). */
  readonly channelOptions?: grpc.ChannelOptions;
}

const MAX_INT32 = 2147483647;

/** FLOW_CONTROL_WINDOW is the HTTP/2 receive window of a client's connection and streams (4 MiB). */
const FLOW_CONTROL_WINDOW = 4 << 20;

function toError(err: unknown, action: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const code = typeof e.code === 'number' ? (e.code as number as GrpcCode) : GrpcCode.Unknown;
  return new StoreError(code, `${action}: ${e.details ?? (err as Error).message}`, { cause: err });
}

/**
 * GrpcStoreClient calls a StoreAPI server (Tessera or Thanos) over gRPC with grpc-js: keepalive
 * pings every 10 s (5 s timeout) and no 4 MiB receive limit, as Thanos clients do.
 *
 * Each client has its own connection (a local subchannel pool), so resetBackoff() can replace it
 * without touching other clients of the same address.
 */
export class GrpcStoreClient implements StoreClient {
  readonly name: string;
  #client: grpc.Client;
  readonly #maxBatch: number;
  readonly #address: string;
  readonly #opts: GrpcStoreClientOptions;
  #closed = false;

  constructor(address: string, opts: GrpcStoreClientOptions = {}) {
    this.name = address;
    this.#address = address;
    this.#opts = opts;
    this.#maxBatch = opts.maxBatchFrames ?? 1024;
    this.#client = this.#newClient();
  }

  #newClient(): grpc.Client {
    const opts = this.#opts;
    return new grpc.Client(this.#address, opts.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': opts.maxRecvMsgSize ?? MAX_INT32,
      'grpc.max_send_message_length': MAX_INT32,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.use_local_subchannel_pool': 1,
      // HTTP/2 receive window (per stream and per connection) instead of the 64 KiB default: a
      // store may then stream up to this much ahead of the querier's merge (gRPC-Go's BDP
      // estimator grows its window to 16 MiB), so it keeps producing while the querier evaluates.
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
      ...(opts.compression === 'gzip' ? { 'grpc.default_compression_algorithm': 2 } : {}),
      ...(opts.serverName !== undefined && opts.serverName !== '' ? { 'grpc.ssl_target_name_override': opts.serverName, 'grpc.default_authority': opts.serverName } : {}),
      ...opts.channelOptions,
    });
  }

  /** close closes the channel; running calls are cancelled. */
  close(): void {
    this.#closed = true;
    this.#client.close();
  }

  /** connectivityState is the channel's gRPC connectivity state (grpc.connectivityState). */
  connectivityState(): grpc.connectivityState {
    return this.#client.getChannel().getConnectivityState(false);
  }

  /**
   * resetBackoff makes the next call connect at once when the channel is waiting to reconnect.
   * After a failed connection attempt grpc-js waits an exponentially growing backoff (1 s × 1.6ⁿ,
   * up to 2 min) before the next one, and calls fail meanwhile; pick-first's resetBackoff is a
   * no-op in grpc-js, so the channel is replaced by a fresh one (its calls had failed anyway). A
   * READY or CONNECTING channel is left alone. Returns whether the channel was replaced.
   */
  resetBackoff(): boolean {
    if (this.#closed) return false;
    const state = this.connectivityState();
    if (state === grpc.connectivityState.READY || state === grpc.connectivityState.CONNECTING) return false;
    const old = this.#client;
    this.#client = this.#newClient();
    old.close();
    return true;
  }

  #callOptions(opts: StoreCallOptions | undefined): grpc.CallOptions {
    return opts?.timeoutMs !== undefined ? { deadline: Date.now() + opts.timeoutMs } : {};
  }

  #metadata(opts: StoreCallOptions | undefined): grpc.Metadata {
    const md = new grpc.Metadata();
    if (opts?.tenant !== undefined) md.set('thanos-tenant', opts.tenant);
    return md;
  }

  #unary<Req, Res>(def: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => Res }, req: Req, opts: StoreCallOptions | undefined, action: string): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const signal = opts?.signal;
      if (signal?.aborted) {
        reject(toStoreError(abortReason(signal), action));
        return;
      }
      const call = this.#client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, this.#metadata(opts), this.#callOptions(opts), (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(toStoreError(abortReason(signal), action));
        else if (err !== null || res === undefined) reject(toError(err, action));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  info(opts?: StoreCallOptions): Promise<InfoResponse> {
    return this.#unary(infoService.Info, {}, opts, `get info of ${this.name}`);
  }

  labelNames(req: LabelNamesRequest, opts?: StoreCallOptions): Promise<LabelNamesResponse> {
    return this.#unary(storeService.LabelNames, req, opts, `get label names from ${this.name}`);
  }

  labelValues(req: LabelValuesRequest, opts?: StoreCallOptions): Promise<LabelValuesResponse> {
    return this.#unary(storeService.LabelValues, req, opts, `get label values from ${this.name}`);
  }

  /** rules calls thanos.Rules/Rules and gathers the streamed groups and warnings. */
  rules(req: RulesRequest, opts?: StoreCallOptions): Promise<{ groups: RuleGroupProto[]; warnings: string[] }> {
    const action = `get rules from ${this.name}`;
    return new Promise((resolve, reject) => {
      const signal = opts?.signal;
      if (signal?.aborted) {
        reject(toStoreError(abortReason(signal), action));
        return;
      }
      const def = rulesService.Rules;
      const call = this.#client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, req, this.#metadata(opts), this.#callOptions(opts));
      const groups: RuleGroupProto[] = [];
      const warnings: string[] = [];
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (f: RulesResponse) => {
        if (f.group !== undefined) groups.push(f.group);
        else if (f.warning !== '') warnings.push(f.warning);
      });
      call.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted === true ? toStoreError(abortReason(signal), action) : toError(err, action));
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ groups, warnings });
      });
    });
  }

  series(req: SeriesRequest, opts?: StoreCallOptions): AsyncIterable<SeriesResponse[]> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const signal = opts?.signal;
        const action = `receive series from ${self.name}`;
        if (signal?.aborted) throw toStoreError(abortReason(signal), action);
        const def = storeService.Series;
        const call = self.#client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, req, self.#metadata(opts), self.#callOptions(opts));
        let ended = false;
        let failure: unknown;
        let wake: (() => void) | undefined;
        const poke = () => {
          wake?.();
          wake = undefined;
        };
        call.on('readable', poke);
        call.on('end', () => {
          ended = true;
          poke();
        });
        call.on('error', (err) => {
          failure = err;
          poke();
        });
        const onAbort = () => call.cancel();
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          for (;;) {
            const batch: SeriesResponse[] = [];
            let x: SeriesResponse | null;
            while (batch.length < self.#maxBatch && (x = call.read() as SeriesResponse | null) !== null) batch.push(x);
            if (batch.length > 0) {
              yield batch;
              continue;
            }
            if (failure !== undefined) {
              if (signal?.aborted) throw toStoreError(abortReason(signal), action);
              throw toError(failure, action);
            }
            if (ended) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          signal?.removeEventListener('abort', onAbort);
          if (!ended && failure === undefined) call.cancel();
          call.removeAllListeners('readable');
        }
      },
    };
  }
}
