import { CUSTOM_BUCKETS_SCHEMA, type ChunkMeta } from '../../chunkenc/index.js';
import { Encbuf } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';
import type { FloatHistogram } from '../../histogram/index.js';
import { compareStrings, Labels, type Matcher } from '../../labels/index.js';
import {
  AppendErrorCode,
  ArraySeriesSet,
  ChunkListIterator,
  type Appendable,
  type Appender,
  type ChunkQuerier,
  type ChunkQueryable,
  type ChunkSeries,
  type LabelHints,
  type LabelResult,
  type Querier,
  type Queryable,
  type Series,
  type SeriesRef,
} from '../../storage/index.js';
import { expandPostings, postingsForMatchers } from '../index/index.js';
import { encodeFloatHistogramRecord, encodeSamplesRecord, encodeSeriesRecord } from '../wal/index.js';
import { HeadAppender, type AppenderHost, type PendingBatch } from './head-appender.js';
import { MemPostings } from './mem-postings.js';
import { MemSeries, type ChunkOpts } from './mem-series.js';

/** HeadLog is where a head writes its records before applying a commit (a WAL). */
export interface HeadLog {
  /** log writes the records in order; resolves once they are written (durability is the log's). */
  log(records: readonly Uint8Array[]): Promise<void>;
}

/** HeadOptions configure a Head. */
export interface HeadOptions {
  /** chunkRange is the window chunks never span, in ms (default 2h; the block duration). */
  readonly chunkRange?: number;
  /** samplesPerChunk is the target number of samples per XOR chunk (default 120). */
  readonly samplesPerChunk?: number;
  /** log receives the Series/Samples/FloatHistogramSamples records of each commit before it is applied. */
  readonly log?: HeadLog;
  /** onCommit is called after each non-empty commit was applied (synchronously, before commit() resolves). */
  readonly onCommit?: () => void;
}

/** HeadChunkSeries is one series' chunks inside a time range, as handed to a block writer. */
export interface HeadChunkSeries {
  readonly ref: number;
  readonly labels: Labels;
  readonly chunks: readonly ChunkMeta[];
}

const TWO_HOURS = 2 * 3600 * 1000;

function validLabels(l: Labels): boolean {
  const n = l.size;
  if (n === 0) return false;
  for (let i = 1; i < n; i++) if (compareStrings(l.nameAt(i - 1), l.nameAt(i)) >= 0) return false;
  for (let i = 0; i < n; i++) if (l.nameAt(i) === '' || l.valueAt(i) === '') return false;
  return true;
}

/**
 * Head is the in-memory part of a TSDB (Prometheus's Head): series keyed by labels with numeric
 * references, an inverted index, and samples cut into XOR / float histogram chunks as Prometheus
 * cuts them (MemSeries). It is an Appendable (commits are applied one at a time, after their
 * records were written to the log when one is configured) and a ChunkQueryable / Queryable
 * (queriers see what was committed before they were opened; the open chunk is copied).
 */
export class Head implements Appendable, ChunkQueryable, Queryable, AppenderHost {
  readonly #opts: ChunkOpts;
  readonly #log: HeadLog | undefined;
  readonly #onCommit: (() => void) | undefined;
  readonly #byKey = new Map<string, MemSeries>();
  readonly #byRef = new Map<number, MemSeries>();
  readonly #postings = new MemPostings();
  #nextRef = 1;
  #minTime = Infinity;
  #maxTime = -Infinity;
  #minValidTime = -Infinity;
  #truncatedBefore = -Infinity;
  readonly #openAppenders = new Set<HeadAppender>();
  #appenderWaiters: { readonly maxt: number; readonly resolve: () => void }[] = [];
  #commits: Promise<void> = Promise.resolve();
  readonly #buf = new Encbuf(1 << 16);
  #numSamples = 0;

  constructor(opts: HeadOptions = {}) {
    this.#opts = { chunkRange: opts.chunkRange ?? TWO_HOURS, samplesPerChunk: opts.samplesPerChunk ?? 120 };
    this.#log = opts.log;
    this.#onCommit = opts.onCommit;
  }

  /** chunkRange is the head's chunk range in ms. */
  get chunkRange(): number {
    return this.#opts.chunkRange;
  }

  /** numSeries is the number of series held (including series without samples yet). */
  get numSeries(): number {
    return this.#byRef.size;
  }

  /** numSamples counts samples applied since the head was created (replayed ones included). */
  get numSamples(): number {
    return this.#numSamples;
  }

  /** minTime/maxTime bound the committed samples (Infinity/-Infinity when empty). */
  minTime(): number {
    return this.#minTime;
  }

  maxTime(): number {
    return this.#maxTime;
  }

  /** minValidTime is the oldest timestamp still accepted (set by truncate; -Infinity at first). */
  minValidTime(): number {
    return this.#minValidTime;
  }

  /** appendableMinValidTime: max(minValidTime, maxTime − chunkRange/2), Prometheus's bound for appends. */
  appendableMinValidTime(): number {
    return Math.max(this.#minValidTime, this.#maxTime - this.#opts.chunkRange / 2);
  }

  appender(): Appender {
    return new HeadAppender(this);
  }

  appenderOpened(a: HeadAppender): void {
    this.#openAppenders.add(a);
  }

  appenderClosed(a: HeadAppender): void {
    this.#openAppenders.delete(a);
    if (this.#appenderWaiters.length > 0) {
      this.#appenderWaiters = this.#appenderWaiters.filter((w) => {
        if (this.#holdsBefore(w.maxt)) return true;
        w.resolve();
        return false;
      });
    }
  }

  #holdsBefore(maxt: number): boolean {
    for (const a of this.#openAppenders) if (a.minPendingTime < maxt) return true;
    return false;
  }

  /** hasAppendersBefore tells whether an open appender holds a sample before maxt. */
  hasAppendersBefore(maxt: number): boolean {
    return this.#holdsBefore(maxt);
  }

  /**
   * waitForAppenders resolves once no open appender holds a sample before maxt: each such
   * appender committed (and its commit was applied or failed) or rolled back. It is Prometheus's
   * WaitForAppendersOverlapping: after raiseMinValidTime(maxt) no appender can take a sample
   * before maxt any more, so once this resolves the head's content before maxt is final and can be
   * cut into a block and truncated without losing a sample appended before the cut and committed
   * after it. Do not await it while holding such an appender yourself; stopWaiting() releases it.
   */
  waitForAppenders(maxt: number): Promise<void> {
    if (!this.#holdsBefore(maxt)) return Promise.resolve();
    return new Promise((resolve) => this.#appenderWaiters.push({ maxt, resolve }));
  }

  /** stopWaiting resolves every pending waitForAppenders (the caller then must not truncate; used on close). */
  stopWaiting(): void {
    const ws = this.#appenderWaiters;
    this.#appenderWaiters = [];
    for (const w of ws) w.resolve();
  }

  /** getOrCreate returns the series of ref when it has these labels, else looks the labels up, creating the series. */
  getOrCreate(ref: SeriesRef, labels: Labels): MemSeries {
    if (ref !== 0) {
      const s = this.#byRef.get(ref);
      if (s !== undefined && (s.labels === labels || s.labels.equals(labels))) return s;
    }
    const key = labels.key();
    const s = this.#byKey.get(key);
    if (s !== undefined) return s;
    if (!validLabels(labels)) throw new TesseraError(AppendErrorCode.InvalidLabels, `append to series ${labels.toString()}: labels are empty, unsorted, repeat a name or hold an empty name or value`);
    return this.#create(this.#nextRef++, labels, key);
  }

  #create(ref: number, labels: Labels, key: string): MemSeries {
    const s = new MemSeries(ref, labels);
    this.#byKey.set(key, s);
    this.#byRef.set(ref, s);
    this.#postings.add(ref, labels);
    if (ref >= this.#nextRef) this.#nextRef = ref + 1;
    return s;
  }

  /** series returns the series of a reference. */
  series(ref: SeriesRef): MemSeries | undefined {
    return this.#byRef.get(ref);
  }

  commitBatch(batch: PendingBatch): Promise<void> {
    const run = this.#commits.then(() => this.#commit(batch));
    this.#commits = run.catch(() => undefined);
    return run;
  }

  async #commit(b: PendingBatch): Promise<void> {
    if (b.n === 0) return;
    const floor = this.#truncatedBefore;
    if (floor > -Infinity) {
      // The head no longer holds data before a truncation point (it went into a block): a sample
      // there would be neither in the head nor in the block. Tsdb waits for such appenders before
      // it truncates (waitForAppenders), so this only fires for a head truncated without waiting.
      let refused = 0;
      let first = 0;
      for (let i = 0; i < b.n; i++) {
        if (b.t[i]! < floor && refused++ === 0) first = i;
      }
      if (refused > 0) {
        throw new TesseraError(
          AppendErrorCode.OutOfBounds,
          `commit ${b.n} samples to the head: ${refused} are before ${floor}, where the head was truncated (first: ${b.series[first]!.labels.toString()} at ${b.t[first]!}); nothing was committed`,
        );
      }
    }
    if (this.#log !== undefined) {
      const fresh = new Set<MemSeries>();
      for (let i = 0; i < b.n; i++) if (!b.series[i]!.logged) fresh.add(b.series[i]!);
      await this.#log.log(this.#records(b, fresh));
      // Only once the Series record is in the log: a failed write leaves them to the next commit.
      for (const s of fresh) s.logged = true;
    }
    for (let i = 0; i < b.n; i++) {
      const h = b.hist[i];
      if (h === undefined) this.#applyFloat(b.series[i]!, b.t[i]!, b.v[i]!);
      else this.#applyHistogram(b.series[i]!, b.t[i]!, h);
    }
    this.#onCommit?.();
  }

  /**
   * #records encodes a batch as WAL records: a Series record for series not logged yet, then one
   * Samples or FloatHistogramSamples record per run of same-kind samples (so replay keeps the
   * append order when a series switches kind inside a batch); large runs are split.
   */
  #records(b: PendingBatch, fresh: ReadonlySet<MemSeries>): Uint8Array[] {
    const recs: Uint8Array[] = [];
    const buf = this.#buf;
    if (fresh.size > 0) {
      buf.reset();
      encodeSeriesRecord(buf, [...fresh]);
      recs.push(buf.get().slice());
    }
    const refs = new Float64Array(b.n);
    for (let i = 0; i < b.n; i++) refs[i] = b.series[i]!.ref;
    const MAX_RUN = 40_000;
    let i = 0;
    while (i < b.n) {
      const isHist = b.hist[i] !== undefined;
      let j = i + 1;
      while (j < b.n && j - i < MAX_RUN && (b.hist[j] !== undefined) === isHist) j++;
      buf.reset();
      if (!isHist) {
        encodeSamplesRecord(buf, refs, b.t, b.v, i, j);
        recs.push(buf.get().slice());
      } else {
        for (const custom of [false, true]) {
          const r: number[] = [];
          const ts: number[] = [];
          const hs: FloatHistogram[] = [];
          for (let k = i; k < j; k++) {
            const h = b.hist[k]!;
            if ((h.schema === CUSTOM_BUCKETS_SCHEMA) !== custom) continue;
            r.push(refs[k]!);
            ts.push(b.t[k]!);
            hs.push(h);
          }
          if (r.length === 0) continue;
          buf.reset();
          encodeFloatHistogramRecord(buf, custom, r, ts, hs);
          recs.push(buf.get().slice());
        }
      }
      i = j;
    }
    return recs;
  }

  #applyFloat(s: MemSeries, t: number, v: number): void {
    if (!s.appendFloat(t, v, this.#opts)) return;
    this.#numSamples++;
    if (t < this.#minTime) this.#minTime = t;
    if (t > this.#maxTime) this.#maxTime = t;
  }

  #applyHistogram(s: MemSeries, t: number, h: FloatHistogram): void {
    if (!s.appendHistogram(t, h, this.#opts)) return;
    this.#numSamples++;
    if (t < this.#minTime) this.#minTime = t;
    if (t > this.#maxTime) this.#maxTime = t;
  }

  /**
   * replaySeries / replaySample / replayHistogram load WAL content without logging it: series keep
   * their logged reference (a second record for known labels maps to the existing series);
   * samples of unknown references, out of order or before minValidTime are skipped (false).
   */
  replaySeries(ref: number, labels: Labels): MemSeries {
    const key = labels.key();
    const s = this.#byKey.get(key) ?? this.#create(ref, labels, key);
    s.logged = true;
    return s;
  }

  replaySample(s: MemSeries, t: number, v: number): boolean {
    if (t < this.#minValidTime) return false;
    const before = this.#numSamples;
    this.#applyFloat(s, t, v);
    return this.#numSamples !== before;
  }

  replayHistogram(s: MemSeries, t: number, h: FloatHistogram): boolean {
    if (t < this.#minValidTime) return false;
    const before = this.#numSamples;
    this.#applyHistogram(s, t, h);
    return this.#numSamples !== before;
  }

  /** waitForCommits resolves once every commit started so far has been applied or failed. */
  waitForCommits(): Promise<void> {
    return this.#commits;
  }

  /**
   * seriesInRange returns, sorted by labels, every series with chunks inside [mint, maxt) and those
   * chunks (the open chunk copied). Used to write a block.
   */
  seriesInRange(mint: number, maxt: number): HeadChunkSeries[] {
    const out: HeadChunkSeries[] = [];
    for (const s of this.#byRef.values()) {
      const chunks = s.chunksIn(mint, maxt - 1);
      if (chunks.length > 0) out.push({ ref: s.ref, labels: s.labels, chunks });
    }
    return out.sort((a, b) => Labels.compare(a.labels, b.labels));
  }

  /**
   * raiseMinValidTime makes samples before t unacceptable to append() (OutOfBounds); samples
   * appenders already hold are still applied at their commit (see waitForAppenders).
   */
  raiseMinValidTime(t: number): void {
    if (t > this.#minValidTime) this.#minValidTime = t;
  }

  /**
   * truncate drops every chunk ending before mint, raises minValidTime to mint, and forgets series
   * left without samples and without a pending append. A later commit holding a sample before mint
   * is refused whole with OutOfBounds (call waitForAppenders(mint) first to avoid that). It returns how many series and chunks it removed.
   */
  truncate(mint: number): { removedSeries: number; removedChunks: number } {
    if (mint > this.#minValidTime) this.#minValidTime = mint;
    if (mint > this.#truncatedBefore) this.#truncatedBefore = mint;
    const removed = new Set<number>();
    let removedChunks = 0;
    let minTime = Infinity;
    for (const s of this.#byRef.values()) {
      removedChunks += s.truncateBefore(mint);
      if (s.isEmpty()) {
        if (s.pendingAppenders === 0) removed.add(s.ref);
      } else minTime = Math.min(minTime, s.minTime());
    }
    this.#postings.delete(removed, (r) => this.#byRef.get(r)?.labels);
    for (const r of removed) {
      const s = this.#byRef.get(r)!;
      this.#byRef.delete(r);
      this.#byKey.delete(s.labels.key());
    }
    this.#minTime = minTime;
    return { removedSeries: removed.size, removedChunks };
  }

  /** allSeries iterates every series (for checkpoints). */
  allSeries(): IterableIterator<MemSeries> {
    return this.#byRef.values();
  }

  #select(mint: number, maxt: number, matchers: readonly Matcher[]): { s: MemSeries; chunks: ChunkMeta[] }[] {
    const refs = expandPostings(postingsForMatchers(this.#postings, matchers));
    const out: { s: MemSeries; chunks: ChunkMeta[] }[] = [];
    for (const r of refs) {
      const s = this.#byRef.get(r);
      if (s === undefined) continue;
      const chunks = s.chunksIn(mint, maxt);
      if (chunks.length > 0) out.push({ s, chunks });
    }
    return out.sort((a, b) => Labels.compare(a.s.labels, b.s.labels));
  }

  /** #matching returns the series matching every matcher that hold samples overlapping [mint, maxt] (no chunk copies). */
  #matching(mint: number, maxt: number, matchers: readonly Matcher[]): MemSeries[] {
    const out: MemSeries[] = [];
    const inRange = (s: MemSeries) => !s.isEmpty() && s.minTime() <= maxt && s.lastT >= mint;
    if (matchers.length === 0) {
      for (const s of this.#byRef.values()) if (inRange(s)) out.push(s);
      return out;
    }
    for (const r of expandPostings(postingsForMatchers(this.#postings, matchers))) {
      const s = this.#byRef.get(r);
      if (s !== undefined && inRange(s)) out.push(s);
    }
    return out;
  }

  #labelNames(mint: number, maxt: number, matchers: readonly Matcher[], hints?: LabelHints): LabelResult {
    const names = new Set<string>();
    for (const s of this.#matching(mint, maxt, matchers)) s.labels.forEach((n) => names.add(n));
    return limited(names, hints);
  }

  #labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[], hints?: LabelHints): LabelResult {
    const values = new Set<string>();
    for (const s of this.#matching(mint, maxt, matchers)) {
      const v = s.labels.get(name);
      if (v !== '') values.add(v);
    }
    return limited(values, hints);
  }

  chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    const q: ChunkQuerier = {
      select: (_sort, _hints, matchers) => {
        const items: ChunkSeries[] = this.#select(mint, maxt, matchers).map(({ s, chunks }) => ({ labels: () => s.labels, chunks: () => chunks }));
        return Promise.resolve(new ArraySeriesSet<ChunkSeries>(items));
      },
      labelNames: (matchers, hints) => Promise.resolve(this.#labelNames(mint, maxt, matchers, hints)),
      labelValues: (name, matchers, hints) => Promise.resolve(this.#labelValues(name, mint, maxt, matchers, hints)),
      close: () => Promise.resolve(),
    };
    return Promise.resolve(q);
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    const q: Querier = {
      select: (_sort, _hints, matchers) => {
        const items: Series[] = this.#select(mint, maxt, matchers).map(({ s, chunks }) => {
          const list = chunks.map((c) => c.chunk);
          return {
            labels: () => s.labels,
            iterator: (reuse) => (reuse instanceof ChunkListIterator ? reuse : new ChunkListIterator()).reset(list, mint, maxt),
          };
        });
        return Promise.resolve(new ArraySeriesSet<Series>(items));
      },
      labelNames: (matchers, hints) => Promise.resolve(this.#labelNames(mint, maxt, matchers, hints)),
      labelValues: (name, matchers, hints) => Promise.resolve(this.#labelValues(name, mint, maxt, matchers, hints)),
      close: () => Promise.resolve(),
    };
    return Promise.resolve(q);
  }
}

function limited(set: Set<string>, hints?: LabelHints): LabelResult {
  const values = [...set].sort(compareStrings);
  return { values: hints?.limit ? values.slice(0, hints.limit) : values, warnings: [] };
}
