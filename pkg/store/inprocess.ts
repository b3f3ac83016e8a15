import type {
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  SeriesRequest,
  SeriesResponse,
} from '../storepb/index.js';
import type { SeriesSink, StoreCallOptions, StoreClient, StoreServer } from './store-api.js';
import { GrpcCode, StoreError, abortReason, toStoreError } from './store-error.js';

/** Options of inProcessClient. */
export interface InProcessOptions {
  /** maxBufferedFrames is how many frames the server may run ahead of the consumer (default 256). */
  readonly maxBufferedFrames?: number;
}

function callSignal(opts: StoreCallOptions | undefined): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const parts: AbortSignal[] = [ac.signal];
  if (opts?.signal !== undefined) parts.push(opts.signal);
  if (opts?.timeoutMs !== undefined) parts.push(AbortSignal.timeout(opts.timeoutMs));
  const signal = parts.length === 1 ? ac.signal : AbortSignal.any(parts);
  return { signal, done: () => ac.abort(new StoreError(GrpcCode.Canceled, 'call finished')) };
}

/**
 * inProcessClient exposes a StoreServer as a StoreClient without gRPC or serialization (like
 * Thanos's inprocess.go): frames are passed by reference, the server runs ahead of the consumer by
 * at most maxBufferedFrames, and breaking out of the iteration aborts the server's signal.
 */
export function inProcessClient(server: StoreServer, name: string, options: InProcessOptions = {}): StoreClient {
  const maxBuffered = options.maxBufferedFrames ?? 256;
  return {
    name,
    info(opts?: StoreCallOptions): Promise<InfoResponse> {
      return server.info(opts?.signal);
    },
    async labelNames(req: LabelNamesRequest, opts?: StoreCallOptions): Promise<LabelNamesResponse> {
      const c = callSignal(opts);
      try {
        return await server.labelNames(req, c.signal);
      } catch (err) {
        throw toStoreError(err, `get label names from ${name}`);
      } finally {
        c.done();
      }
    },
    async labelValues(req: LabelValuesRequest, opts?: StoreCallOptions): Promise<LabelValuesResponse> {
      const c = callSignal(opts);
      try {
        return await server.labelValues(req, c.signal);
      } catch (err) {
        throw toStoreError(err, `get label values from ${name}`);
      } finally {
        c.done();
      }
    },
    series(req: SeriesRequest, opts?: StoreCallOptions): AsyncIterable<SeriesResponse[]> {
      return {
        async *[Symbol.asyncIterator]() {
          const c = callSignal(opts);
          let queue: SeriesResponse[] = [];
          let finished = false;
          let failure: unknown;
          let wakeConsumer: (() => void) | undefined;
          let wakeProducer: (() => void) | undefined;
          let rejectProducer: ((err: Error) => void) | undefined;
          const wake = () => {
            wakeConsumer?.();
            wakeConsumer = undefined;
          };
          // One listener per call (not per wait) so long streams do not pile up listeners.
          c.signal.addEventListener(
            'abort',
            () => {
              wake();
              rejectProducer?.(abortReason(c.signal));
            },
            { once: true },
          );
          const sink: SeriesSink = {
            send(resp) {
              if (c.signal.aborted) throw abortReason(c.signal);
              queue.push(resp);
              wake();
              if (queue.length < maxBuffered) return undefined;
              return new Promise<void>((resolve, reject) => {
                wakeProducer = resolve;
                rejectProducer = reject;
              });
            },
          };
          server.series(req, sink, c.signal).then(
            () => {
              finished = true;
              wake();
            },
            (err: unknown) => {
              failure = err;
              finished = true;
              wake();
            },
          );
          try {
            for (;;) {
              if (queue.length > 0) {
                const batch = queue;
                queue = [];
                wakeProducer?.();
                wakeProducer = undefined;
                rejectProducer = undefined;
                yield batch;
                continue;
              }
              if (finished) break;
              if (c.signal.aborted) throw abortReason(c.signal);
              await new Promise<void>((resolve) => {
                wakeConsumer = resolve;
              });
            }
            if (failure !== undefined) throw toStoreError(failure, `receive series from ${name}`);
          } catch (err) {
            throw toStoreError(err, `receive series from ${name}`);
          } finally {
            c.done();
          }
        },
      };
    },
  };
}
