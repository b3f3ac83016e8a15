import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  decodeInfoResponse,
  decodeLabelNamesRequest,
  decodeLabelNamesResponse,
  decodeLabelValuesRequest,
  decodeLabelValuesResponse,
  decodeLegacyInfoResponse,
  decodeSeriesRequest,
  decodeSeriesResponse,
  encodeInfoResponse,
  encodeLabelNamesRequest,
  encodeLabelNamesResponse,
  encodeLabelValuesRequest,
  encodeLabelValuesResponse,
  encodeLegacyInfoResponse,
  encodeSeriesRequest,
  encodeSeriesResponse,
  type InfoResponse,
  type LabelNamesRequest,
  type LabelNamesResponse,
  type LabelValuesRequest,
  type LabelValuesResponse,
  type LegacyInfoResponse,
  decodeRulesRequest,
  decodeRulesResponse,
  encodeRulesRequest,
  encodeRulesResponse,
  type RulesRequest,
  type RulesResponse,
  type SeriesRequest,
  type SeriesResponse,
} from '../storepb/index.js';

// gRPC method definitions with Thanos's exact paths and our codec as (de)serializers. grpc-js
// hands deserializers a Buffer holding exactly one message; decoded chunk data stay views of it.

const alloc = (n: number): Uint8Array => Buffer.allocUnsafe(n);
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const empty = Buffer.alloc(0);

function method<Req, Res>(
  path: string,
  responseStream: boolean,
  encReq: (r: Req) => Uint8Array,
  decReq: (b: Uint8Array) => Req,
  encRes: (r: Res) => Uint8Array,
  decRes: (b: Uint8Array) => Res,
) {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: (r: Req) => asBuffer(encReq(r)),
    requestDeserialize: (b: Buffer) => decReq(b),
    responseSerialize: (r: Res) => asBuffer(encRes(r)),
    responseDeserialize: (b: Buffer) => decRes(b),
  };
}

/** storeService is thanos.Store: Series (server streaming), LabelNames, LabelValues, legacy Info. */
export const storeService = {
  Series: method<SeriesRequest, SeriesResponse>('/thanos.Store/Series', true, encodeSeriesRequest, decodeSeriesRequest, (r) => encodeSeriesResponse(r, alloc), decodeSeriesResponse),
  LabelNames: method<LabelNamesRequest, LabelNamesResponse>('/thanos.Store/LabelNames', false, encodeLabelNamesRequest, decodeLabelNamesRequest, encodeLabelNamesResponse, decodeLabelNamesResponse),
  LabelValues: method<LabelValuesRequest, LabelValuesResponse>('/thanos.Store/LabelValues', false, encodeLabelValuesRequest, decodeLabelValuesRequest, encodeLabelValuesResponse, decodeLabelValuesResponse),
  Info: method<Record<string, never>, LegacyInfoResponse>('/thanos.Store/Info', false, () => empty, () => ({}), encodeLegacyInfoResponse, decodeLegacyInfoResponse),
} satisfies ServiceDefinition;

/** infoService is thanos.info.Info. */
export const infoService = {
  Info: method<Record<string, never>, InfoResponse>('/thanos.info.Info/Info', false, () => empty, () => ({}), encodeInfoResponse, decodeInfoResponse),
} satisfies ServiceDefinition;

/** rulesService is thanos.Rules: Rules (server streaming). */
export const rulesService = {
  Rules: method<RulesRequest, RulesResponse>('/thanos.Rules/Rules', true, encodeRulesRequest, decodeRulesRequest, encodeRulesResponse, decodeRulesResponse),
} satisfies ServiceDefinition;

/** healthService is grpc.health.v1.Health/Check; it always answers SERVING (status = 1). */
export const healthService = {
  Check: method<Record<string, never>, { serving: boolean }>(
    '/grpc.health.v1.Health/Check',
    false,
    () => empty,
    () => ({}),
    (r) => (r.serving ? Uint8Array.of(0x08, 0x01) : Uint8Array.of(0x08, 0x02)),
    (b) => ({ serving: b.length >= 2 && b[0] === 0x08 && b[1] === 0x01 }),
  ),
} satisfies ServiceDefinition;
