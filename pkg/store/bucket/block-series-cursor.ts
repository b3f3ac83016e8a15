import type { IndexHeader } from '../../block/index.js';
import { Labels, LabelsBuilder, compareStrings, type Matcher } from '../../labels/index.js';
import type { IndexChunkMeta } from '../../tsdb/index.js';
import { withExternalLabels } from '../local-store.js';
import { abortReason } from '../store-error.js';
import { BucketBlock } from './bucket-block.js';
import type { DecodedSeries } from './index-cache.js';
import type { QueryBudget } from './query-budget.js';

/** CursorEntry is one series of a block with its final labels (external labels applied). */
export interface CursorEntry {
  readonly labels: Labels;
  readonly block: BucketBlock;
  readonly chunks: readonly IndexChunkMeta[];
}

/** Options of a BlockSeriesCursor. */
export interface BlockSeriesCursorOptions {
  readonly block: BucketBlock;
  /** matchers select the block's series (external-label matchers already removed). */
  readonly matchers: readonly Matcher[];
  readonly minTime: number;
  readonly maxTime: number;
  readonly skipChunks: boolean;
  /** batchSize is how many series entries are read from the bucket at once. */
  readonly batchSize: number;
  /** withoutReplicaLabels are dropped from the final labels when they are external labels. */
  readonly withoutReplicaLabels: ReadonlySet<string>;
  readonly budget: QueryBudget;
  readonly signal: AbortSignal;
}

/** Memory estimate for one expanded postings entry (a number in an array). */
const REF_BYTES = 8;

/**
 * BlockSeriesCursor streams the series of one block that match the request, sorted by their final
 * labels (the series' labels with the block's external labels added and replica labels removed),
 * reading series entries batch by batch, so a request holds one batch of series metadata per block
 * instead of all of them.
 *
 * Order: a block's series are sorted by their own labels. Adding the same external labels to every
 * series keeps that order, except between a series whose labels are a proper prefix of another's
 * (e.g. `up{a="1"}` and `up{a="1",b="2"}` with external label `c`: the longer one sorts first
 * afterwards). Such series are always adjacent runs ("families") in index order, so the cursor
 * buffers a run while an earlier series is a prefix of the next one and sorts the run by final
 * labels before emitting it; usually every run is one series. When a series has a label with the
 * name of an external label (which then overrides it, a misconfiguration Thanos warns about) the
 * order can change arbitrarily: the whole block is buffered and sorted, within the memory budget.
 *
 * Memory: expanded postings (8 bytes a series), the current batch of series entry bodies and any
 * buffered run are held in the request's QueryBudget; exceeding it fails with ResourceExhausted.
 * Call close() when done (also after an error) to release what is held.
 */
export class BlockSeriesCursor {
  readonly block: BucketBlock;
  readonly #o: BlockSeriesCursorOptions;
  #h: IndexHeader | undefined;
  #ext = Labels.EMPTY;
  #dropExt: string[] = [];
  #override = false;
  readonly #builder = new LabelsBuilder();
  #refs: readonly number[] = [];
  #refsHeld = 0;
  #refPos = 0;
  #entries: DecodedSeries[] = [];
  #entryPos = 0;
  #entriesHeld = 0;
  #run: { e: CursorEntry; raw: Labels; bytes: number }[] = [];
  readonly #stack: Labels[] = [];
  #nextRaw = Labels.EMPTY;
  #nextBytes = 0;
  #ready: CursorEntry[] = [];
  #readyPos = 0;
  #readyHeld = 0;
  #runHeld = 0;
  #ended = false;
  #closed = false;

  constructor(o: BlockSeriesCursorOptions) {
    this.#o = o;
    this.block = o.block;
  }

  /**
   * open expands the block's postings and loads the first series, so head() is set (undefined when
   * the block has no matching series with data in range).
   */
  async open(): Promise<void> {
    const { block: b, budget, signal } = this.#o;
    this.#h = await b.header(budget, signal);
    const refs = await b.expandedPostings(this.#o.matchers, budget, signal);
    budget.touch(refs.length);
    budget.hold(refs.length * REF_BYTES, `expanded postings of block ${b.ulid}`);
    this.#refs = refs;
    this.#refsHeld = refs.length * REF_BYTES;
    this.#dropExt = [...this.#o.withoutReplicaLabels].filter((n) => b.extLabels.has(n));
    this.#ext = this.#dropExt.length > 0 ? b.extLabels.without(this.#dropExt) : b.extLabels;
    const names = new Set(this.#h.reader.labelNames());
    b.extLabels.forEach((n) => {
      if (names.has(n)) this.#override = true;
    });
    await this.#fill();
  }

  /** head is the current series, or undefined once the cursor is exhausted. */
  head(): CursorEntry | undefined {
    return this.#ready[this.#readyPos];
  }

  /**
   * advance moves to the next series. Returns undefined when that was possible without I/O, or a
   * promise to await before calling head() again (also for errors, which it rejects with).
   */
  advance(): Promise<void> | undefined {
    this.#readyPos++;
    if (this.#readyPos < this.#ready.length) return undefined;
    try {
      return this.#fill();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** close releases everything the cursor holds in the budget. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.budget.release(this.#refsHeld + this.#entriesHeld + this.#runHeld + this.#readyHeld);
    this.#refsHeld = this.#entriesHeld = this.#runHeld = this.#readyHeld = 0;
    this.#refs = [];
    this.#entries = [];
    this.#run = [];
    this.#ready = [];
  }

  /**
   * Refills #ready with the next sorted run; leaves it empty at the end. Synchronous while the
   * batch of series entries read last lasts; a promise when the next batch must be read first.
   */
  #fill(): Promise<void> | undefined {
    this.#o.budget.release(this.#readyHeld);
    this.#readyHeld = 0;
    this.#ready.length = 0;
    this.#readyPos = 0;
    return this.#refill();
  }

  #refill(): Promise<void> | undefined {
    const o = this.#o;
    while (this.#ready.length === 0) {
      if (this.#ended) {
        if (this.#run.length === 0) {
          this.close();
          return undefined;
        }
        this.#flushRun();
        return undefined;
      }
      if (this.#entryPos >= this.#entries.length) {
        o.budget.release(this.#entriesHeld);
        this.#entriesHeld = 0;
        this.#entries = [];
        this.#entryPos = 0;
        if (this.#refPos >= this.#refs.length) {
          this.#ended = true;
          continue;
        }
        if (o.signal.aborted) throw abortReason(o.signal);
        return this.#readEntries().then(() => this.#refill());
      }
      const e = this.#next();
      if (e === undefined) continue;
      const raw = this.#nextRaw;
      const bytes = this.#nextBytes;
      // Drop runs of earlier series that are not a prefix of this one; when none is left, no
      // earlier series can change place with this or any later one: the run is complete.
      const st = this.#stack;
      while (st.length > 0 && !isProperPrefix(st[st.length - 1]!, raw)) st.pop();
      if (st.length === 0 && !this.#override && this.#run.length > 0) this.#flushRun();
      st.push(raw);
      if (this.#run.length > 0) {
        // A series kept for sorting beyond the first one of its run is held in the budget.
        o.budget.hold(bytes, `series of block ${this.block.ulid} buffered for sorting`);
        this.#runHeld += bytes;
      }
      this.#run.push({ e, raw, bytes });
    }
    return undefined;
  }

  /** Moves the current run, sorted by final labels, to #ready. */
  #flushRun(): void {
    const run = this.#run;
    this.#run = [];
    if (run.length > 1) run.sort((a, b) => Labels.compare(a.e.labels, b.e.labels));
    for (const r of run) this.#ready.push(r.e);
    this.#readyPos = 0;
    this.#readyHeld = this.#runHeld;
    this.#runHeld = 0;
  }

  /** Reads the next batch of series entries (the cursor has used up the last one). */
  async #readEntries(): Promise<void> {
    const o = this.#o;
    const end = Math.min(this.#refs.length, this.#refPos + o.batchSize);
    const refs = this.#refs.slice(this.#refPos, end);
    const entries = await this.block.seriesEntries(refs, o.budget, o.signal, this.#refs[end]);
    // Held as the entries' bodies were (decoded entries in the index cache are shared).
    let n = 0;
    for (const e of entries) n += e.bodyBytes;
    o.budget.hold(n, `series of block ${this.block.ulid}`);
    this.#entriesHeld = n;
    this.#entries = entries;
    this.#refPos = end;
  }

  /**
   * Takes the next entry of the batch read: its CursorEntry when it has data in range (its labels
   * without external labels in #nextRaw, its size in #nextBytes), else undefined.
   */
  #next(): CursorEntry | undefined {
    const o = this.#o;
    const d = this.#entries[this.#entryPos++]!;
    const chunks = BucketBlock.selectChunks(d, o.minTime, o.maxTime, o.skipChunks);
    if (chunks === undefined) return undefined;
    let labels: Labels;
    if (this.#override) {
      const full = withExternalLabels(this.#builder, d.labels, this.block.extLabels);
      labels = this.#dropExt.length > 0 ? full.without(this.#dropExt) : full;
    } else if (this.#dropExt.length === 0) {
      // The same for every request: memoized on the shared entry.
      labels = d.withExt ??= insertLabels(d.labels, this.#ext);
    } else {
      labels = insertLabels(d.labels, this.#ext);
    }
    this.#nextRaw = d.labels;
    this.#nextBytes = d.bodyBytes;
    return { labels, block: this.block, chunks };
  }
}

/** isProperPrefix reports whether a's labels are the first labels of b and b has more. */
export function isProperPrefix(a: Labels, b: Labels): boolean {
  const x = a.flat();
  const y = b.flat();
  if (x.length >= y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** insertLabels merges ext into ls; no name of ext may be in ls. */
function insertLabels(ls: Labels, ext: Labels): Labels {
  if (ext.isEmpty()) return ls;
  const a = ls.flat();
  const b = ext.flat();
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    if (compareStrings(a[i]!, b[j]!) < 0) {
      out[k++] = a[i++]!;
      out[k++] = a[i++]!;
    } else {
      out[k++] = b[j++]!;
      out[k++] = b[j++]!;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return Labels.fromSortedFlat(out);
}
