import type { ChunkMeta, SampleIterator } from '../chunkenc/index.js';
import type { Labels, Matcher } from '../labels/index.js';

/**
 * SelectHints describe what the caller will do with the selected data, so a source can avoid work.
 * Times are inclusive milliseconds. Sources may return more data than asked (whole chunks that
 * overlap [start, end]); callers must not rely on trimming.
 */
export interface SelectHints {
  /** start and end bound the samples needed (inclusive). */
  readonly start: number;
  readonly end: number;
  /** step of a range query in ms; 0 for instant queries. */
  readonly step?: number;
  /** func is the PromQL function wrapping the selector, e.g. "rate"; "series" for metadata only. */
  readonly func?: string;
  /** range of the matrix selector in ms, 0 for a vector selector. */
  readonly range?: number;
  /** grouping labels of a surrounding aggregation and whether they are `by` (true) or `without`. */
  readonly grouping?: readonly string[];
  readonly by?: boolean;
  /** disableTrimming asks sources not to cut chunks to [start, end]. */
  readonly disableTrimming?: boolean;
}

/** LabelHints limit label name/value lookups. limit 0 or absent means unlimited. */
export interface LabelHints {
  readonly limit?: number;
}

/** Warnings are data, never exceptions: a source reports partial problems here. */
export type Warnings = readonly string[];

/** LabelResult is the answer of a label names or values lookup: sorted, unique strings. */
export interface LabelResult {
  readonly values: readonly string[];
  readonly warnings: Warnings;
}

/** Options common to querier calls. signal aborts the work; the call then rejects. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /**
   * incremental lets select return an IncrementalSet (a set filled while it is iterated, e.g. from
   * a network stream); sources may ignore it. Only callers that drive IncrementalSet pass it.
   */
  readonly incremental?: boolean;
}

/**
 * IncrementalSet is a SeriesSet or ChunkSeriesSet that receives its series while it is iterated,
 * so a consumer can work on the first series while later ones are still arriving. It keeps the
 * SeriesSet contract (synchronous pull, series stay valid) with one addition: next() returning
 * false with err() null only means "none buffered now" while done() is false; the consumer then
 * awaits more() (resolved once next() may return true again, or the set has ended or failed) and
 * calls next() again. Sources return one only when CallOptions.incremental is true; closing the
 * querier stops the stream.
 */
export interface IncrementalSet {
  /** done reports whether the set has ended (every series delivered) or failed. */
  done(): boolean;
  more(): Promise<void>;
}

/**
 * LabelQuerier answers label lookups over the querier's time range. Results are sorted by UTF-8
 * bytes and unique. With matchers, only labels of series matching all of them are considered.
 */
export interface LabelQuerier {
  labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult>;
  labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult>;
  /** close releases resources; series sets obtained from the querier stay valid until close. */
  close(): Promise<void>;
}

/**
 * Querier selects series from a source over a fixed time range (the one given to Queryable).
 *
 * select is the only asynchronous step of the query stack: it does the I/O and returns a series set
 * that is then iterated synchronously. When sortSeries is true the set is sorted by labels
 * (Labels.compare) with unique label sets; when false the order is unspecified but sources may
 * still sort. At least one matcher is given; matchers that match the empty string also match series
 * without the label.
 */
export interface Querier extends LabelQuerier {
  select(sortSeries: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<SeriesSet>;
}

/** Queryable opens queriers over a time range [mint, maxt] (inclusive, ms). */
export interface Queryable {
  querier(mint: number, maxt: number): Promise<Querier>;
}

/** ChunkQuerier is like Querier but yields encoded chunks rather than samples (for StoreAPI). */
export interface ChunkQuerier extends LabelQuerier {
  select(sortSeries: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<ChunkSeriesSet>;
}

/** ChunkQueryable opens chunk queriers. */
export interface ChunkQueryable {
  chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier>;
}

/**
 * SeriesSet is a synchronous pull iterator over series.
 *
 * Contract:
 * - next() advances; false at the end or on error (then err() is non-null). at() is only valid
 *   after next() returned true.
 * - A Series returned by at() stays valid and iterable after next() is called again, and until the
 *   querier that produced it is closed.
 * - warnings() may grow while iterating; read it after next() returned false.
 */
export interface SeriesSet {
  next(): boolean;
  at(): Series;
  err(): Error | null;
  warnings(): Warnings;
}

/**
 * Series is one time series: its labels and its samples in increasing time order.
 * iterator(reuse) returns a fresh iterator positioned before the first sample; when reuse is an
 * iterator obtained from a compatible series earlier, it is reset and returned instead of allocating.
 */
export interface Series {
  labels(): Labels;
  iterator(reuse?: SampleIterator): SampleIterator;
}

/** ChunkSeriesSet is a SeriesSet of ChunkSeries, with the same contract. */
export interface ChunkSeriesSet {
  next(): boolean;
  at(): ChunkSeries;
  err(): Error | null;
  warnings(): Warnings;
}

/**
 * ChunkSeries is one series as encoded chunks ordered by minTime. Chunks may overlap only when the
 * source says so (e.g. overlapping blocks); consumers that need samples merge them.
 */
export interface ChunkSeries {
  labels(): Labels;
  chunks(): Iterable<ChunkMeta>;
}
