/**
 * Message types of Prometheus's remote-read protocol (package `prometheus`, prompb/remote.proto and
 * prompb/types.proto). Field names follow the .proto in camelCase; int64 fields are numbers (exact
 * below 2^53; ±2^63 stand for MinInt64/MaxInt64). See proto/prompb/ for the schema.
 */

/** ResponseType is ReadRequest.ResponseType. */
export const ResponseType = {
  SAMPLES: 0,
  STREAMED_XOR_CHUNKS: 1,
} as const;
export type ResponseType = (typeof ResponseType)[keyof typeof ResponseType];

/** LabelMatcherType is LabelMatcher.Type (same numbering as pkg/labels MatchType). */
export const LabelMatcherType = {
  EQ: 0,
  NEQ: 1,
  RE: 2,
  NRE: 3,
} as const;
export type LabelMatcherType = (typeof LabelMatcherType)[keyof typeof LabelMatcherType];

/**
 * ChunkEncoding is Chunk.Encoding in remote read: the TSDB encoding byte (XOR = 1). The StoreAPI
 * numbers the same encodings one lower (XOR = 0).
 */
export const ChunkEncoding = {
  UNKNOWN: 0,
  XOR: 1,
  HISTOGRAM: 2,
  FLOAT_HISTOGRAM: 3,
} as const;
export type ChunkEncoding = number;

/** Label is one name/value pair. */
export interface Label {
  name: string;
  value: string;
}

/** LabelMatcher is one matcher of a remote-read query. */
export interface LabelMatcher {
  type: LabelMatcherType;
  name: string;
  value: string;
}

/** ReadHints carries optional query hints (all fields default to zero values). */
export interface ReadHints {
  stepMs: number;
  func: string;
  startMs: number;
  endMs: number;
  grouping: string[];
  by: boolean;
  rangeMs: number;
}

/** Query selects series by matchers in [startTimestampMs, endTimestampMs] (both inclusive). */
export interface Query {
  startTimestampMs: number;
  endTimestampMs: number;
  matchers: LabelMatcher[];
  hints?: ReadHints;
}

/** ReadRequest is the body of POST /api/v1/read (snappy block compressed). */
export interface ReadRequest {
  queries: Query[];
  acceptedResponseTypes: ResponseType[];
}

/** Sample is one float sample. */
export interface Sample {
  value: number;
  timestamp: number;
}

/**
 * TimeSeries is one series of a SAMPLES response. Native histogram samples (field 4) and exemplars
 * are skipped by the decoder; `histogramCount` reports how many histograms were present.
 */
export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
  histogramCount: number;
}

/** QueryResult is the result of one Query in a SAMPLES response. */
export interface QueryResult {
  timeseries: TimeSeries[];
}

/** ReadResponse is a SAMPLES response: one QueryResult per query, in request order. */
export interface ReadResponse {
  results: QueryResult[];
}

/**
 * Chunk is one raw TSDB chunk of a STREAMED_XOR_CHUNKS response. `data` is a view into the frame
 * it was decoded from (no copy): it stays valid as long as the frame buffer does, which the
 * decoder never reuses.
 */
export interface Chunk {
  minTimeMs: number;
  maxTimeMs: number;
  type: ChunkEncoding;
  data: Uint8Array;
}

/** ChunkedSeries is a series (or part of one, continued in the next frame) with raw chunks. */
export interface ChunkedSeries {
  labels: Label[];
  chunks: Chunk[];
}

/** ChunkedReadResponse is the message of one STREAMED_XOR_CHUNKS frame. */
export interface ChunkedReadResponse {
  chunkedSeries: ChunkedSeries[];
  queryIndex: number;
}
