import { isCounterHint, splitOverlapping } from '../dedup/index.js';
import { TesseraError } from '../errors/index.js';
import { Labels, compareStrings } from '../labels/index.js';
import type { ChunkSeriesSet, IncrementalSet, SeriesSet, Warnings } from '../storage/index.js';
import { dedupChunks, type ShardMatcher } from '../store/index.js';
import type { Aggr, AggrChunk, SeriesResponse, StoreChunk, StoreSeries } from '../storepb/index.js';
import { StoreSeriesView } from './store-series-view.js';

/** StoreSeriesStreamOptions describe how the stream's series become views. */
export interface StoreSeriesStreamOptions {
  /** replica holds the replica labels when dedup is on (empty: no dedup). */
  readonly replica: ReadonlySet<string>;
  readonly aggrs: readonly Aggr[];
  /** mint, maxt bound the views' samples; ctx is the dedup context read beyond them. */
  readonly mint: number;
  readonly maxt: number;
  readonly ctx: number;
  /** func is the PromQL function around the selector (the counter hint of dedup). */
  readonly func: string | undefined;
  /**
   * incremental hands series over while the stream runs (views of a series as soon as the
   * stream has passed every place a replica of it could come; at most maxBuffered waiting);
   * otherwise every series is read first and the views are sorted by their labels.
   */
  readonly incremental: boolean;
  readonly maxBuffered?: number;
  /** shard, when given, keeps only the series of one vertical shard (stores that do not shard send all). */
  readonly shard?: ShardMatcher;
}

/** A series of the stream: its labels and chunks. */
interface Entry {
  readonly full: Labels;
  readonly chunks: readonly AggrChunk[];
}

/**
 * A dedup group: the replicas of one series seen so far, and the last labels a replica of it can
 * have: lset itself, followed by (largest replica label name, MAX_VALUE) when ext (not built as a
 * label set: compareToLast and compareLasts read it in place).
 */
interface Group {
  readonly lset: Labels;
  readonly ext: boolean;
  readonly entries: Entry[];
  /** emitted: handed over (no replica of it may come any more). */
  emitted: boolean;
}

/** compareChunks orders chunks by time range, then by their bytes (raw, then the aggregates). */
function compareChunks(a: AggrChunk, b: AggrChunk): number {
  return (
    a.minTime - b.minTime ||
    a.maxTime - b.maxTime ||
    compareStoreChunks(a.raw, b.raw) ||
    compareStoreChunks(a.count, b.count) ||
    compareStoreChunks(a.sum, b.sum) ||
    compareStoreChunks(a.min, b.min) ||
    compareStoreChunks(a.max, b.max) ||
    compareStoreChunks(a.counter, b.counter)
  );
}

function compareStoreChunks(a: StoreChunk | undefined, b: StoreChunk | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (a.type !== b.type) return a.type - b.type;
  const x = a.data;
  const y = b.data;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function compareEntries(a: Entry, b: Entry): number {
  return Labels.compare(a.full, b.full);
}

/** entriesSorted tells whether es is already in compareEntries order (then it need not be sorted). */
function entriesSorted(es: readonly Entry[]): boolean {
  for (let i = 1; i < es.length; i++) if (Labels.compare(es[i - 1]!.full, es[i]!.full) > 0) return false;
  return true;
}

/** equalsWithout tells whether full without the names in drop equals lset (as full.without(drop).equals(lset)). */
function equalsWithout(full: Labels, lset: Labels, drop: ReadonlySet<string>): boolean {
  const a = full.flat();
  const b = lset.flat();
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    const name = a[i]!;
    if (drop.has(name)) continue;
    if (j >= b.length || b[j] !== name || b[j + 1] !== a[i + 1]) return false;
    j += 2;
  }
  return j === b.length;
}

/** disjointInOrder tells whether each chunk ends before the next one starts. */
function disjointInOrder(cs: readonly AggrChunk[]): boolean {
  for (let i = 1; i < cs.length; i++) if (cs[i - 1]!.maxTime >= cs[i]!.minTime) return false;
  return true;
}

/** MAX_VALUE sorts after every label value (U+10FFFF is the largest code point in UTF-8 order). */
const MAX_VALUE = '\u{10FFFF}'.repeat(8);
const DEFAULT_MAX_BUFFERED = 1024;

/**
 * StoreSeriesStream turns a StoreAPI Series stream (sorted by labels, the StoreAPI contract) into
 * a SeriesSet and ChunkSeriesSet of StoreSeriesViews while the frames arrive (an IncrementalSet).
 *
 * Under dedup, the replicas of a series are not adjacent in the stream when a label sorts after
 * the replica label, so a group (one series without its replica labels, K) is handed over once
 * the stream has passed the last labels a replica of K can have: K itself plus the largest
 * replica label name with the largest value when that name sorts after all of K's names, else K.
 * Groups wait in a heap by that bound; the stream passes bounds in their order. A series whose
 * group was already handed over means the stores broke the sort order: the set fails then rather
 * than return the series twice.
 *
 * The order of the views is a function of the stream's series alone: groups are handed over per
 * series read, so neither how the series are split into frames nor when frames arrive changes it
 * (the ProxyStore's k-way merge does not depend on timing either), and one replica's chunks that
 * several stores send with equal ranges are ordered by their bytes. It is not always the order of
 * the labels without the replica labels (a group waits until no replica of it can come; a series
 * lacking a label that sorts before the replica label can start a smaller group later), which no
 * stream can give without reading everything first; sort = true on select does that.
 *
 * Handed-over views wait in a queue. Once the consumer has started reading the set, at most
 * maxBuffered of them: beyond that the stream is not read on (backpressure to the stores) until
 * the consumer has taken half of them. Before, the queue is not bounded (the engine reads the
 * sets of a query one after the other, and the later ones must not stall the stores' streams).
 */
export class StoreSeriesStream implements SeriesSet, ChunkSeriesSet, IncrementalSet {
  readonly #o: StoreSeriesStreamOptions;
  readonly #maxBuffered: number;
  readonly #dedup: boolean;
  /** The largest replica label name, '' without dedup. */
  readonly #rmax: string;
  readonly #warnings: string[] = [];
  #ready: (StoreSeriesView | undefined)[] = [];
  #head = 0;
  /** active: the consumer has started reading (from then on, the stream waits for it). */
  #active = false;
  #cur: StoreSeriesView | undefined;
  #err: Error | null = null;
  #done = false;
  /** Groups not yet handed over, by key, and a min-heap of them by their last possible labels. */
  readonly #groups = new Map<string, Group>();
  readonly #heap: Group[] = [];
  readonly #emitted = new Set<string>();
  /** The group of the series read last. */
  #prev: Group | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakePump: (() => void) | undefined;
  readonly #stop: AbortSignal;
  readonly started: Promise<void>;

  /**
   * The stream starts reading at once; `started` resolves when the first views are ready or the
   * stream has ended (or failed), `stop` ends the reading early (the querier closed).
   */
  constructor(source: AsyncIterable<SeriesResponse[]>, opts: StoreSeriesStreamOptions, stop: AbortSignal) {
    this.#o = opts;
    this.#maxBuffered = opts.incremental ? (opts.maxBuffered ?? DEFAULT_MAX_BUFFERED) : Infinity;
    this.#dedup = opts.replica.size > 0;
    this.#rmax = [...opts.replica].sort(compareStrings).at(-1) ?? '';
    this.#stop = stop;
    const onStop = () => this.#wake();
    stop.addEventListener('abort', onStop, { once: true });
    let resolve!: () => void;
    this.started = new Promise<void>((r) => (resolve = r));
    void this.#pump(source, resolve).finally(() => stop.removeEventListener('abort', onStop));
  }

  /** #pump reads the stream to its end (or failure, or stop); it never rejects. */
  async #pump(source: AsyncIterable<SeriesResponse[]>, started: () => void): Promise<void> {
    const it = source[Symbol.asyncIterator]();
    let closed = false;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) {
          closed = true;
          break;
        }
        if (this.#stop.aborted) break;
        for (const f of r.value) {
          if (f.kind === 'series') this.#add(f.series);
          else if (f.kind === 'batch') for (const x of f.batch) this.#add(x);
          else if (f.kind === 'warning') this.#warnings.push(f.warning);
        }
        if (this.#ready.length > this.#head) {
          if (this.#o.incremental) started();
          this.#wakeConsumer?.();
          this.#wakeConsumer = undefined;
        }
        // Backpressure, once the consumer reads this set: wait until it has taken half of the
        // buffered views. Not before: a consumer working on another set of the same query may
        // need the same store connections, which a paused stream must not hold up.
        while (this.#active && this.#ready.length - this.#head > this.#maxBuffered && !this.#stop.aborted) {
          await new Promise<void>((resolve) => {
            this.#wakePump = resolve;
          });
        }
        if (this.#stop.aborted) break;
      }
      if (closed) this.#finish();
      else this.#fail(this.#stop.reason ?? new Error('series stream stopped'));
    } catch (err) {
      this.#fail(err);
    } finally {
      if (!closed) await it.return?.().catch(() => undefined);
      started();
    }
  }

  #add(s: StoreSeries): void {
    const o = this.#o;
    if (o.shard !== undefined && !o.shard.matches(s.labels)) return;
    // The replicas of a series usually come one after the other: the group of the series before,
    // when it is this one's, is taken without building the labels without the replica labels and
    // their key (it is the group the key finds: a group is in #groups until handed over).
    let g = this.#prev;
    if (g === undefined || g.emitted || !(this.#dedup ? equalsWithout(s.labels, g.lset, o.replica) : s.labels.equals(g.lset))) {
      // Without dedup a group is one series (frames of it from several stores merge, as under dedup).
      const lset = this.#dedup ? s.labels.without(o.replica) : s.labels;
      const key = lset.key();
      g = this.#groups.get(key);
      if (g === undefined) {
        if (this.#emitted.has(key)) throw new TesseraError('TESSERA_STORE_SERIES_UNSORTED', `merge the replicas of series ${lset.toString()}: the stores sent one after later series (StoreAPI streams must be sorted by labels)`);
        const n = lset.size;
        const ext = n === 0 || compareStrings(this.#rmax, lset.nameAt(n - 1)) > 0;
        g = { lset, ext, entries: [], emitted: false };
        this.#groups.set(key, g);
        this.#heapPush(g);
      }
      this.#prev = g;
    }
    g.entries.push({ full: s.labels, chunks: s.chunks });
    if (!this.#o.incremental) return;
    // Hand over every group whose last possible replica the stream has now passed.
    while (this.#heap.length > 0 && this.#compareToLast(s.labels, this.#heap[0]!) > 0) this.#emitGroup(this.#heapPop());
  }

  /** #compareToLast is Labels.compare(x, the last labels a replica of g can have). */
  #compareToLast(x: Labels, g: Group): number {
    const a = x.flat();
    const b = g.lset.flat();
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i += 2) {
      if (a[i] !== b[i]) return compareStrings(a[i]!, b[i]!);
      if (a[i + 1] !== b[i + 1]) return compareStrings(a[i + 1]!, b[i + 1]!);
    }
    const lb = g.ext ? b.length + 2 : b.length;
    if (a.length > b.length && g.ext) {
      const m = b.length;
      if (a[m] !== this.#rmax) return compareStrings(a[m]!, this.#rmax);
      if (a[m + 1] !== MAX_VALUE) return compareStrings(a[m + 1]!, MAX_VALUE);
    }
    return a.length - lb;
  }

  /** #compareLasts is Labels.compare of the last labels replicas of g and h can have. */
  #compareLasts(g: Group, h: Group): number {
    const a = g.lset.flat();
    const b = h.lset.flat();
    const la = g.ext ? a.length + 2 : a.length;
    const lb = h.ext ? b.length + 2 : b.length;
    const n = Math.min(la, lb);
    for (let i = 0; i < n; i++) {
      const x = i < a.length ? a[i]! : i === a.length ? this.#rmax : MAX_VALUE;
      const y = i < b.length ? b[i]! : i === b.length ? this.#rmax : MAX_VALUE;
      if (x !== y) return compareStrings(x, y);
    }
    return la - lb;
  }

  #emitGroup(g: Group): void {
    const key = g.lset.key();
    this.#groups.delete(key);
    this.#emitted.add(key);
    g.emitted = true;
    const o = this.#o;
    const es = g.entries;
    if (es.length > 1 && !entriesSorted(es)) es.sort(compareEntries);
    // Runs of non-overlapping chunks: per replica (equal full labels, from any store), in order.
    const runs: (readonly AggrChunk[])[] = [];
    let j = 0;
    while (j < es.length) {
      const first = es[j]!;
      const full = first.full;
      let k = j + 1;
      while (k < es.length && es[k]!.full.equals(full)) k++;
      // The usual case: one frame of the replica whose chunks follow each other without overlap.
      // Sorting, dropping duplicates and splitting would return them as they are: one run, the
      // frame's own list (nothing changes it later).
      if (k === j + 1 && disjointInOrder(first.chunks)) {
        if (first.chunks.length > 0) runs.push(first.chunks);
        j = k;
        continue;
      }
      const replica: AggrChunk[] = [];
      for (; j < k; j++) for (const c of es[j]!.chunks) replica.push(c);
      // Chunks of one replica from several stores come in the order the stores were merged in;
      // ordered by their bytes where their ranges are equal, the runs (and so which chunk dedup
      // prefers) do not depend on it.
      if (replica.length > 1) replica.sort(compareChunks);
      for (const r of splitOverlapping(dedupChunks(replica))) runs.push(r);
    }
    this.#push(new StoreSeriesView(g.lset, runs, o.aggrs, o.mint, o.maxt, o.ctx, isCounterHint(o.func, g.lset)));
  }

  #push(v: StoreSeriesView): void {
    this.#ready.push(v);
  }

  #finish(): void {
    const rest = [...this.#groups.values()].sort((a, b) => Labels.compare(a.lset, b.lset));
    this.#heap.length = 0;
    for (const g of rest) this.#emitGroup(g);
    this.#done = true;
    this.#wake();
  }

  #fail(err: unknown): void {
    this.#err = err instanceof Error ? err : new Error(String(err));
    this.#done = true;
    this.#wake();
  }

  #wake(): void {
    this.#wakeConsumer?.();
    this.#wakeConsumer = undefined;
    this.#wakePump?.();
    this.#wakePump = undefined;
  }

  #heapPush(g: Group): void {
    const h = this.#heap;
    h.push(g);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#compareLasts(h[p]!, g) <= 0) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = g;
  }

  #heapPop(): Group {
    const h = this.#heap;
    const top = h[0]!;
    const x = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && this.#compareLasts(h[r]!, h[l]!) < 0 ? r : l;
        if (this.#compareLasts(x, h[c]!) <= 0) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = x;
    }
    return top;
  }

  next(): boolean {
    this.#active = true;
    if (this.#head < this.#ready.length) {
      this.#cur = this.#ready[this.#head];
      this.#ready[this.#head++] = undefined; // released: the consumer holds it now
      if (this.#head === this.#ready.length) {
        this.#ready = [];
        this.#head = 0;
      }
      if (this.#wakePump !== undefined && this.#ready.length - this.#head <= this.#maxBuffered >> 1) {
        this.#wakePump();
        this.#wakePump = undefined;
      }
      return true;
    }
    return false;
  }

  at(): StoreSeriesView {
    return this.#cur!;
  }

  err(): Error | null {
    return this.#head < this.#ready.length ? null : this.#err;
  }

  warnings(): Warnings {
    return this.#warnings;
  }

  done(): boolean {
    return this.#done && this.#head >= this.#ready.length;
  }

  more(): Promise<void> {
    if (this.#done || this.#head < this.#ready.length) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wakeConsumer = resolve;
    });
  }
}
