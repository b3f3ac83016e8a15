import type { SampleIterator } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import { ChainSampleIterator, type Series, type SeriesSet, type Warnings } from '../storage/index.js';
import { BoundedIterator } from './bounded-iterator.js';
import { isCounterHint } from './counter-hint.js';
import { DedupIterator } from './dedup-iterator.js';

/** DedupSeriesSetOptions configure DedupSeriesSet. */
export interface DedupSeriesSetOptions {
  /**
   * counter decides per merged series whether counter adjustment applies (DedupIterator). true or
   * false forces it; absent means isCounterHint(func, labels).
   */
  readonly counter?: boolean | ((lset: Labels) => boolean);
  /** func is the PromQL function around the selector (SelectHints.func), used by the counter hint. */
  readonly func?: string;
  /** mint/maxt bound every replica to the query range (inclusive ms) before merging. */
  readonly mint?: number;
  readonly maxt?: number;
  /**
   * algorithm is Thanos's --deduplication.func: 'penalty' (default, DedupIterator) or 'chain'
   * (merge all replicas, one sample per timestamp: for replicas with identical samples, such as
   * receive replication).
   */
  readonly algorithm?: 'penalty' | 'chain';
}

/**
 * DedupSeriesSet removes the replica labels from every series and merges the series that become
 * identical (the replicas of one series) with a DedupIterator.
 *
 * Input contract: `set` must be ordered so that series equal after removing the replica labels
 * are adjacent. The way to get this (as Thanos does with `without_replica_labels`) is to sort by
 * the labels without the replica labels first and by the replica labels last: compareForDedup.
 * A plain Labels.compare order does not guarantee it (`{a="1", replica="x", z="1"}` sorts between
 * two replicas of `{a="1", z="0"}`); a violation yields duplicate label sets in the output, never
 * wrong samples. The output is sorted by the stripped labels when the input follows the contract.
 *
 * Series returned by at() stay valid after next(). Groups of one series pass through with their
 * labels stripped and their samples untouched (apart from the mint/maxt bound).
 */
export class DedupSeriesSet implements SeriesSet {
  readonly #set: SeriesSet;
  readonly #replicaLabels: ReadonlySet<string>;
  readonly #opts: DedupSeriesSetOptions;
  #peek: Series | undefined;
  #peekLabels: Labels = Labels.EMPTY;
  #started = false;
  #cur: Series | undefined;

  constructor(set: SeriesSet, replicaLabels: ReadonlySet<string>, opts: DedupSeriesSetOptions = {}) {
    this.#set = set;
    this.#replicaLabels = replicaLabels;
    this.#opts = opts;
  }

  #pull(): void {
    if (this.#set.next()) {
      this.#peek = this.#set.at();
      this.#peekLabels = this.#peek.labels().without(this.#replicaLabels);
    } else {
      this.#peek = undefined;
    }
  }

  next(): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#pull();
    }
    const first = this.#peek;
    if (first === undefined) {
      this.#cur = undefined;
      return false;
    }
    const lset = this.#peekLabels;
    const group: Series[] = [first];
    this.#pull();
    while (this.#peek !== undefined && this.#peekLabels.equals(lset)) {
      group.push(this.#peek);
      this.#pull();
    }
    const c = this.#opts.counter;
    const counter = typeof c === 'boolean' ? c : typeof c === 'function' ? c(lset) : isCounterHint(this.#opts.func, lset);
    this.#cur = new DedupSeries(lset, group, counter, this.#opts.mint, this.#opts.maxt, this.#opts.algorithm ?? 'penalty');
    return true;
  }

  at(): Series {
    if (this.#cur === undefined) throw new RangeError('at() called without a current series');
    return this.#cur;
  }

  err(): Error | null {
    return this.#set.err();
  }

  warnings(): Warnings {
    return this.#set.warnings();
  }
}

/** DedupSeries is one merged series: its replicas read through a DedupIterator. */
export class DedupSeries implements Series {
  readonly #lset: Labels;
  readonly #replicas: readonly Series[];
  readonly #counter: boolean;
  readonly #mint: number | undefined;
  readonly #maxt: number | undefined;
  readonly #algorithm: 'penalty' | 'chain';

  constructor(lset: Labels, replicas: readonly Series[], counter: boolean, mint?: number, maxt?: number, algorithm: 'penalty' | 'chain' = 'penalty') {
    if (replicas.length === 0) throw new RangeError('DedupSeries needs at least one replica');
    this.#lset = lset;
    this.#replicas = replicas;
    this.#counter = counter;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#algorithm = algorithm;
  }

  labels(): Labels {
    return this.#lset;
  }

  /** replicas returns the number of merged replica series. */
  replicas(): number {
    return this.#replicas.length;
  }

  iterator(reuse?: SampleIterator): SampleIterator {
    const bound = this.#mint !== undefined || this.#maxt !== undefined;
    const mint = this.#mint ?? -Infinity;
    const maxt = this.#maxt ?? Infinity;
    if (this.#replicas.length === 1) {
      const it = this.#replicas[0]!.iterator(bound ? undefined : reuse);
      return bound ? new BoundedIterator(it, mint, maxt) : it;
    }
    const its = this.#replicas.map((s) => {
      const it = s.iterator();
      return bound ? new BoundedIterator(it, mint, maxt) : it;
    });
    if (this.#algorithm === 'chain') return new ChainSampleIterator(its);
    return new DedupIterator(its, { counter: this.#counter });
  }
}

/**
 * compareForDedup returns a comparator that sorts series the way DedupSeriesSet needs: by the
 * labels without the replica labels, then by the replica labels. It allocates per comparison;
 * sources that strip replica labels themselves (StoreAPI `without_replica_labels`) need no re-sort.
 */
export function compareForDedup(replicaLabels: ReadonlySet<string>): (a: Labels, b: Labels) => number {
  return (a, b) => Labels.compare(a.without(replicaLabels), b.without(replicaLabels)) || Labels.compare(a.keep(replicaLabels), b.keep(replicaLabels));
}
