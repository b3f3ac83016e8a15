import { Labels } from '../labels/index.js';
import type { PartialResponseStrategy } from './messages.js';
import { ProtoReader } from './proto-reader.js';
import { ProtoWriter, WireType } from './proto-writer.js';
import type { AlertInstanceProto, AlertStateProto, AlertingRuleProto, RecordingRuleProto, RuleGroupProto, RuleProto, RulesRequest, RulesRequestType, RulesResponse } from './rules-messages.js';
import { readLabelSet, writeLabelSet } from './label-set-codec.js';

// Codec of thanos.RulesRequest and thanos.RulesResponse (proto/rules/rulespb/rpc.proto). Fields are
// written in field-number order with proto3 defaults left out, except what gogoproto marks
// non-nullable (label sets and last_evaluation), which Thanos always writes: so do we.

const LD = WireType.LengthDelimited;
const VI = WireType.Varint;
const F64 = WireType.Fixed64;

/** Go's zero time (0001-01-01T00:00:00Z) as protobuf Timestamp seconds. */
const GO_ZERO_SECONDS = -62135596800;

function putString(w: ProtoWriter, field: number, v: string): void {
  if (v.length > 0) w.tag(field, LD).string(v);
}
function putDouble(w: ProtoWriter, field: number, v: number): void {
  if (v !== 0 || Object.is(v, -0)) w.tag(field, F64).double(v);
}
function putEnum(w: ProtoWriter, field: number, v: number): void {
  if (v !== 0) w.tag(field, VI).int32(v);
}
/** putTimestamp writes a google.protobuf.Timestamp; undefined is Go's zero time. */
function putTimestamp(w: ProtoWriter, field: number, ms: number | undefined): void {
  let seconds = GO_ZERO_SECONDS;
  let nanos = 0;
  if (ms !== undefined) {
    seconds = Math.floor(ms / 1000);
    nanos = Math.round((ms - seconds * 1000) * 1e6);
    if (nanos >= 1e9) {
      seconds++;
      nanos -= 1e9;
    }
  }
  w.fork();
  if (seconds !== 0) w.tag(1, VI).int64(seconds);
  if (nanos !== 0) w.tag(2, VI).int32(nanos);
  w.ldelim(field);
}

function readTimestamp(r: ProtoReader): number | undefined {
  const end = r.subEnd();
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | VI)) seconds = r.int64();
    else if (tag === ((2 << 3) | VI)) nanos = r.int32();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'google.protobuf.Timestamp');
  if (seconds === GO_ZERO_SECONDS && nanos === 0) return undefined;
  return seconds * 1000 + nanos / 1e6;
}

/** encodeRulesRequest encodes a thanos.RulesRequest. */
export function encodeRulesRequest(req: RulesRequest): Uint8Array {
  const w = new ProtoWriter(64);
  putEnum(w, 1, req.type ?? 0);
  putEnum(w, 2, req.partialResponseStrategy ?? 0);
  for (const s of req.matcherString ?? []) w.tag(3, LD).string(s);
  for (const s of req.ruleName ?? []) w.tag(4, LD).string(s);
  for (const s of req.ruleGroup ?? []) w.tag(5, LD).string(s);
  for (const s of req.file ?? []) w.tag(6, LD).string(s);
  return w.finish();
}

/** decodeRulesRequest decodes a thanos.RulesRequest. */
export function decodeRulesRequest(buf: Uint8Array): Required<RulesRequest> {
  const r = new ProtoReader(buf);
  let type = 0;
  let prs = 0;
  const matcherString: string[] = [];
  const ruleName: string[] = [];
  const ruleGroup: string[] = [];
  const file: string[] = [];
  while (!r.done()) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | VI:
        type = r.int32();
        break;
      case (2 << 3) | VI:
        prs = r.int32();
        break;
      case (3 << 3) | LD:
        matcherString.push(r.string());
        break;
      case (4 << 3) | LD:
        ruleName.push(r.string());
        break;
      case (5 << 3) | LD:
        ruleGroup.push(r.string());
        break;
      case (6 << 3) | LD:
        file.push(r.string());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { type: type as RulesRequestType, partialResponseStrategy: prs as PartialResponseStrategy, matcherString, ruleName, ruleGroup, file };
}

function writeAlertInstance(w: ProtoWriter, a: AlertInstanceProto): void {
  writeLabelSet(w, 1, a.labels);
  writeLabelSet(w, 2, a.annotations);
  putEnum(w, 3, a.state);
  if (a.activeAt !== undefined) putTimestamp(w, 4, a.activeAt);
  putString(w, 5, a.value);
  putEnum(w, 6, a.partialResponseStrategy);
}

function writeRule(w: ProtoWriter, rule: RuleProto): void {
  w.fork();
  if (rule.type === 'recording') {
    putString(w, 1, rule.name);
    putString(w, 2, rule.query);
    writeLabelSet(w, 3, rule.labels);
    putString(w, 4, rule.health);
    putString(w, 5, rule.lastError);
    putDouble(w, 6, rule.evaluationDurationSeconds);
    putTimestamp(w, 7, rule.lastEvaluation);
    w.ldelim(1);
  } else {
    putEnum(w, 1, rule.state);
    putString(w, 2, rule.name);
    putString(w, 3, rule.query);
    putDouble(w, 4, rule.durationSeconds);
    writeLabelSet(w, 5, rule.labels);
    writeLabelSet(w, 6, rule.annotations);
    for (const a of rule.alerts) {
      w.fork();
      writeAlertInstance(w, a);
      w.ldelim(7);
    }
    putString(w, 8, rule.health);
    putString(w, 9, rule.lastError);
    putDouble(w, 10, rule.evaluationDurationSeconds);
    putTimestamp(w, 11, rule.lastEvaluation);
    putDouble(w, 12, rule.keepFiringForSeconds);
    w.ldelim(2);
  }
}

/** encodeRuleGroup encodes a thanos.RuleGroup body (without a field tag). */
function writeRuleGroup(w: ProtoWriter, g: RuleGroupProto): void {
  putString(w, 1, g.name);
  putString(w, 2, g.file);
  for (const rule of g.rules) {
    w.fork();
    writeRule(w, rule);
    w.ldelim(3);
  }
  putDouble(w, 4, g.interval);
  putDouble(w, 5, g.evaluationDurationSeconds);
  putTimestamp(w, 6, g.lastEvaluation);
  putEnum(w, 8, g.partialResponseStrategy);
  if (g.limit !== 0) w.tag(9, VI).int64(g.limit);
}

/** encodeRulesResponse encodes a thanos.RulesResponse. */
export function encodeRulesResponse(res: RulesResponse): Uint8Array {
  const w = new ProtoWriter(256);
  if (res.group !== undefined) {
    w.fork();
    writeRuleGroup(w, res.group);
    w.ldelim(1);
  } else w.tag(2, LD).string(res.warning);
  return w.finish();
}

function readAlertInstance(r: ProtoReader): AlertInstanceProto {
  const end = r.subEnd();
  let labels = Labels.EMPTY;
  let annotations = Labels.EMPTY;
  let state = 0;
  let activeAt: number | undefined;
  let value = '';
  let prs = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LD:
        labels = readLabelSet(r);
        break;
      case (2 << 3) | LD:
        annotations = readLabelSet(r);
        break;
      case (3 << 3) | VI:
        state = r.int32();
        break;
      case (4 << 3) | LD:
        activeAt = readTimestamp(r);
        break;
      case (5 << 3) | LD:
        value = r.string();
        break;
      case (6 << 3) | VI:
        prs = r.int32();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.AlertInstance');
  return { labels, annotations, state: state as AlertStateProto, activeAt, value, partialResponseStrategy: prs as PartialResponseStrategy };
}

function readRecording(r: ProtoReader): RecordingRuleProto {
  const end = r.subEnd();
  let name = '';
  let query = '';
  let labels = Labels.EMPTY;
  let health = '';
  let lastError = '';
  let evaluationDurationSeconds = 0;
  let lastEvaluation: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LD:
        name = r.string();
        break;
      case (2 << 3) | LD:
        query = r.string();
        break;
      case (3 << 3) | LD:
        labels = readLabelSet(r);
        break;
      case (4 << 3) | LD:
        health = r.string();
        break;
      case (5 << 3) | LD:
        lastError = r.string();
        break;
      case (6 << 3) | F64:
        evaluationDurationSeconds = r.double();
        break;
      case (7 << 3) | LD:
        lastEvaluation = readTimestamp(r);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.RecordingRule');
  return { type: 'recording', name, query, labels, health, lastError, evaluationDurationSeconds, lastEvaluation };
}

function readAlert(r: ProtoReader): AlertingRuleProto {
  const end = r.subEnd();
  let state = 0;
  let name = '';
  let query = '';
  let durationSeconds = 0;
  let labels = Labels.EMPTY;
  let annotations = Labels.EMPTY;
  const alerts: AlertInstanceProto[] = [];
  let health = '';
  let lastError = '';
  let evaluationDurationSeconds = 0;
  let lastEvaluation: number | undefined;
  let keepFiringForSeconds = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | VI:
        state = r.int32();
        break;
      case (2 << 3) | LD:
        name = r.string();
        break;
      case (3 << 3) | LD:
        query = r.string();
        break;
      case (4 << 3) | F64:
        durationSeconds = r.double();
        break;
      case (5 << 3) | LD:
        labels = readLabelSet(r);
        break;
      case (6 << 3) | LD:
        annotations = readLabelSet(r);
        break;
      case (7 << 3) | LD:
        alerts.push(readAlertInstance(r));
        break;
      case (8 << 3) | LD:
        health = r.string();
        break;
      case (9 << 3) | LD:
        lastError = r.string();
        break;
      case (10 << 3) | F64:
        evaluationDurationSeconds = r.double();
        break;
      case (11 << 3) | LD:
        lastEvaluation = readTimestamp(r);
        break;
      case (12 << 3) | F64:
        keepFiringForSeconds = r.double();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.Alert');
  return {
    type: 'alerting',
    state: state as AlertStateProto,
    name,
    query,
    durationSeconds,
    labels,
    annotations,
    alerts,
    health,
    lastError,
    evaluationDurationSeconds,
    lastEvaluation,
    keepFiringForSeconds,
  };
}

function readRule(r: ProtoReader): RuleProto | undefined {
  const end = r.subEnd();
  let rule: RuleProto | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) rule = readRecording(r);
    else if (tag === ((2 << 3) | LD)) rule = readAlert(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.Rule');
  return rule;
}

function readRuleGroup(r: ProtoReader): RuleGroupProto {
  const end = r.subEnd();
  let name = '';
  let file = '';
  const rules: RuleProto[] = [];
  let interval = 0;
  let evaluationDurationSeconds = 0;
  let lastEvaluation: number | undefined;
  let limit = 0;
  let prs = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LD:
        name = r.string();
        break;
      case (2 << 3) | LD:
        file = r.string();
        break;
      case (3 << 3) | LD: {
        const rule = readRule(r);
        if (rule !== undefined) rules.push(rule);
        break;
      }
      case (4 << 3) | F64:
        interval = r.double();
        break;
      case (5 << 3) | F64:
        evaluationDurationSeconds = r.double();
        break;
      case (6 << 3) | LD:
        lastEvaluation = readTimestamp(r);
        break;
      case (8 << 3) | VI:
        prs = r.int32();
        break;
      case (9 << 3) | VI:
        limit = r.int64();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.RuleGroup');
  return { name, file, rules, interval, evaluationDurationSeconds, lastEvaluation, limit, partialResponseStrategy: prs as PartialResponseStrategy };
}

/** decodeRulesResponse decodes a thanos.RulesResponse (an empty message decodes as an empty warning). */
export function decodeRulesResponse(buf: Uint8Array): RulesResponse {
  const r = new ProtoReader(buf);
  let res: RulesResponse = { warning: '' };
  while (!r.done()) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LD)) res = { group: readRuleGroup(r) };
    else if (tag === ((2 << 3) | LD)) res = { warning: r.string() };
    else r.skip(tag & 7);
  }
  return res;
}
