import type { FloatHistogram } from '../histogram/index.js';
import type { Labels, Matcher } from '../labels/index.js';
import type { ShardInfo } from '../storepb/index.js';

/**
 * QueryOptions are the per-request options the API parsed and hands to the engine. Times and
 * durations are milliseconds. The Thanos fields are undefined when the request did not set them,
 * so the querier applies its own defaults (e.g. `dedup` true, `partialResponse` from its flag).
 */
export interface QueryOptions {
  /** signal aborts when the client goes away or the request timeout fires. */
  readonly signal: AbortSignal;
  /** timeout is the request's `timeout` parameter (ms), already applied to signal. */
  readonly timeout?: number;
  /** lookbackDelta overrides the engine's lookback (ms). */
  readonly lookbackDelta?: number;
  /** limit caps the number of returned series (0 or undefined = unlimited). */
  readonly limit?: number;
  /** stats asks for data.stats ("true", "all", or any other non-empty value). */
  readonly stats?: string;
  /** Thanos `dedup`. */
  readonly dedup?: boolean;
  /** Thanos `partial_response`. */
  readonly partialResponse?: boolean;
  /** Thanos `max_source_resolution` in ms, or "auto". */
  readonly maxSourceResolution?: number | 'auto';
  /** Thanos `replicaLabels[]`. */
  readonly replicaLabels?: readonly string[];
  /** Thanos `storeMatch[]`, parsed into matcher sets. */
  readonly storeMatchers?: readonly (readonly Matcher[])[];
  /** Thanos `engine` (prometheus | thanos); informational. */
  readonly engine?: string;
  /**
   * Thanos `shard_info` (JSON of thanos.ShardInfo, sent by a query-frontend with vertical shards):
   * only the series of this shard are read.
   */
  readonly shardInfo?: ShardInfo;
}

/** VectorElement is one sample of an instant vector: a float `f`, or a histogram `h` when set. */
export interface VectorElement {
  readonly metric: Labels;
  readonly t: number;
  readonly f: number;
  readonly h?: FloatHistogram | undefined;
}

/**
 * MatrixSeries is one series of a range result as parallel arrays (no object per sample): float
 * samples at `ts[i]` with value `fs[i]`, histogram samples at `hts[i]` with `hs[i]`. Both lists are
 * in increasing time order.
 */
export interface MatrixSeries {
  readonly metric: Labels;
  readonly ts: ArrayLike<number>;
  readonly fs: ArrayLike<number>;
  readonly hts?: ArrayLike<number>;
  readonly hs?: readonly FloatHistogram[];
}

/** QueryValue is the result of a query, tagged by Prometheus's resultType. */
export type QueryValue =
  | { readonly resultType: 'vector'; readonly result: readonly VectorElement[] }
  | { readonly resultType: 'matrix'; readonly result: readonly MatrixSeries[] }
  | { readonly resultType: 'scalar'; readonly result: { readonly t: number; readonly v: number } }
  | { readonly resultType: 'string'; readonly result: { readonly t: number; readonly v: string } };

/**
 * QueryResult is what the engine resolves to: the value plus annotations (warnings are shown to
 * users; infos are Prometheus 3's informational annotations) and, when asked for, stats (any
 * JSON-serialisable object, written as `data.stats`).
 */
export type QueryResult = QueryValue & {
  readonly warnings?: readonly string[];
  readonly infos?: readonly string[];
  readonly stats?: unknown;
};

/**
 * QueryEngine evaluates PromQL for the HTTP API. The API knows nothing about stores: the querier
 * wires an implementation over the real engine.
 *
 * Errors: reject with an error whose `errorType` ('bad_data' | 'execution' | 'timeout' |
 * 'canceled' | 'internal' | 'unavailable' | ...) or stable `code` tells how to report it (see
 * toApiError). A PromQL parse error (ParseError, a SyntaxError) is reported as
 * `invalid parameter "query": <message>`. When `signal` aborts, reject (a canceled error).
 */
export interface QueryEngine {
  /** instantQuery evaluates expr at timeMs. */
  instantQuery(expr: string, timeMs: number, opts: QueryOptions): Promise<QueryResult>;
  /** rangeQuery evaluates expr at start, start+step, … ≤ end (ms). */
  rangeQuery(expr: string, start: number, end: number, step: number, opts: QueryOptions): Promise<QueryResult>;
}

/** SeriesSourceOptions are the metadata request options: limit plus the Thanos extras. */
export interface SeriesSourceOptions {
  readonly signal: AbortSignal;
  /** limit is the client's limit + 1 (so the API can tell truncation), or 0 for unlimited. */
  readonly limit: number;
  readonly dedup?: boolean;
  readonly partialResponse?: boolean;
  readonly replicaLabels?: readonly string[];
  readonly storeMatchers?: readonly (readonly Matcher[])[];
}

/** SeriesResult lists series label sets (sorted, unique) with warnings. */
export interface SeriesResult {
  readonly series: readonly Labels[];
  readonly warnings?: readonly string[];
}

/** LabelsResult lists label names or values (sorted, unique) with warnings. */
export interface LabelsResult {
  readonly values: readonly string[];
  readonly warnings?: readonly string[];
}

/**
 * SeriesSource answers the metadata endpoints over [start, end] (inclusive ms). `matcherSets`
 * holds one matcher list per `match[]` parameter; a series qualifies when it matches any set (an
 * empty list of sets means all series, only allowed for labels and values). Results must be sorted
 * and unique; the API truncates to the client's limit. Errors map like QueryEngine's.
 */
export interface SeriesSource {
  series(matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<SeriesResult>;
  labelNames(matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<LabelsResult>;
  labelValues(name: string, matcherSets: readonly (readonly Matcher[])[], start: number, end: number, opts: SeriesSourceOptions): Promise<LabelsResult>;
}

/** MetricMetadata is one entry of /api/v1/metadata. */
export interface MetricMetadata {
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** MetadataSource answers /api/v1/metadata (e.g. from the stores' Metadata API). */
export interface MetadataSource {
  /** metadata returns family name → entries; limit < 0 = unlimited, limitPerMetric likewise. */
  metadata(metric: string | undefined, limit: number, limitPerMetric: number, signal: AbortSignal): Promise<{ readonly data: Readonly<Record<string, readonly MetricMetadata[]>>; readonly warnings?: readonly string[] }>;
}
