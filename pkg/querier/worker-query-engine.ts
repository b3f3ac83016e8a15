import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { QueryOptions, QueryResult } from '../api/index.js';
import { TesseraError } from '../errors/index.js';
import type { Matcher } from '../labels/index.js';
import { ErrQueryCanceled } from '../promql/index.js';
import type { ProxyTarget } from '../store/index.js';
import type { FromWorkerMessage, QueryRequestMessage, QueryWorkerData, TargetDescriptor, ToWorkerMessage, WireQueryOptions } from './query-worker-messages.js';
import { unpackQueryResult } from './query-result-transfer.js';
import { fromWireError, toWireError } from './wire-error.js';

/** QUERY_WORKER_ERROR is the code of a query lost with its worker thread (crash, out of memory). */
export const QUERY_WORKER_ERROR = 'TESSERA_QUERY_WORKER';

/** QueryWorkerError: the worker thread evaluating a query died, or none could be started (HTTP 500, internal). */
export class QueryWorkerError extends TesseraError {
  readonly errorType = 'internal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(QUERY_WORKER_ERROR, message, options);
  }
}

/** WorkerQueryEngineOptions configure a pool of query worker threads. */
export interface WorkerQueryEngineOptions {
  /** threads is the number of worker threads (≥ 1). */
  readonly threads: number;
  /** data is what every worker is started with (engine limits, per-request defaults). */
  readonly data: QueryWorkerData;
  /** targets returns the healthy StoreAPI endpoints a query may read, storeMatch[] applied. */
  readonly targets: (storeMatchers: readonly (readonly Matcher[])[] | undefined) => readonly ProxyTarget[];
  /** epoch tells how many times an endpoint turned healthy (workers reset their backoff when it grows). */
  readonly epoch?: (address: string) => number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** resourceLimits of each worker (default: V8's, from the process's flags such as --max-old-space-size). */
  readonly resourceLimits?: ResourceLimits;
  /** onWorkerEnd is called when a worker ended unexpectedly (before it is replaced). */
  readonly onWorkerEnd?: (threadId: number, err: string) => void;
  /** onAnswer is called with the thread id of the worker that answered each query (tests, debugging). */
  readonly onAnswer?: (threadId: number) => void;
  /**
   * restartBackoffMs: a worker that ends before it is ready, or idle within 10 s of starting, is
   * replaced after min ms, doubling with each such end in a row up to max (default 1 s … 60 s);
   * one that ran longer or ended evaluating queries is replaced at once.
   */
  readonly restartBackoffMs?: { readonly min: number; readonly max: number };
  /** schedule runs a delayed replacement (default setTimeout, unref'd); tests capture the delays. */
  readonly schedule?: (fn: () => void, ms: number) => { cancel(): void };
  /** module is the worker's module (default query-worker beside this file); tests name a missing one. */
  readonly module?: URL;
  /**
   * startTimeoutMs: a worker not ready this long after its start is ended and counts as failed
   * to start (default 2 min), so that a worker stuck while loading cannot hang start().
   */
  readonly startTimeoutMs?: number;
}

interface Pending {
  readonly resolve: (r: QueryResult) => void;
  readonly reject: (err: Error) => void;
  readonly done: () => void;
  /** finished tells the caller that the worker is done with the query (answered it or ended). */
  readonly finished: () => void;
  /**
   * settled: the caller already got its answer (its request was cancelled); the query stays in
   * flight (counted as the worker's load) until the worker answers or ends.
   */
  settled: boolean;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  threadId: number;
  readonly inflight: Map<number, Pending>;
  ready: Promise<void>;
  /** everReady: the worker answered 'ready' (a worker that dies before is not restarted in a loop). */
  everReady: boolean;
  /** alive is false once the worker ended and was not replaced. */
  alive: boolean;
  lastError: Error | undefined;
  /** startedAt: performance.now() when the worker was started. */
  startedAt: number;
  /** quickDeaths counts the slot's workers in a row that ended before ready or soon after starting. */
  quickDeaths: number;
  /** restart is the pending delayed replacement. */
  restart: { cancel(): void } | undefined;
}

/**
 * failInflight ends every query in flight on slot (its worker ended or was terminated): each is
 * finished, and each caller not answered yet gets error(). Returns how many there were.
 */
function failInflight(slot: Slot, error: () => Error): number {
  const lost = [...slot.inflight.values()];
  slot.inflight.clear();
  for (const p of lost) {
    p.finished();
    if (p.settled) continue;
    p.settled = true;
    p.done();
    p.reject(error());
  }
  return lost.length;
}

/** A worker that ends within this long of starting counts as a quick death (restart backoff). */
const quickDeathMs = 10_000;

/**
 * workerEntry returns how to start query-worker: its .js file when running compiled, or, when
 * running from TypeScript sources (tsx, vitest), a small bootstrap that registers tsx in the
 * worker first (Node 20 does not apply `--import tsx` to a worker's .ts entry).
 */
function workerEntry(module?: URL): { file: URL | string; eval: boolean } {
  const ts = import.meta.url.endsWith('.ts');
  const url = module ?? new URL(`./query-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  if (!ts) return { file: url, eval: false };
  // tsx is resolved from here when the runtime can (the worker's working directory may be elsewhere).
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  const tsxApi = typeof resolve === 'function' ? resolve('tsx/esm/api') : 'tsx/esm/api';
  return { file: `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`, eval: true };
}

/**
 * WorkerQueryEngine evaluates PromQL queries in a pool of worker threads, so that concurrent
 * queries use several cores. Each query goes to the least busy worker with the healthy
 * endpoints' descriptors of that moment (the main thread keeps discovery and health checks);
 * results come back packed in transferred buffers and are rebuilt here, errors as the same
 * classes. Aborting a query's signal cancels it in its worker. A worker that dies fails only its
 * in-flight queries and is replaced.
 *
 * The JSON of results is written on the main thread: in a profile of the querier bench's 12
 * queries under 16 clients with 2 workers, the main thread was 13% of the process's busy time, its
 * JSON (formatFloat, matrixPieces) about 4% and gzip 2%, while the workers decoded and evaluated.
 */
export class WorkerQueryEngine {
  readonly #o: WorkerQueryEngineOptions;
  readonly #slots: Slot[] = [];
  #nextId = 1;
  #closed = false;

  constructor(opts: WorkerQueryEngineOptions) {
    if (!(opts.threads >= 1)) throw new RangeError(`WorkerQueryEngine needs at least one thread, got ${opts.threads}`);
    this.#o = opts;
    for (let i = 0; i < opts.threads; i++) this.#slots.push(this.#start(i));
  }

  /** ready resolves once every worker has started (rejects when one could not initialise). */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.ready));
  }

  /** threadIds lists the workers' thread ids. */
  threadIds(): number[] {
    return this.#slots.map((s) => s.threadId);
  }

  /**
   * available tells whether a worker is running to take a query: false while every worker waits to
   * be replaced, when queries fail (500). They are not evaluated on the main thread instead: a
   * query that ran a worker out of memory would take the whole process down there.
   */
  available(): boolean {
    return !this.#closed && this.#slots.some((s) => s.alive);
  }

  /** load lists each worker's thread id and number of queries in flight. */
  load(): { threadId: number; inFlight: number; alive: boolean }[] {
    return this.#slots.map((s) => ({ threadId: s.threadId, inFlight: s.inflight.size, alive: s.alive }));
  }

  /**
   * crashForTest makes the worker with this thread id throw an uncaught error, or with `oom` run
   * out of heap (needs data.testHooks).
   */
  crashForTest(threadId: number, how: 'throw' | 'oom' = 'throw'): void {
    const s = this.#slots.find((x) => x.threadId === threadId);
    s?.worker.postMessage({ type: 'crash', how } satisfies ToWorkerMessage);
  }

  /**
   * blockForTest makes the worker with this thread id block (as on a long evaluation) until
   * flag[0] is set and notified (needs data.testHooks; flag over a SharedArrayBuffer).
   */
  blockForTest(threadId: number, flag: Int32Array): void {
    const s = this.#slots.find((x) => x.threadId === threadId);
    s?.worker.postMessage({ type: 'block', flag } satisfies ToWorkerMessage);
  }

  /** clientsForTest lists the endpoints a worker holds connections to (needs data.testHooks). */
  clientsForTest(threadId: number): Promise<string[]> {
    const s = this.#slots.find((x) => x.threadId === threadId);
    if (s === undefined) return Promise.reject(new Error(`no query worker thread ${threadId}`));
    const worker = s.worker;
    return new Promise((resolve) => {
      const on = (m: FromWorkerMessage): void => {
        if (m.type !== 'clients') return;
        worker.off('message', on);
        resolve([...m.addresses]);
      };
      worker.on('message', on);
      worker.postMessage({ type: 'clients' } satisfies ToWorkerMessage);
    });
  }

  #start(index: number, prev?: Slot): Slot {
    const entry = workerEntry(this.#o.module);
    const worker = new Worker(entry.file, {
      eval: entry.eval,
      workerData: { tesseraQueryWorker: this.#o.data },
      name: `tessera-query-${index}`,
      ...(this.#o.resourceLimits !== undefined ? { resourceLimits: this.#o.resourceLimits } : {}),
    });
    worker.unref();
    const threadId = worker.threadId; // -1 once the worker ended
    const slot: Slot = prev ?? {
      index,
      worker,
      threadId: worker.threadId,
      inflight: new Map(),
      ready: Promise.resolve(),
      everReady: false,
      alive: true,
      lastError: undefined,
      startedAt: 0,
      quickDeaths: 0,
      restart: undefined,
    };
    slot.worker = worker;
    slot.threadId = threadId;
    slot.everReady = false;
    slot.alive = true;
    slot.lastError = undefined;
    slot.startedAt = performance.now();
    slot.restart = undefined;
    let readyResolve!: () => void;
    let readyReject!: (err: Error) => void;
    slot.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    slot.ready.catch(() => {}); // observed by ready() or by the exit handler
    const startTimeoutMs = this.#o.startTimeoutMs ?? 120_000;
    const startTimer = setTimeout(() => {
      if (slot.worker !== worker || slot.everReady) return;
      const err = new QueryWorkerError(`start query worker thread ${threadId}: not ready after ${startTimeoutMs / 1000} s`);
      slot.lastError = err;
      readyReject(err);
      void worker.terminate();
    }, startTimeoutMs).unref();
    worker.on('message', (m: FromWorkerMessage) => {
      switch (m.type) {
        case 'ready':
          clearTimeout(startTimer);
          slot.everReady = true;
          readyResolve();
          return;
        case 'init-error': {
          const err = new QueryWorkerError(`start query worker thread ${threadId}: ${m.error.message}`, { cause: fromWireError(m.error) });
          slot.lastError = err;
          readyReject(err);
          void worker.terminate();
          return;
        }
        case 'result':
        case 'error': {
          const p = slot.inflight.get(m.id);
          if (p === undefined) return;
          slot.inflight.delete(m.id);
          p.finished();
          if (p.settled) return;
          p.settled = true;
          p.done();
          this.#o.onAnswer?.(threadId);
          if (m.type === 'result') p.resolve(unpackQueryResult(m.result));
          else p.reject(fromWireError(m.error));
          return;
        }
      }
    });
    worker.on('error', (err) => {
      slot.lastError = err;
      this.#o.log?.('error', 'query worker thread failed', { thread: threadId, err: err.message });
    });
    worker.on('exit', (code) => {
      clearTimeout(startTimer);
      if (slot.worker !== worker) return;
      const why = slot.lastError !== undefined ? slot.lastError.message : `exit code ${code}`;
      const lost = failInflight(slot, () => new QueryWorkerError(`evaluate query in worker thread ${threadId}: the worker ended (${why})`, slot.lastError !== undefined ? { cause: slot.lastError } : undefined));
      readyReject(new QueryWorkerError(`start query worker thread ${threadId}: it ended (${why})`));
      slot.alive = false;
      if (this.#closed) return;
      this.#o.onWorkerEnd?.(threadId, why);
      // A worker that keeps ending at or soon after its start with no query to blame (broken
      // install, a crash in its setup) is replaced after a growing delay, not in a loop of thread
      // starts. One that ended evaluating queries (out of memory) is replaced at once.
      const quick = !slot.everReady || (lost === 0 && performance.now() - slot.startedAt < quickDeathMs);
      slot.quickDeaths = quick ? slot.quickDeaths + 1 : 0;
      const b = this.#o.restartBackoffMs ?? { min: 1000, max: 60_000 };
      const delay = slot.quickDeaths === 0 ? 0 : Math.min(b.max, b.min * 2 ** (slot.quickDeaths - 1));
      this.#o.log?.(quick ? 'error' : 'warn', 'query worker thread ended; replacing it', { thread: threadId, inFlight: lost, err: why, ...(delay > 0 ? { inMs: delay } : {}) });
      if (delay === 0) {
        this.#start(index, slot);
        return;
      }
      const schedule = this.#o.schedule ?? ((fn: () => void, ms: number) => {
        const t = setTimeout(fn, ms).unref();
        return { cancel: () => clearTimeout(t) };
      });
      slot.restart = schedule(() => {
        slot.restart = undefined;
        if (!this.#closed) this.#start(index, slot);
      }, delay);
    });
    return slot;
  }

  /**
   * #pick returns the least busy live worker, the first one among equals: queries one after the
   * other all go to the same worker, whose JIT and connections are warm; concurrent ones spread.
   */
  #pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots) {
      if (!s.alive) continue;
      if (best === undefined || s.inflight.size < best.inflight.size) best = s;
    }
    return best;
  }

  #targets(opts: QueryOptions): TargetDescriptor[] {
    const sm = opts.storeMatchers !== undefined && opts.storeMatchers.length > 0 ? opts.storeMatchers : undefined;
    return this.#o.targets(sm).map((t) => ({
      address: t.client.name,
      labelSets: t.labelSets.map((l) => l.flat()),
      minTime: t.minTime,
      maxTime: t.maxTime,
      supportsWithoutReplicaLabels: t.supportsWithoutReplicaLabels ?? false,
      epoch: this.#o.epoch?.(t.client.name) ?? 0,
    }));
  }

  #run(
    expr: string,
    opts: QueryOptions,
    queuedSec: number,
    what: { kind: 'instant'; time: number } | { kind: 'range'; start: number; end: number; step: number },
    onFinished: (() => void) | undefined,
  ): Promise<QueryResult> {
    let finishedOnce = false;
    const finished = (): void => {
      if (finishedOnce) return;
      finishedOnce = true;
      onFinished?.();
    };
    const fail = (err: Error): Promise<QueryResult> => {
      finished();
      return Promise.reject(err);
    };
    if (this.#closed) return fail(new QueryWorkerError('evaluate query: the querier is stopping'));
    const slot = this.#pick();
    if (slot === undefined) return fail(new QueryWorkerError('evaluate query: no query worker thread is running'));
    const signal = opts.signal;
    if (signal.aborted) return fail(new ErrQueryCanceled('query preparation', signal.reason));
    const id = this.#nextId++;
    const { signal: _s, storeMatchers: _m, ...rest } = opts;
    const wireOpts: WireQueryOptions = rest;
    const msg: QueryRequestMessage = {
      type: 'query',
      id,
      expr,
      opts: wireOpts,
      queuedSec,
      targets: this.#targets(opts),
      ...what,
    };
    return new Promise<QueryResult>((resolve, reject) => {
      const worker = slot.worker;
      const onAbort = (): void => {
        const p = slot.inflight.get(id);
        if (p === undefined || p.settled || slot.worker !== worker) return;
        worker.postMessage({ type: 'cancel', id, reason: toWireError(signal.reason) } satisfies ToWorkerMessage);
        // Answer the cancelled request now, as the engine would: the worker may be busy evaluating
        // another query and see the cancellation only later (its answer is then dropped).
        p.settled = true;
        reject(new ErrQueryCanceled('query evaluation', signal.reason));
      };
      const done = (): void => signal.removeEventListener('abort', onAbort);
      slot.inflight.set(id, { resolve, reject, done, finished, settled: false });
      if (!signal.aborted) signal.addEventListener('abort', onAbort, { once: true });
      slot.worker.postMessage(msg);
    });
  }

  /**
   * instantQuery evaluates expr at timeMs in a worker; queuedSec is the caller's queueing time
   * (stats). finished is called once the worker is done with the query, which may be after the
   * returned promise rejected for a cancelled request (or at once when it was never posted).
   */
  instantQuery(expr: string, timeMs: number, opts: QueryOptions, queuedSec = 0, finished?: () => void): Promise<QueryResult> {
    return this.#run(expr, opts, queuedSec, { kind: 'instant', time: timeMs }, finished);
  }

  /** rangeQuery evaluates expr over [start, end] every step (ms) in a worker. */
  rangeQuery(expr: string, start: number, end: number, step: number, opts: QueryOptions, queuedSec = 0, finished?: () => void): Promise<QueryResult> {
    return this.#run(expr, opts, queuedSec, { kind: 'range', start, end, step }, finished);
  }

  /** close ends every worker; queries in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (s) => {
        s.restart?.cancel();
        s.restart = undefined;
        await s.worker.terminate();
        failInflight(s, () => new QueryWorkerError('evaluate query: the querier is stopping'));
      }),
    );
  }
}
