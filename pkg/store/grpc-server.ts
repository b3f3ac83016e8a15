import * as grpc from '@grpc/grpc-js';
import { runInRequestScope } from '../errors/index.js';
import { Labels } from '../labels/index.js';
import { StoreType, type InfoResponse, type LegacyInfoResponse, type RulesRequest, type RulesResponse, type SeriesRequest, type SeriesResponse } from '../storepb/index.js';
import { healthService, infoService, rulesService, storeService } from './grpc-services.js';
import type { RulesServer } from './rules-proto.js';
import type { SeriesSink, StoreServer } from './store-api.js';
import { GrpcCode, StoreError, toStoreError } from './store-error.js';

/** Options of a StoreGrpcServer. */
export interface StoreGrpcServerOptions {
  /** maxRecvMsgSize in bytes (default math.MaxInt32, as Thanos). */
  readonly maxRecvMsgSize?: number;
  /** maxSendMsgSize in bytes (default math.MaxInt32, as Thanos). */
  readonly maxSendMsgSize?: number;
  /** credentials (default insecure). */
  readonly credentials?: grpc.ServerCredentials;
  /**
   * maxConnectionAgeMs closes each client connection gracefully (GOAWAY; calls in flight finish)
   * after this long so that clients reconnect and redo TLS handshakes (--grpc-server-max-connection-age;
   * default 0: no limit).
   */
  readonly maxConnectionAgeMs?: number;
  /**
   * onError receives what a call's handler could not turn into a gRPC status (e.g. the transport
   * threw while answering); the call is failed or dropped, the server goes on. Default: a line on
   * stderr.
   */
  readonly onError?: (err: unknown, action: string) => void;
  /**
   * rules adds Thanos's Rules API (thanos.Rules/Rules) on the same server, e.g.
   * snapshotRulesServer(() => manager.snapshot(), { externalLabels }). Info then advertises
   * `rules` so queriers see a rules endpoint.
   */
  readonly rules?: RulesServer;
}

function defaultOnError(err: unknown, action: string): void {
  process.stderr.write(`ts=${new Date().toISOString()} level=error msg="unexpected error in a gRPC call" action=${JSON.stringify(action)} err=${JSON.stringify(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
}

const MAX_INT32 = 2147483647;

function statusOf(err: unknown, action: string): Partial<grpc.StatusObject> {
  const e = toStoreError(err, action);
  return { code: e.grpcCode as number as grpc.status, details: e.message };
}

const componentStoreType: Record<string, StoreType> = {
  query: StoreType.QUERY,
  rule: StoreType.RULE,
  sidecar: StoreType.SIDECAR,
  store: StoreType.STORE,
  receive: StoreType.RECEIVE,
  debug: StoreType.DEBUG,
};

/** legacyInfo converts an Info answer to the pre-v0.37 Store.Info shape. */
export function legacyInfo(info: InfoResponse): LegacyInfoResponse {
  return {
    labels: info.labelSets[0] ?? Labels.EMPTY,
    minTime: info.store?.minTime ?? 0,
    maxTime: info.store?.maxTime ?? 0,
    storeType: componentStoreType[info.componentType] ?? StoreType.UNKNOWN,
    labelSets: info.labelSets,
  };
}

/**
 * StoreGrpcServer serves a StoreServer over gRPC (grpc-js) as thanos.Store, thanos.info.Info and
 * grpc.health.v1.Health, with Thanos's message size limits.
 *
 * Compression: grpc-js only implements identity, deflate and gzip and has no hook for custom
 * compressors, so a peer sending `grpc-encoding: snappy` gets UNIMPLEMENTED. Thanos queriers send
 * uncompressed by default (--grpc-compression=none). Keepalive pings every 10 s (Thanos clients)
 * are accepted: grpc-js servers do not enforce a minimum ping interval.
 */
export class StoreGrpcServer {
  readonly #server: grpc.Server;
  readonly #store: StoreServer;
  readonly #creds: grpc.ServerCredentials;
  readonly #onError: (err: unknown, action: string) => void;
  #port = 0;

  constructor(store: StoreServer, opts: StoreGrpcServerOptions = {}) {
    this.#store = store;
    this.#onError = opts.onError ?? defaultOnError;
    this.#creds = opts.credentials ?? grpc.ServerCredentials.createInsecure();
    this.#server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxRecvMsgSize ?? MAX_INT32,
      'grpc.max_send_message_length': opts.maxSendMsgSize ?? MAX_INT32,
      ...(opts.maxConnectionAgeMs !== undefined && opts.maxConnectionAgeMs > 0 ? { 'grpc.max_connection_age_ms': opts.maxConnectionAgeMs } : {}),
    });
    this.#server.addService(storeService, {
      Series: (call: grpc.ServerWritableStream<SeriesRequest, SeriesResponse>) => this.#series(call),
      LabelNames: this.#unary((req, signal) => this.#store.labelNames(req, signal), 'get label names'),
      LabelValues: this.#unary((req, signal) => this.#store.labelValues(req, signal), 'get label values'),
      Info: this.#unary(async (_req, signal) => legacyInfo(await this.#store.info(signal)), 'get info'),
    });
    // With a Rules API, Info advertises it (`rules`), so queriers ask this endpoint for rules.
    const withRules = opts.rules !== undefined;
    this.#server.addService(infoService, {
      Info: this.#unary(async (_req, signal) => {
        const info = await this.#store.info(signal);
        return withRules && info.rules !== true ? { ...info, rules: true } : info;
      }, 'get info'),
    });
    const rules = opts.rules;
    if (rules !== undefined) {
      this.#server.addService(rulesService, {
        Rules: (call: grpc.ServerWritableStream<Required<RulesRequest>, RulesResponse>) => this.#rules(rules, call),
      });
    }
    this.#server.addService(healthService, {
      Check: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<{ serving: boolean }>) => cb(null, { serving: true }),
    });
  }

  /** port is the bound port after listen(). */
  get port(): number {
    return this.#port;
  }

  /** listen binds address (host:port; port 0 picks a free one) and starts serving; returns the port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, this.#creds, (err, port) => {
        if (err !== null) {
          reject(new StoreError(GrpcCode.Unavailable, `bind gRPC server to ${address}: ${err.message}`, { cause: err }));
          return;
        }
        this.#port = port;
        resolve(port);
      });
    });
  }

  /** stop stops accepting calls and waits for running ones up to graceMs, then cancels them. */
  stop(graceMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #unary<Req, Res>(fn: (req: Req, signal: AbortSignal) => Promise<Res>, action: string) {
    return (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort(new StoreError(GrpcCode.Canceled, `${action}: call cancelled by client`)));
      let answered = false;
      const answer = (err: unknown, res?: Res): void => {
        if (answered) return;
        answered = true;
        if (err === undefined) cb(null, res);
        else cb(statusOf(err, action));
      };
      // Every failure ends at this call: a handler throwing synchronously, rejecting, or the
      // answer failing to go out never reaches the process; an error that escapes anyway (a
      // callback the handler started) fails this call through its RequestScope.
      const scope = {
        what: `gRPC ${action}`,
        fail: (err: unknown) => {
          ac.abort(err);
          answer(err);
        },
      };
      runInRequestScope(scope, () =>
        Promise.resolve()
          .then(() => fn(call.request, ac.signal))
          .then(
            (res) => answer(undefined, res),
            (err: unknown) => answer(err ?? new Error('rejected without a reason')),
          )
          .catch((err: unknown) => this.#onError(err, action)),
      );
    };
  }

  #rules(rules: RulesServer, call: grpc.ServerWritableStream<Required<RulesRequest>, RulesResponse>): void {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort(new StoreError(GrpcCode.Canceled, 'rules: call cancelled by client or deadline')));
    let finished = false;
    const fail = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if (!ac.signal.aborted) call.emit('error', statusOf(err, 'rules'));
      ac.abort(err);
    };
    runInRequestScope({ what: 'gRPC rules', fail }, () =>
      Promise.resolve()
        .then(() => rules.rules(call.request, ac.signal))
        .then(
          (frames) => {
            if (finished || ac.signal.aborted) return;
            finished = true;
            for (const f of frames) call.write(f);
            call.end();
          },
          (err: unknown) => fail(err ?? new Error('rejected without a reason')),
        )
        .catch((err: unknown) => this.#onError(err, 'rules')),
    );
  }

  #series(call: grpc.ServerWritableStream<SeriesRequest, SeriesResponse>): void {
    const ac = new AbortController();
    let waiting: { resolve: () => void; reject: (e: Error) => void } | undefined;
    call.on('cancelled', () => {
      const err = new StoreError(GrpcCode.Canceled, 'series: call cancelled by client or deadline');
      ac.abort(err);
      waiting?.reject(err);
      waiting = undefined;
    });
    call.on('drain', () => {
      waiting?.resolve();
      waiting = undefined;
    });
    const sink: SeriesSink = {
      send(resp) {
        if (ac.signal.aborted) throw ac.signal.reason as Error;
        if (call.write(resp)) return undefined;
        return new Promise<void>((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
    };
    let finished = false;
    const fail = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if (!ac.signal.aborted) call.emit('error', statusOf(err, 'series'));
      ac.abort(err);
    };
    runInRequestScope({ what: 'gRPC series', fail }, () =>
      Promise.resolve()
        .then(() => this.#store.series(call.request, sink, ac.signal))
        .then(
          () => {
            if (finished) return;
            finished = true;
            call.end();
          },
          (err: unknown) => fail(err ?? new Error('rejected without a reason')),
        )
        .catch((err: unknown) => this.#onError(err, 'series')),
    );
  }
}
