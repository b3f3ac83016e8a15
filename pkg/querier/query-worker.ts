import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { connectivityState } from '@grpc/grpc-js';
import type { QueryOptions, QueryResult } from '../api/index.js';
import { Labels } from '../labels/index.js';
import { Engine } from '../promql/index.js';
import { GrpcStoreClient, ProxyStore, grpcClientCredentials, inProcessClient, type GrpcClientTls, type ProxyTarget } from '../store/index.js';
import { QueryApiAdapter } from './query-api-adapter.js';
import type { FromWorkerMessage, QueryRequestMessage, QueryWorkerData, TargetDescriptor, ToWorkerMessage } from './query-worker-messages.js';
import { packQueryResult } from './query-result-transfer.js';
import { fromWireError, toWireError } from './wire-error.js';

/** A connection idle (no query used it) for this long is closed (default; QueryWorkerData.idleClientMs). */
const defaultIdleClientMs = 60_000;

interface CachedClient {
  readonly client: GrpcStoreClient;
  epoch: number;
  refs: number;
  lastUsed: number;
}

/**
 * runQueryWorker is the body of a query worker thread: it evaluates the queries the main thread
 * posts (see WorkerQueryEngine) with its own Engine, over its own gRPC connections to the
 * endpoints each query names, and posts back packed results or described errors.
 */
export async function runQueryWorker(port: MessagePort, data: QueryWorkerData): Promise<void> {
  const post = (m: FromWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let tls: GrpcClientTls | undefined;
  try {
    tls = data.grpcClientTls !== undefined ? await grpcClientCredentials(data.grpcClientTls) : undefined;
  } catch (err) {
    post({ type: 'init-error', error: toWireError(err) });
    return;
  }
  const engine = new Engine(data.engine);
  const clients = new Map<string, CachedClient>();
  const inflight = new Map<number, AbortController>();

  const acquire = (d: TargetDescriptor, now: number): CachedClient => {
    let c = clients.get(d.address);
    if (c === undefined) {
      c = { client: new GrpcStoreClient(d.address, tls !== undefined ? { credentials: tls.credentials, serverName: tls.serverName } : {}), epoch: d.epoch, refs: 0, lastUsed: now };
      clients.set(d.address, c);
    } else if (c.epoch !== d.epoch || c.client.connectivityState() === connectivityState.TRANSIENT_FAILURE) {
      // The main thread saw the endpoint come back (e.g. restarted), or vouches for it (its last
      // check passed) while this connection waits out a reconnect backoff from a failure (e.g. a
      // restart between two checks, which the main thread's own connection may not have seen):
      // connect at once, not after the backoff (up to 2 min).
      c.client.resetBackoff();
      c.epoch = d.epoch;
    }
    c.refs++;
    c.lastUsed = now;
    return c;
  };

  const idleClientMs = data.idleClientMs ?? defaultIdleClientMs;
  const closeIdle = (now: number): void => {
    for (const [addr, c] of clients) {
      if (c.refs === 0 && now - c.lastUsed > idleClientMs) {
        c.client.close();
        clients.delete(addr);
      }
    }
  };

  const evaluate = async (m: QueryRequestMessage): Promise<void> => {
    const ac = new AbortController();
    inflight.set(m.id, ac);
    const now = Date.now();
    closeIdle(now);
    const used = m.targets.map((d) => acquire(d, now));
    try {
      const targets: ProxyTarget[] = m.targets.map((d, i) => ({
        client: used[i]!.client,
        labelSets: d.labelSets.map((kv) => Labels.fromSortedFlat(kv)),
        minTime: d.minTime,
        maxTime: d.maxTime,
        supportsWithoutReplicaLabels: d.supportsWithoutReplicaLabels,
      }));
      const proxy = new ProxyStore({ targets: () => targets, componentType: 'query', ...(data.storeResponseTimeoutMs ? { responseTimeoutMs: data.storeResponseTimeoutMs } : {}) });
      const adapter = new QueryApiAdapter({
        engine,
        client: inProcessClient(proxy, 'proxy'),
        replicaLabels: data.replicaLabels,
        partialResponse: data.partialResponse,
        autoDownsampling: data.autoDownsampling,
        ...(data.instantDefaultMaxSourceResolutionMs ? { instantDefaultMaxSourceResolutionMs: data.instantDefaultMaxSourceResolutionMs } : {}),
        maxConcurrent: 1,
        ...(data.storeResponseTimeoutMs ? { storeTimeoutMs: data.storeResponseTimeoutMs } : {}),
      });
      const opts: QueryOptions = { ...m.opts, signal: ac.signal };
      const r = m.kind === 'instant' ? await adapter.instantQuery(m.expr, m.time, opts) : await adapter.rangeQuery(m.expr, m.start, m.end, m.step, opts);
      const { packed, transfer } = packQueryResult(withQueueTime(r, m.queuedSec));
      post({ type: 'result', id: m.id, result: packed }, transfer);
    } catch (err) {
      post({ type: 'error', id: m.id, error: toWireError(err) });
    } finally {
      inflight.delete(m.id);
      const done = Date.now();
      for (const c of used) {
        c.refs--;
        c.lastUsed = done;
      }
    }
  };

  port.on('message', (m: ToWorkerMessage) => {
    switch (m.type) {
      case 'query':
        void evaluate(m);
        return;
      case 'cancel':
        inflight.get(m.id)?.abort(fromWireError(m.reason));
        return;
      case 'clients':
        // Test hook: the endpoints this worker holds a connection to.
        if (data.testHooks === true) post({ type: 'clients', addresses: [...clients.keys()] });
        return;
      case 'block':
        // Test hook: the thread is busy (as on a long evaluation) until the test sets flag[0].
        if (data.testHooks === true) Atomics.wait(m.flag, 0, 0);
        return;
      case 'crash':
        if (data.testHooks !== true) return;
        if (m.how === 'oom') {
          const hog: number[][] = [];
          const grow = (): void => {
            for (let i = 0; i < 64; i++) hog.push(new Array<number>(100_000).fill(i + 0.5));
            setImmediate(grow);
          };
          grow();
          return;
        }
        setImmediate(() => {
          throw new Error('query worker crashed on purpose (test hook)');
        });
        return;
    }
  });
  // Connections of endpoints no query names any more (removed, or this worker gets no queries)
  // are closed without waiting for the next query.
  setInterval(() => closeIdle(Date.now()), idleClientMs).unref();
  post({ type: 'ready' });
}

/** withQueueTime adds the main thread's wait for --query.max-concurrent to the stats' timings. */
function withQueueTime(r: QueryResult, queuedSec: number): QueryResult {
  const stats = r.stats as { timings?: { execQueueTime?: number; execTotalTime?: number } } | undefined;
  const t = stats?.timings;
  if (t === undefined || queuedSec === 0) return r;
  return { ...r, stats: { ...stats, timings: { ...t, execQueueTime: (t.execQueueTime ?? 0) + queuedSec, execTotalTime: (t.execTotalTime ?? 0) + queuedSec } } };
}

// Started as a worker thread by WorkerQueryEngine (workerData carries the marker).
const wd = workerData as { tesseraQueryWorker?: QueryWorkerData } | null;
if (!isMainThread && parentPort !== null && wd?.tesseraQueryWorker !== undefined) void runQueryWorker(parentPort, wd.tesseraQueryWorker);
