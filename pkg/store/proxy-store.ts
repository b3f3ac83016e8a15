import { Labels, type Matcher, compareStrings } from '../labels/index.js';
import {
  PartialResponseStrategy,
  type AggrChunk,
  type InfoResponse,
  type LabelNamesRequest,
  type LabelNamesResponse,
  type LabelValuesRequest,
  type LabelValuesResponse,
  type SeriesRequest,
  type SeriesResponse,
  type StoreChunk,
  type StoreSeries,
} from '../storepb/index.js';
import { storeMatches, toMatchers } from './matchers.js';
import { SeriesFrameWriter } from './series-frame-writer.js';
import type { SeriesSink, StoreClient, StoreServer } from './store-api.js';
import { GrpcCode, StoreError, abortReason, toStoreError } from './store-error.js';

/** ProxyTarget is one store the proxy may query, with what its Info call advertised. */
export interface ProxyTarget {
  readonly client: StoreClient;
  readonly labelSets: readonly Labels[];
  readonly minTime: number;
  readonly maxTime: number;
  /** When false, the proxy strips without_replica_labels itself and re-sorts that store's series. */
  readonly supportsWithoutReplicaLabels?: boolean;
}

/** Options of a ProxyStore. */
export interface ProxyStoreOptions {
  /** targets returns the current stores (called once per request). */
  readonly targets: () => readonly ProxyTarget[];
  /** componentType is advertised in Info (default 'query'). */
  readonly componentType?: string;
  /**
   * responseTimeoutMs bounds the wait for each next frame of one store (Thanos
   * --store.response-timeout); 0 or absent = no bound. A timeout is that store's failure.
   */
  readonly responseTimeoutMs?: number;
}

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

function isAbort(req: { partialResponseStrategy?: number; partialResponseDisabled?: boolean }): boolean {
  return req.partialResponseStrategy === PartialResponseStrategy.ABORT || req.partialResponseDisabled === true;
}

/**
 * ProxyStore is a StoreServer that fans a request out to the stores that can hold matching data
 * (time range and external labels, like the Thanos querier), k-way merges their sorted streams
 * with a heap while buffering at most one received batch per store, merges frames of the same
 * series (concatenating chunks, dropping byte-identical duplicates, sorting by time) and turns
 * store failures into warnings (partial response WARN) or fails the request with Aborted (ABORT).
 */
export class ProxyStore implements StoreServer {
  readonly #targets: () => readonly ProxyTarget[];
  readonly #component: string;
  readonly #timeout: number;

  constructor(opts: ProxyStoreOptions) {
    this.#targets = opts.targets;
    this.#component = opts.componentType ?? 'query';
    this.#timeout = opts.responseTimeoutMs ?? 0;
  }

  info(): Promise<InfoResponse> {
    const targets = this.#targets();
    const sets = new Map<string, Labels>();
    let minTime = MAX_INT64;
    let maxTime = MIN_INT64;
    for (const t of targets) {
      for (const ls of t.labelSets) sets.set(ls.key(), ls);
      minTime = Math.min(minTime, t.minTime);
      maxTime = Math.max(maxTime, t.maxTime);
    }
    if (targets.length === 0) {
      minTime = MIN_INT64;
      maxTime = MAX_INT64;
    }
    const labelSets = [...sets.values()].sort(Labels.compare);
    return Promise.resolve({
      labelSets,
      componentType: this.#component,
      store: { minTime, maxTime, supportsSharding: false, supportsWithoutReplicaLabels: true, tsdbInfos: labelSets.map((labels) => ({ labels, minTime, maxTime })) },
    });
  }

  #select(minTime: number, maxTime: number, matchers: readonly Matcher[]): ProxyTarget[] {
    return this.#targets().filter((t) => storeMatches(t, minTime, maxTime, matchers));
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    const matchers = toMatchers(req.matchers);
    if (matchers.length === 0) throw new StoreError(GrpcCode.InvalidArgument, 'no matchers specified');
    const targets = this.#select(req.minTime, req.maxTime, matchers);
    if (targets.length === 0) return;
    const abort = isAbort(req);
    const ac = new AbortController();
    const all = AbortSignal.any([signal, ac.signal]);
    const warnings: string[] = [];
    const w = new SeriesFrameWriter(sink, req.responseBatchSize ?? 0);
    const cursors = targets.map((t) => new StoreCursor(t, req, all, abort, this.#timeout, warnings));
    try {
      await Promise.all(cursors.map((c) => c.fill()));
      const heap = new CursorHeap(cursors.filter((c) => c.head() !== undefined));
      const limit = req.limit !== undefined && req.limit > 0 ? req.limit : Infinity;
      let sent = 0;
      while (heap.size > 0) {
        if (signal.aborted) throw abortReason(signal);
        const first = heap.top();
        const s = first.head()!;
        let chunks: AggrChunk[] | readonly AggrChunk[] = s.chunks;
        let parts = 1;
        // Advancing within a buffered batch is synchronous: only a refill from the network awaits
        // (an await per series costs a microtask hop per store per series).
        if (!advanceBuffered(heap, first)) await refill(heap, first);
        while (heap.size > 0 && heap.top().head()!.labels.equals(s.labels)) {
          const c = heap.top();
          if (parts === 1) chunks = [...chunks];
          (chunks as AggrChunk[]).push(...c.head()!.chunks);
          parts++;
          if (!advanceBuffered(heap, c)) await refill(heap, c);
        }
        if (warnings.length > 0) for (const warn of warnings.splice(0)) await w.warning(warn);
        if (sent >= limit) break;
        sent++;
        const p = w.series(parts === 1 ? s : { labels: s.labels, chunks: dedupChunks(chunks as AggrChunk[]) });
        if (p !== undefined) await p;
      }
      for (const warn of warnings.splice(0)) await w.warning(warn);
      await w.flush();
    } catch (err) {
      throw toStoreError(err, 'proxy series');
    } finally {
      ac.abort(new StoreError(GrpcCode.Canceled, 'proxy series finished'));
      await Promise.allSettled(cursors.map((c) => c.close()));
    }
  }

  async labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> {
    const { values, warnings } = await this.#fanOutLabels(req, signal, 'label names', (c, s) => c.labelNames(req, { signal: s }).then((r) => ({ values: r.names, warnings: r.warnings })));
    return { names: values, warnings };
  }

  async labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> {
    if (req.label === '') throw new StoreError(GrpcCode.InvalidArgument, 'label name parameter cannot be empty');
    return this.#fanOutLabels(req, signal, `values of label ${req.label}`, (c, s) => c.labelValues(req, { signal: s }));
  }

  async #fanOutLabels(
    req: LabelNamesRequest,
    signal: AbortSignal,
    what: string,
    call: (c: StoreClient, s: AbortSignal) => Promise<{ values: readonly string[]; warnings: readonly string[] }>,
  ): Promise<{ values: string[]; warnings: string[] }> {
    const matchers = toMatchers(req.matchers);
    const targets = this.#select(req.start, req.end, matchers);
    const ac = new AbortController();
    const all = AbortSignal.any([signal, ac.signal]);
    const abort = isAbort(req);
    const values = new Set<string>();
    const warnings: string[] = [];
    try {
      await Promise.all(
        targets.map(async (t) => {
          try {
            const r = await call(t.client, this.#timeout > 0 ? AbortSignal.any([all, AbortSignal.timeout(this.#timeout)]) : all);
            for (const v of r.values) values.add(v);
            for (const wn of r.warnings) {
              if (abort) throw new StoreError(GrpcCode.Aborted, wn);
              warnings.push(wn);
            }
          } catch (err) {
            if (signal.aborted) throw toStoreError(abortReason(signal), `get ${what}`);
            const msg = `get ${what} from store ${t.client.name}: ${(err as Error).message}`;
            if (abort) throw new StoreError(GrpcCode.Aborted, msg, { cause: err });
            warnings.push(msg);
          }
        }),
      );
    } finally {
      ac.abort(new StoreError(GrpcCode.Canceled, `get ${what} finished`));
    }
    const out = [...values].sort(compareStrings);
    return { values: req.limit !== undefined && req.limit > 0 && out.length > req.limit ? out.slice(0, req.limit) : out, warnings };
  }
}

/** advanceBuffered moves the top cursor to its next buffered series; false when it needs a refill. */
function advanceBuffered(heap: CursorHeap, c: StoreCursor): boolean {
  if (!c.next()) return false;
  heap.fixTop();
  return true;
}

/** refill receives the top cursor's next batch from the network, dropping it from the heap at its end. */
async function refill(heap: CursorHeap, c: StoreCursor): Promise<void> {
  await c.fill();
  if (c.head() === undefined) heap.pop();
  else heap.fixTop();
}

function chunkEq(a: StoreChunk | undefined, b: StoreChunk | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.type !== b.type || a.data.length !== b.data.length) return false;
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function aggrEq(a: AggrChunk, b: AggrChunk): boolean {
  return (
    a.minTime === b.minTime &&
    a.maxTime === b.maxTime &&
    chunkEq(a.raw, b.raw) &&
    chunkEq(a.count, b.count) &&
    chunkEq(a.sum, b.sum) &&
    chunkEq(a.min, b.min) &&
    chunkEq(a.max, b.max) &&
    chunkEq(a.counter, b.counter)
  );
}

/**
 * dedupChunks sorts chunks by (minTime, maxTime) and drops byte-identical duplicates (what the
 * Thanos proxy does with chunk hashes; comparing bytes is exact and needs no hash).
 */
export function dedupChunks(chunks: AggrChunk[]): AggrChunk[] {
  chunks.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
  const out: AggrChunk[] = [];
  let groupStart = 0;
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last === undefined || last.minTime !== c.minTime || last.maxTime !== c.maxTime) groupStart = out.length;
    let dup = false;
    for (let i = groupStart; i < out.length; i++) {
      if (aggrEq(out[i]!, c)) {
        dup = true;
        break;
      }
    }
    if (!dup) out.push(c);
  }
  return out;
}

/** DEFAULT_RESPONSE_BATCH_SIZE is the SeriesRequest.response_batch_size sent to stores (Thanos's default, 64). */
const DEFAULT_RESPONSE_BATCH_SIZE = 64;

/**
 * StoreCursor reads one store's Series stream, keeping only the last received batch. Warnings go
 * to the shared list (or fail the request under ABORT); failures become warnings under WARN.
 */
class StoreCursor {
  readonly #t: ProxyTarget;
  readonly #abort: boolean;
  readonly #timeout: number;
  readonly #warnings: string[];
  readonly #ac = new AbortController();
  readonly #resort: Set<string> | undefined;
  readonly #it: AsyncIterator<SeriesResponse[]>;
  #buf: StoreSeries[] = [];
  #i = 0;
  #done = false;

  constructor(t: ProxyTarget, req: SeriesRequest, signal: AbortSignal, abort: boolean, timeout: number, warnings: string[]) {
    this.#t = t;
    this.#abort = abort;
    this.#timeout = timeout;
    this.#warnings = warnings;
    const replica = req.withoutReplicaLabels ?? [];
    this.#resort = replica.length > 0 && t.supportsWithoutReplicaLabels === false ? new Set(replica) : undefined;
    // Ask for batched frames (as Thanos's querier does) unless the caller chose a batch size:
    // one frame per series costs each side a gRPC message apiece. Stores without batching ignore it.
    const out = req.responseBatchSize !== undefined && req.responseBatchSize > 0 ? req : { ...req, responseBatchSize: DEFAULT_RESPONSE_BATCH_SIZE };
    this.#it = t.client.series(out, { signal: AbortSignal.any([signal, this.#ac.signal]) })[Symbol.asyncIterator]();
  }

  get name(): string {
    return this.#t.client.name;
  }

  head(): StoreSeries | undefined {
    return this.#buf[this.#i];
  }

  /** next moves to the next buffered series; false when the buffer is exhausted (then call fill). */
  next(): boolean {
    this.#i++;
    return this.#i < this.#buf.length;
  }

  async #pull(): Promise<IteratorResult<SeriesResponse[]>> {
    if (this.#timeout <= 0) return this.#it.next();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#it.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StoreError(GrpcCode.DeadlineExceeded, `no response within ${this.#timeout}ms`)), this.#timeout);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** fill receives frames until at least one series is buffered or the stream ends. */
  async fill(): Promise<void> {
    this.#buf = [];
    this.#i = 0;
    try {
      while (!this.#done && this.#buf.length === 0) {
        const r = await this.#pull();
        if (r.done === true) {
          this.#done = true;
          break;
        }
        for (const f of r.value) {
          if (f.kind === 'series') this.#buf.push(f.series);
          else if (f.kind === 'batch') this.#buf.push(...f.batch);
          else if (f.kind === 'warning') {
            if (this.#abort) throw new StoreError(GrpcCode.Aborted, f.warning);
            this.#warnings.push(f.warning);
          }
        }
        if (this.#resort !== undefined && this.#buf.length > 0) {
          // The store cannot drop replica labels itself: read it all, drop them, re-sort.
          const all = this.#buf;
          while (!this.#done) {
            const more = await this.#pull();
            if (more.done === true) this.#done = true;
            else
              for (const f of more.value) {
                if (f.kind === 'series') all.push(f.series);
                else if (f.kind === 'batch') all.push(...f.batch);
                else if (f.kind === 'warning') {
                  if (this.#abort) throw new StoreError(GrpcCode.Aborted, f.warning);
                  this.#warnings.push(f.warning);
                }
              }
          }
          const drop = this.#resort;
          this.#buf = all.map((x) => ({ labels: x.labels.without(drop), chunks: x.chunks }));
          this.#buf.sort((a, b) => Labels.compare(a.labels, b.labels));
        }
      }
    } catch (err) {
      this.#done = true;
      this.#buf = [];
      this.#ac.abort(err);
      const msg = `receive series from store ${this.name}: ${(err as Error).message}`;
      if (this.#abort) {
        const code = err instanceof StoreError && err.grpcCode !== GrpcCode.Unknown && err.grpcCode !== GrpcCode.Internal ? err.grpcCode : GrpcCode.Aborted;
        throw new StoreError(code, msg, { cause: err });
      }
      this.#warnings.push(msg);
    }
  }

  async close(): Promise<void> {
    this.#ac.abort(new StoreError(GrpcCode.Canceled, 'proxy series finished'));
    await this.#it.return?.();
  }
}

/** CursorHeap is a binary min-heap of cursors ordered by their head series' labels. */
class CursorHeap {
  readonly #h: StoreCursor[];

  constructor(cursors: StoreCursor[]) {
    this.#h = cursors;
    for (let i = (cursors.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  get size(): number {
    return this.#h.length;
  }

  top(): StoreCursor {
    return this.#h[0]!;
  }

  pop(): void {
    const last = this.#h.pop()!;
    if (this.#h.length > 0) {
      this.#h[0] = last;
      this.#down(0);
    }
  }

  fixTop(): void {
    this.#down(0);
  }

  #less(a: StoreCursor, b: StoreCursor): boolean {
    return Labels.compare(a.head()!.labels, b.head()!.labels) < 0;
  }

  #down(i: number): void {
    const h = this.#h;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.#less(h[r]!, h[l]!) ? r : l;
      if (!this.#less(h[m]!, h[i]!)) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
