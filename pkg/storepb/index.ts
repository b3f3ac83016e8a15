export { ProtoWriter, WireType, varintSize32, int64Size, utf8Size, fieldSize } from './proto-writer.js';
export { ProtoReader, ProtoDecodeError } from './proto-reader.js';
export { ChunkType, Aggr, PartialResponseStrategy, StoreType } from './messages.js';
export type {
  StoreChunk,
  AggrChunk,
  StoreSeries,
  LabelMatcher,
  Any,
  QueryHints,
  ShardInfo,
  SeriesRequest,
  SeriesResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  TSDBInfo,
  StoreInfo,
  InfoResponse,
  LegacyInfoResponse,
} from './messages.js';
export { encodeSeriesResponse, decodeSeriesResponse, preEncodedAggrChunk, seriesResponseSize, seriesBodySize, writeSeries, readSeries, writeAny, readAny } from './series-codec.js';
export {
  encodeSeriesRequest,
  decodeSeriesRequest,
  encodeLabelNamesRequest,
  decodeLabelNamesRequest,
  encodeLabelValuesRequest,
  decodeLabelValuesRequest,
  encodeLabelNamesResponse,
  decodeLabelNamesResponse,
  encodeLabelValuesResponse,
  decodeLabelValuesResponse,
  readMatcher,
  writeMatchersField,
} from './request-codec.js';
export { encodeInfoResponse, decodeInfoResponse, encodeLegacyInfoResponse, decodeLegacyInfoResponse } from './info-codec.js';
export { xxhash64 } from './xxhash64.js';
export type { XXHash64Result } from './xxhash64.js';
export { SnappyFramedCodec, SnappyFrameError, snappyFrameEncode, snappyFrameDecode } from './snappy-framed.js';
export { AlertStateProto, RulesRequestType } from './rules-messages.js';
export type { AlertInstanceProto, AlertingRuleProto, RecordingRuleProto, RuleGroupProto, RuleProto, RulesRequest, RulesResponse } from './rules-messages.js';
export { decodeRulesRequest, decodeRulesResponse, encodeRulesRequest, encodeRulesResponse } from './rules-codec.js';
