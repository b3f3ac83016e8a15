import type {
  Aggr,
  Any,
  LabelMatcher,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  PartialResponseStrategy,
  QueryHints,
  SeriesRequest,
  ShardInfo,
} from './messages.js';
import { ProtoReader } from './proto-reader.js';
import { ProtoWriter, WireType } from './proto-writer.js';
import { readAny, writeAny } from './series-codec.js';

// Codec of the StoreAPI request messages and the unary label responses. These are small, so the
// writer's fork/ldelim (one move per nested message) is fine here.

const LD = WireType.LengthDelimited;
const VI = WireType.Varint;

function putInt64(w: ProtoWriter, field: number, v: number | undefined): void {
  if (v !== undefined && v !== 0) w.tag(field, VI).int64(v);
}
function putBool(w: ProtoWriter, field: number, v: boolean | undefined): void {
  if (v === true) w.tag(field, VI).bool(true);
}
function putString(w: ProtoWriter, field: number, v: string | undefined): void {
  if (v !== undefined && v.length > 0) w.tag(field, LD).string(v);
}
function putStrings(w: ProtoWriter, field: number, vs: readonly string[] | undefined): void {
  if (vs === undefined) return;
  for (const v of vs) w.tag(field, LD).string(v);
}
function putMatchers(w: ProtoWriter, field: number, ms: readonly LabelMatcher[] | undefined): void {
  if (ms === undefined) return;
  for (const m of ms) {
    w.fork();
    if (m.type !== 0) w.tag(1, VI).uint32(m.type);
    putString(w, 2, m.name);
    putString(w, 3, m.value);
    w.ldelim(field);
  }
}

/** readMatcher reads one length-delimited thanos.LabelMatcher. */
export function readMatcher(r: ProtoReader): LabelMatcher {
  const end = r.subEnd();
  let type = 0;
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VI)) type = r.int32();
    else if (tag === ((2 << 3) | LD)) name = r.string();
    else if (tag === ((3 << 3) | LD)) value = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.LabelMatcher');
  if (type < 0 || type > 3) throw new RangeError(`decode thanos.LabelMatcher: unknown matcher type ${type}`);
  return { type: type as LabelMatcher['type'], name, value };
}

/** writeMatchersField writes matchers as repeated field `field` (shared with hints codecs). */
export function writeMatchersField(w: ProtoWriter, field: number, ms: readonly LabelMatcher[]): void {
  putMatchers(w, field, ms);
}

/** encodeSeriesRequest encodes a thanos.SeriesRequest. */
export function encodeSeriesRequest(req: SeriesRequest): Uint8Array {
  const w = new ProtoWriter(256);
  putInt64(w, 1, req.minTime);
  putInt64(w, 2, req.maxTime);
  putMatchers(w, 3, req.matchers);
  putInt64(w, 4, req.maxResolutionWindow);
  if (req.aggregates !== undefined && req.aggregates.length > 0) {
    w.fork();
    for (const a of req.aggregates) w.uint32(a);
    w.ldelim(5);
  }
  putBool(w, 6, req.partialResponseDisabled);
  if (req.partialResponseStrategy !== undefined && req.partialResponseStrategy !== 0) w.tag(7, VI).uint32(req.partialResponseStrategy);
  putBool(w, 8, req.skipChunks);
  if (req.hints !== undefined) writeAny(w, 9, req.hints);
  putInt64(w, 10, req.step);
  putInt64(w, 11, req.range);
  if (req.queryHints !== undefined) {
    const q = req.queryHints;
    w.fork();
    putInt64(w, 1, q.stepMillis);
    if (q.func !== undefined) {
      w.fork();
      putString(w, 1, q.func.name);
      w.ldelim(2);
    }
    if (q.grouping !== undefined) {
      w.fork();
      putBool(w, 1, q.grouping.by);
      putStrings(w, 3, q.grouping.labels);
      w.ldelim(4);
    }
    if (q.range !== undefined) {
      w.fork();
      putInt64(w, 1, q.range.millis);
      w.ldelim(5);
    }
    putStrings(w, 6, q.projectionLabels);
    putBool(w, 7, q.projectionInclude);
    putString(w, 8, q.seriesHashLabelName);
    w.ldelim(12);
  }
  if (req.shardInfo !== undefined) {
    const s = req.shardInfo;
    w.fork();
    putInt64(w, 1, s.shardIndex);
    putInt64(w, 2, s.totalShards);
    putBool(w, 3, s.by);
    putStrings(w, 4, s.labels);
    w.ldelim(13);
  }
  putStrings(w, 14, req.withoutReplicaLabels);
  putInt64(w, 15, req.limit);
  putInt64(w, 16, req.responseBatchSize);
  putStrings(w, 1000, req.replicaLabelsHint);
  return w.finish();
}

function readQueryHints(r: ProtoReader): QueryHints {
  const end = r.subEnd();
  let stepMillis = 0;
  let func: QueryHints['func'];
  let grouping: QueryHints['grouping'];
  let range: QueryHints['range'];
  const projectionLabels: string[] = [];
  let projectionInclude = false;
  let seriesHashLabelName = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | VI:
        stepMillis = r.int64();
        break;
      case (2 << 3) | LD: {
        const e = r.subEnd();
        let name = '';
        while (r.pos < e) {
          const t = r.uint32();
          if (t === ((1 << 3) | LD)) name = r.string();
          else r.skip(t & 7);
        }
        r.expectEnd(e, 'thanos.Func');
        func = { name };
        break;
      }
      case (4 << 3) | LD: {
        const e = r.subEnd();
        let by = false;
        const labels: string[] = [];
        while (r.pos < e) {
          const t = r.uint32();
          if (t === ((1 << 3) | VI)) by = r.bool();
          else if (t === ((3 << 3) | LD)) labels.push(r.string());
          else r.skip(t & 7);
        }
        r.expectEnd(e, 'thanos.Grouping');
        grouping = { by, labels };
        break;
      }
      case (5 << 3) | LD: {
        const e = r.subEnd();
        let millis = 0;
        while (r.pos < e) {
          const t = r.uint32();
          if (t === ((1 << 3) | VI)) millis = r.int64();
          else r.skip(t & 7);
        }
        r.expectEnd(e, 'thanos.Range');
        range = { millis };
        break;
      }
      case (6 << 3) | LD:
        projectionLabels.push(r.string());
        break;
      case (7 << 3) | VI:
        projectionInclude = r.bool();
        break;
      case (8 << 3) | LD:
        seriesHashLabelName = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.QueryHints');
  return { stepMillis, func, grouping, range, projectionLabels, projectionInclude, seriesHashLabelName };
}

function readShardInfo(r: ProtoReader): ShardInfo {
  const end = r.subEnd();
  let shardIndex = 0;
  let totalShards = 0;
  let by = false;
  const labels: string[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VI)) shardIndex = r.int64();
    else if (tag === ((2 << 3) | VI)) totalShards = r.int64();
    else if (tag === ((3 << 3) | VI)) by = r.bool();
    else if (tag === ((4 << 3) | LD)) labels.push(r.string());
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.ShardInfo');
  return { shardIndex, totalShards, by, labels };
}

/** decodeSeriesRequest decodes a thanos.SeriesRequest; absent fields get their proto3 defaults. */
export function decodeSeriesRequest(buf: Uint8Array): Required<Omit<SeriesRequest, 'hints' | 'queryHints' | 'shardInfo' | 'replicaLabelsHint'>> & SeriesRequest {
  const r = new ProtoReader(buf);
  let minTime = 0;
  let maxTime = 0;
  const matchers: LabelMatcher[] = [];
  let maxResolutionWindow = 0;
  const aggregates: number[] = [];
  let partialResponseDisabled = false;
  let partialResponseStrategy = 0;
  let skipChunks = false;
  let hints: Any | undefined;
  let step = 0;
  let range = 0;
  let queryHints: QueryHints | undefined;
  let shardInfo: ShardInfo | undefined;
  const withoutReplicaLabels: string[] = [];
  const replicaLabelsHint: string[] = [];
  let limit = 0;
  let responseBatchSize = 0;
  while (!r.done()) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1:
        if (wt !== VI) break;
        minTime = r.int64();
        continue;
      case 2:
        if (wt !== VI) break;
        maxTime = r.int64();
        continue;
      case 3:
        if (wt !== LD) break;
        matchers.push(readMatcher(r));
        continue;
      case 4:
        if (wt !== VI) break;
        maxResolutionWindow = r.int64();
        continue;
      case 5:
        r.repeatedInt32(wt, aggregates);
        continue;
      case 6:
        if (wt !== VI) break;
        partialResponseDisabled = r.bool();
        continue;
      case 7:
        if (wt !== VI) break;
        partialResponseStrategy = r.int32();
        continue;
      case 8:
        if (wt !== VI) break;
        skipChunks = r.bool();
        continue;
      case 9:
        if (wt !== LD) break;
        hints = readAny(r);
        continue;
      case 10:
        if (wt !== VI) break;
        step = r.int64();
        continue;
      case 11:
        if (wt !== VI) break;
        range = r.int64();
        continue;
      case 12:
        if (wt !== LD) break;
        queryHints = readQueryHints(r);
        continue;
      case 13:
        if (wt !== LD) break;
        shardInfo = readShardInfo(r);
        continue;
      case 14:
        if (wt !== LD) break;
        withoutReplicaLabels.push(r.string());
        continue;
      case 15:
        if (wt !== VI) break;
        limit = r.int64();
        continue;
      case 16:
        if (wt !== VI) break;
        responseBatchSize = r.int64();
        continue;
      case 1000:
        if (wt !== LD) break;
        replicaLabelsHint.push(r.string());
        continue;
    }
    r.skip(wt);
  }
  return {
    minTime,
    maxTime,
    matchers,
    maxResolutionWindow,
    aggregates: aggregates as Aggr[],
    partialResponseDisabled,
    partialResponseStrategy: partialResponseStrategy as PartialResponseStrategy,
    skipChunks,
    hints,
    step,
    range,
    queryHints,
    shardInfo,
    withoutReplicaLabels,
    limit,
    responseBatchSize,
    ...(replicaLabelsHint.length > 0 ? { replicaLabelsHint } : {}),
  };
}

/** encodeLabelNamesRequest encodes a thanos.LabelNamesRequest. */
export function encodeLabelNamesRequest(req: LabelNamesRequest): Uint8Array {
  const w = new ProtoWriter(128);
  putBool(w, 1, req.partialResponseDisabled);
  if (req.partialResponseStrategy !== undefined && req.partialResponseStrategy !== 0) w.tag(2, VI).uint32(req.partialResponseStrategy);
  putInt64(w, 3, req.start);
  putInt64(w, 4, req.end);
  if (req.hints !== undefined) writeAny(w, 5, req.hints);
  putMatchers(w, 6, req.matchers);
  putStrings(w, 7, req.withoutReplicaLabels);
  putInt64(w, 8, req.limit);
  return w.finish();
}

/** encodeLabelValuesRequest encodes a thanos.LabelValuesRequest. */
export function encodeLabelValuesRequest(req: LabelValuesRequest): Uint8Array {
  const w = new ProtoWriter(128);
  putString(w, 1, req.label);
  putBool(w, 2, req.partialResponseDisabled);
  if (req.partialResponseStrategy !== undefined && req.partialResponseStrategy !== 0) w.tag(3, VI).uint32(req.partialResponseStrategy);
  putInt64(w, 4, req.start);
  putInt64(w, 5, req.end);
  if (req.hints !== undefined) writeAny(w, 6, req.hints);
  putMatchers(w, 7, req.matchers);
  putStrings(w, 8, req.withoutReplicaLabels);
  putInt64(w, 9, req.limit);
  return w.finish();
}

interface LabelRequestFields {
  label: string;
  partialResponseDisabled: boolean;
  partialResponseStrategy: PartialResponseStrategy;
  start: number;
  end: number;
  hints: Any | undefined;
  matchers: LabelMatcher[];
  withoutReplicaLabels: string[];
  limit: number;
}

// LabelNamesRequest is LabelValuesRequest without `label` and with every field number one lower.
function decodeLabelRequest(buf: Uint8Array, offset: 0 | 1): LabelRequestFields {
  const r = new ProtoReader(buf);
  const out: LabelRequestFields = {
    label: '',
    partialResponseDisabled: false,
    partialResponseStrategy: 0,
    start: 0,
    end: 0,
    hints: undefined,
    matchers: [],
    withoutReplicaLabels: [],
    limit: 0,
  };
  while (!r.done()) {
    const tag = r.uint32();
    const wt = tag & 7;
    const field = (tag >>> 3) - offset;
    if (offset === 1 && field === 0 && wt === LD) out.label = r.string();
    else if (field === 1 && wt === VI) out.partialResponseDisabled = r.bool();
    else if (field === 2 && wt === VI) out.partialResponseStrategy = r.int32() as PartialResponseStrategy;
    else if (field === 3 && wt === VI) out.start = r.int64();
    else if (field === 4 && wt === VI) out.end = r.int64();
    else if (field === 5 && wt === LD) out.hints = readAny(r);
    else if (field === 6 && wt === LD) out.matchers.push(readMatcher(r));
    else if (field === 7 && wt === LD) out.withoutReplicaLabels.push(r.string());
    else if (field === 8 && wt === VI) out.limit = r.int64();
    else r.skip(wt);
  }
  return out;
}

/** decodeLabelNamesRequest decodes a thanos.LabelNamesRequest. */
export function decodeLabelNamesRequest(buf: Uint8Array): LabelNamesRequest {
  const { label: _label, ...rest } = decodeLabelRequest(buf, 0);
  return rest;
}

/** decodeLabelValuesRequest decodes a thanos.LabelValuesRequest. */
export function decodeLabelValuesRequest(buf: Uint8Array): LabelValuesRequest {
  return decodeLabelRequest(buf, 1);
}

function encodeStringsResponse(values: readonly string[], warnings: readonly string[], hints: Any | undefined): Uint8Array {
  const w = new ProtoWriter(256);
  putStrings(w, 1, values);
  putStrings(w, 2, warnings);
  if (hints !== undefined) writeAny(w, 3, hints);
  return w.finish();
}

function decodeStringsResponse(buf: Uint8Array): { values: string[]; warnings: string[]; hints: Any | undefined } {
  const r = new ProtoReader(buf);
  const values: string[] = [];
  const warnings: string[] = [];
  let hints: Any | undefined;
  while (!r.done()) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) values.push(r.string());
    else if (tag === ((2 << 3) | LD)) warnings.push(r.string());
    else if (tag === ((3 << 3) | LD)) hints = readAny(r);
    else r.skip(tag & 7);
  }
  return { values, warnings, hints };
}

/** encodeLabelNamesResponse encodes a thanos.LabelNamesResponse. */
export function encodeLabelNamesResponse(res: LabelNamesResponse): Uint8Array {
  return encodeStringsResponse(res.names, res.warnings, res.hints);
}

/** decodeLabelNamesResponse decodes a thanos.LabelNamesResponse. */
export function decodeLabelNamesResponse(buf: Uint8Array): LabelNamesResponse {
  const { values, warnings, hints } = decodeStringsResponse(buf);
  return { names: values, warnings, hints };
}

/** encodeLabelValuesResponse encodes a thanos.LabelValuesResponse. */
export function encodeLabelValuesResponse(res: LabelValuesResponse): Uint8Array {
  return encodeStringsResponse(res.values, res.warnings, res.hints);
}

/** decodeLabelValuesResponse decodes a thanos.LabelValuesResponse. */
export function decodeLabelValuesResponse(buf: Uint8Array): LabelValuesResponse {
  return decodeStringsResponse(buf);
}
