import type { Labels } from '../labels/index.js';

/**
 * TypeScript shapes of the Thanos StoreAPI and Info messages (proto/store/storepb/*.proto,
 * proto/info/infopb/rpc.proto). Field names are the proto names in camelCase. int64 fields are
 * numbers (exact below 2^53; MaxInt64 decodes as 2^63 and encodes back as MaxInt64). Label lists
 * are `Labels` (sorted, unique names).
 */

/** ChunkType is thanos.Chunk.Encoding: the TSDB encoding byte minus one. */
export const ChunkType = { XOR: 0, HISTOGRAM: 1, FLOAT_HISTOGRAM: 2 } as const;
export type ChunkType = (typeof ChunkType)[keyof typeof ChunkType];

/** Aggr is thanos.Aggr, the aggregate of a downsampled chunk. */
export const Aggr = { RAW: 0, COUNT: 1, SUM: 2, MIN: 3, MAX: 4, COUNTER: 5 } as const;
export type Aggr = (typeof Aggr)[keyof typeof Aggr];

/** PartialResponseStrategy is thanos.PartialResponseStrategy. */
export const PartialResponseStrategy = { WARN: 0, ABORT: 1 } as const;
export type PartialResponseStrategy = (typeof PartialResponseStrategy)[keyof typeof PartialResponseStrategy];

/** StoreType is the legacy thanos.StoreType of Store.Info. */
export const StoreType = { UNKNOWN: 0, QUERY: 1, RULE: 2, SIDECAR: 3, STORE: 4, RECEIVE: 5, DEBUG: 6 } as const;
export type StoreType = (typeof StoreType)[keyof typeof StoreType];

/**
 * StoreChunk is thanos.Chunk. `data` is the chunk payload; after decoding it is a view into the
 * received message buffer (never copied). The uint64 `hash` is carried as two unsigned 32-bit
 * halves so it passes through unchanged without BigInt; both 0 means "not computed".
 */
export interface StoreChunk {
  readonly type: ChunkType;
  readonly data: Uint8Array;
  readonly hashHi: number;
  readonly hashLo: number;
}

/** AggrChunk is thanos.AggrChunk: a raw chunk (`raw`) or downsampled aggregates over [minTime, maxTime]. */
export interface AggrChunk {
  readonly minTime: number;
  readonly maxTime: number;
  readonly raw?: StoreChunk | undefined;
  readonly count?: StoreChunk | undefined;
  readonly sum?: StoreChunk | undefined;
  readonly min?: StoreChunk | undefined;
  readonly max?: StoreChunk | undefined;
  readonly counter?: StoreChunk | undefined;
  /**
   * encoded, when set, is this message's body exactly as the codec encodes the fields above (see
   * preEncodedAggrChunk): encoders copy it as is instead of encoding the fields again. Set only by
   * preEncodedAggrChunk, as a non-enumerable property (deep equality ignores it); decoders never set it.
   */
  readonly encoded?: Uint8Array;
}

/** StoreSeries is thanos.Series: labels (including external labels) and chunks sorted by minTime. */
export interface StoreSeries {
  readonly labels: Labels;
  readonly chunks: readonly AggrChunk[];
}

/** LabelMatcher is thanos.LabelMatcher; `type` numbers equal labels.MatchType (EQ=0, NEQ, RE, NRE). */
export interface LabelMatcher {
  readonly type: 0 | 1 | 2 | 3;
  readonly name: string;
  readonly value: string;
}

/** Any is google.protobuf.Any: an opaque message with its type URL. */
export interface Any {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** QueryHints is thanos.QueryHints (best effort). */
export interface QueryHints {
  readonly stepMillis?: number;
  readonly func?: { readonly name: string } | undefined;
  readonly grouping?: { readonly by: boolean; readonly labels: readonly string[] } | undefined;
  readonly range?: { readonly millis: number } | undefined;
  readonly projectionLabels?: readonly string[];
  readonly projectionInclude?: boolean;
  readonly seriesHashLabelName?: string;
}

/** ShardInfo is thanos.ShardInfo; totalShards < 1 means not sharded. */
export interface ShardInfo {
  readonly shardIndex: number;
  readonly totalShards: number;
  readonly by: boolean;
  readonly labels: readonly string[];
}

/** SeriesRequest is thanos.SeriesRequest. Times are inclusive milliseconds. */
export interface SeriesRequest {
  readonly minTime: number;
  readonly maxTime: number;
  readonly matchers: readonly LabelMatcher[];
  readonly maxResolutionWindow?: number;
  readonly aggregates?: readonly Aggr[];
  readonly partialResponseDisabled?: boolean;
  readonly partialResponseStrategy?: PartialResponseStrategy;
  readonly skipChunks?: boolean;
  readonly hints?: Any | undefined;
  readonly step?: number;
  readonly range?: number;
  readonly queryHints?: QueryHints | undefined;
  readonly shardInfo?: ShardInfo | undefined;
  readonly withoutReplicaLabels?: readonly string[];
  readonly limit?: number;
  readonly responseBatchSize?: number;
  /**
   * replicaLabelsHint (Tessera extension, field 1000; Thanos ignores it) names the querier's replica
   * labels when it keeps replicas apart: a store may use it to judge whether an unreadable series is
   * covered by another replica. Nothing is dropped because of it.
   */
  readonly replicaLabelsHint?: readonly string[];
}

/** SeriesResponse is one frame of the Series stream (the `result` oneof). */
export type SeriesResponse =
  | { readonly kind: 'series'; readonly series: StoreSeries }
  | { readonly kind: 'warning'; readonly warning: string }
  | { readonly kind: 'hints'; readonly hints: Any }
  | { readonly kind: 'batch'; readonly batch: readonly StoreSeries[] }
  | { readonly kind: 'unknown' };

/** LabelNamesRequest is thanos.LabelNamesRequest. */
export interface LabelNamesRequest {
  readonly partialResponseDisabled?: boolean;
  readonly partialResponseStrategy?: PartialResponseStrategy;
  readonly start: number;
  readonly end: number;
  readonly hints?: Any | undefined;
  readonly matchers?: readonly LabelMatcher[];
  readonly withoutReplicaLabels?: readonly string[];
  readonly limit?: number;
}

/** LabelNamesResponse is thanos.LabelNamesResponse; names are sorted and unique. */
export interface LabelNamesResponse {
  readonly names: readonly string[];
  readonly warnings: readonly string[];
  readonly hints?: Any | undefined;
}

/** LabelValuesRequest is thanos.LabelValuesRequest. */
export interface LabelValuesRequest {
  readonly label: string;
  readonly partialResponseDisabled?: boolean;
  readonly partialResponseStrategy?: PartialResponseStrategy;
  readonly start: number;
  readonly end: number;
  readonly hints?: Any | undefined;
  readonly matchers?: readonly LabelMatcher[];
  readonly withoutReplicaLabels?: readonly string[];
  readonly limit?: number;
}

/** LabelValuesResponse is thanos.LabelValuesResponse; values are sorted and unique. */
export interface LabelValuesResponse {
  readonly values: readonly string[];
  readonly warnings: readonly string[];
  readonly hints?: Any | undefined;
}

/** TSDBInfo is thanos.info.TSDBInfo: one label set and the time range it covers. */
export interface TSDBInfo {
  readonly labels: Labels;
  readonly minTime: number;
  readonly maxTime: number;
}

/** StoreInfo is thanos.info.StoreInfo. */
export interface StoreInfo {
  readonly minTime: number;
  readonly maxTime: number;
  readonly supportsSharding?: boolean;
  readonly supportsWithoutReplicaLabels?: boolean;
  readonly tsdbInfos?: readonly TSDBInfo[];
  readonly supportsProjections?: boolean;
}

/** InfoResponse is thanos.info.InfoResponse. The presence flags are true when the API is served. */
export interface InfoResponse {
  readonly labelSets: readonly Labels[];
  readonly componentType: string;
  readonly store?: StoreInfo | undefined;
  readonly rules?: boolean;
  readonly metricMetadata?: boolean;
  readonly targets?: boolean;
  readonly exemplars?: { readonly minTime: number; readonly maxTime: number } | undefined;
  readonly query?: boolean;
  readonly status?: boolean;
}

/** LegacyInfoResponse is thanos.InfoResponse of the removed Store.Info RPC (Thanos < v0.37). */
export interface LegacyInfoResponse {
  readonly labels: Labels;
  readonly minTime: number;
  readonly maxTime: number;
  readonly storeType: StoreType;
  readonly labelSets: readonly Labels[];
}
