import type { Labels } from '../labels/index.js';
import type { InfoResponse, LegacyInfoResponse, StoreInfo, StoreType, TSDBInfo } from './messages.js';
import { ProtoReader } from './proto-reader.js';
import { ProtoWriter, WireType } from './proto-writer.js';
import { readLabelSet, writeLabelSet, writeLabels } from './label-set-codec.js';
import { labelsFromFlat, readLabelInto } from './series-codec.js';

// Codec of thanos.info.InfoResponse and the legacy thanos.InfoResponse. InfoRequest has no fields:
// any bytes decode to it and it encodes as zero bytes.

const LD = WireType.LengthDelimited;
const VI = WireType.Varint;

function putInt64(w: ProtoWriter, field: number, v: number | undefined): void {
  if (v !== undefined && v !== 0) w.tag(field, VI).int64(v);
}

function putEmpty(w: ProtoWriter, field: number, present: boolean | undefined): void {
  if (present === true) w.tag(field, LD).uint32(0);
}

/** encodeInfoResponse encodes a thanos.info.InfoResponse. */
export function encodeInfoResponse(res: InfoResponse): Uint8Array {
  const w = new ProtoWriter(256);
  for (const ls of res.labelSets) writeLabelSet(w, 1, ls);
  if (res.componentType.length > 0) w.tag(2, LD).string(res.componentType);
  if (res.store !== undefined) {
    const s = res.store;
    w.fork();
    putInt64(w, 1, s.minTime);
    putInt64(w, 2, s.maxTime);
    if (s.supportsSharding === true) w.tag(3, VI).bool(true);
    if (s.supportsWithoutReplicaLabels === true) w.tag(5, VI).bool(true);
    for (const t of s.tsdbInfos ?? []) {
      w.fork();
      writeLabelSet(w, 1, t.labels);
      putInt64(w, 2, t.minTime);
      putInt64(w, 3, t.maxTime);
      w.ldelim(6);
    }
    if (s.supportsProjections === true) w.tag(7, VI).bool(true);
    w.ldelim(3);
  }
  putEmpty(w, 4, res.rules);
  putEmpty(w, 5, res.metricMetadata);
  putEmpty(w, 6, res.targets);
  if (res.exemplars !== undefined) {
    w.fork();
    putInt64(w, 1, res.exemplars.minTime);
    putInt64(w, 2, res.exemplars.maxTime);
    w.ldelim(7);
  }
  putEmpty(w, 8, res.query);
  putEmpty(w, 9, res.status);
  return w.finish();
}

function readTimes(r: ProtoReader, what: string): { minTime: number; maxTime: number } {
  const end = r.subEnd();
  let minTime = 0;
  let maxTime = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VI)) minTime = r.int64();
    else if (tag === ((2 << 3) | VI)) maxTime = r.int64();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, what);
  return { minTime, maxTime };
}

function readTSDBInfo(r: ProtoReader): TSDBInfo {
  const end = r.subEnd();
  let labels: Labels | undefined;
  let minTime = 0;
  let maxTime = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) labels = readLabelSet(r);
    else if (tag === ((2 << 3) | VI)) minTime = r.int64();
    else if (tag === ((3 << 3) | VI)) maxTime = r.int64();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.info.TSDBInfo');
  return { labels: labels ?? labelsFromFlat([]), minTime, maxTime };
}

function readStoreInfo(r: ProtoReader): StoreInfo {
  const end = r.subEnd();
  let minTime = 0;
  let maxTime = 0;
  let supportsSharding = false;
  let supportsWithoutReplicaLabels = false;
  let supportsProjections = false;
  const tsdbInfos: TSDBInfo[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VI)) minTime = r.int64();
    else if (tag === ((2 << 3) | VI)) maxTime = r.int64();
    else if (tag === ((3 << 3) | VI)) supportsSharding = r.bool();
    else if (tag === ((5 << 3) | VI)) supportsWithoutReplicaLabels = r.bool();
    else if (tag === ((6 << 3) | LD)) tsdbInfos.push(readTSDBInfo(r));
    else if (tag === ((7 << 3) | VI)) supportsProjections = r.bool();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.info.StoreInfo');
  return { minTime, maxTime, supportsSharding, supportsWithoutReplicaLabels, tsdbInfos, supportsProjections };
}

/** decodeInfoResponse decodes a thanos.info.InfoResponse. */
export function decodeInfoResponse(buf: Uint8Array): InfoResponse {
  const r = new ProtoReader(buf);
  const labelSets: Labels[] = [];
  let componentType = '';
  let store: StoreInfo | undefined;
  let exemplars: { minTime: number; maxTime: number } | undefined;
  const flags = { rules: false, metricMetadata: false, targets: false, query: false, status: false };
  const flagFields: Record<number, keyof typeof flags> = { 4: 'rules', 5: 'metricMetadata', 6: 'targets', 8: 'query', 9: 'status' };
  while (!r.done()) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === LD) labelSets.push(readLabelSet(r));
    else if (field === 2 && wt === LD) componentType = r.string();
    else if (field === 3 && wt === LD) store = readStoreInfo(r);
    else if (field === 7 && wt === LD) exemplars = readTimes(r, 'thanos.info.ExemplarsInfo');
    else if (flagFields[field] !== undefined && wt === LD) {
      flags[flagFields[field]] = true;
      r.skip(wt);
    } else r.skip(wt);
  }
  return { labelSets, componentType, store, exemplars, ...flags };
}

/** encodeLegacyInfoResponse encodes the legacy thanos.InfoResponse (Store.Info). */
export function encodeLegacyInfoResponse(res: LegacyInfoResponse): Uint8Array {
  const w = new ProtoWriter(256);
  writeLabels(w, 1, res.labels);
  putInt64(w, 2, res.minTime);
  putInt64(w, 3, res.maxTime);
  if (res.storeType !== 0) w.tag(4, VI).uint32(res.storeType);
  for (const ls of res.labelSets) writeLabelSet(w, 5, ls);
  return w.finish();
}

/** decodeLegacyInfoResponse decodes the legacy thanos.InfoResponse (Store.Info). */
export function decodeLegacyInfoResponse(buf: Uint8Array): LegacyInfoResponse {
  const r = new ProtoReader(buf);
  const kv: string[] = [];
  let minTime = 0;
  let maxTime = 0;
  let storeType = 0;
  const labelSets: Labels[] = [];
  while (!r.done()) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) readLabelInto(r, kv);
    else if (tag === ((2 << 3) | VI)) minTime = r.int64();
    else if (tag === ((3 << 3) | VI)) maxTime = r.int64();
    else if (tag === ((4 << 3) | VI)) storeType = r.int32();
    else if (tag === ((5 << 3) | LD)) labelSets.push(readLabelSet(r));
    else r.skip(tag & 7);
  }
  return { labels: labelsFromFlat(kv), minTime, maxTime, storeType: storeType as StoreType, labelSets };
}
