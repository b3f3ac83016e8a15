import { ProtoReader, WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';
import type { LabelMatcher, LabelMatcherType, Query, ReadHints, ReadRequest } from './types.js';

/** encodeReadRequest serialises a ReadRequest (uncompressed protobuf). */
export function encodeReadRequest(req: ReadRequest, w: ProtoWriter = new ProtoWriter()): Uint8Array {
  for (const q of req.queries) {
    w.tag(1, WireType.Bytes).fork();
    writeQuery(w, q);
    w.join();
  }
  if (req.acceptedResponseTypes.length > 0) {
    // Packed, as Go's proto3 encoder writes repeated enums.
    w.tag(2, WireType.Bytes).fork();
    for (const t of req.acceptedResponseTypes) w.int64(t);
    w.join();
  }
  return w.finish();
}

function writeQuery(w: ProtoWriter, q: Query): void {
  if (q.startTimestampMs !== 0) w.tag(1, WireType.Varint).int64(q.startTimestampMs);
  if (q.endTimestampMs !== 0) w.tag(2, WireType.Varint).int64(q.endTimestampMs);
  for (const m of q.matchers) {
    w.tag(3, WireType.Bytes).fork();
    if (m.type !== 0) w.tag(1, WireType.Varint).uint32(m.type);
    if (m.name !== '') w.tag(2, WireType.Bytes).string(m.name);
    if (m.value !== '') w.tag(3, WireType.Bytes).string(m.value);
    w.join();
  }
  if (q.hints !== undefined) {
    const h = q.hints;
    w.tag(4, WireType.Bytes).fork();
    if (h.stepMs !== 0) w.tag(1, WireType.Varint).int64(h.stepMs);
    if (h.func !== '') w.tag(2, WireType.Bytes).string(h.func);
    if (h.startMs !== 0) w.tag(3, WireType.Varint).int64(h.startMs);
    if (h.endMs !== 0) w.tag(4, WireType.Varint).int64(h.endMs);
    for (const g of h.grouping) w.tag(5, WireType.Bytes).string(g);
    if (h.by) w.tag(6, WireType.Varint).bool(true);
    if (h.rangeMs !== 0) w.tag(7, WireType.Varint).int64(h.rangeMs);
    w.join();
  }
}

/** decodeReadRequest parses an (uncompressed) ReadRequest; unknown fields are skipped. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new ProtoReader(buf, 'ReadRequest');
  const req: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Bytes, 'queries');
        req.queries.push(readQuery(r.sub('Query')));
        break;
      case 2:
        r.repeatedVarint(wt, req.acceptedResponseTypes as number[]);
        break;
      default:
        r.skip(wt);
    }
  }
  for (const t of req.acceptedResponseTypes) if (t !== 0 && t !== 1) r.fail(`unknown response type ${t as number}`);
  return req;
}

function readQuery(r: ProtoReader): Query {
  const q: Query = { startTimestampMs: 0, endTimestampMs: 0, matchers: [] };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Varint, 'start_timestamp_ms');
        q.startTimestampMs = r.int64();
        break;
      case 2:
        r.expect(wt, WireType.Varint, 'end_timestamp_ms');
        q.endTimestampMs = r.int64();
        break;
      case 3:
        r.expect(wt, WireType.Bytes, 'matchers');
        q.matchers.push(readMatcher(r.sub('LabelMatcher')));
        break;
      case 4:
        r.expect(wt, WireType.Bytes, 'hints');
        q.hints = readHints(r.sub('ReadHints'));
        break;
      default:
        r.skip(wt);
    }
  }
  return q;
}

function readMatcher(r: ProtoReader): LabelMatcher {
  const m: LabelMatcher = { type: 0, name: '', value: '' };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1: {
        r.expect(wt, WireType.Varint, 'type');
        const t = r.uint32();
        if (t > 3) r.fail(`unknown matcher type ${t}`);
        m.type = t as LabelMatcherType;
        break;
      }
      case 2:
        r.expect(wt, WireType.Bytes, 'name');
        m.name = r.string();
        break;
      case 3:
        r.expect(wt, WireType.Bytes, 'value');
        m.value = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return m;
}

function readHints(r: ProtoReader): ReadHints {
  const h: ReadHints = { stepMs: 0, func: '', startMs: 0, endMs: 0, grouping: [], by: false, rangeMs: 0 };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Varint, 'step_ms');
        h.stepMs = r.int64();
        break;
      case 2:
        r.expect(wt, WireType.Bytes, 'func');
        h.func = r.string();
        break;
      case 3:
        r.expect(wt, WireType.Varint, 'start_ms');
        h.startMs = r.int64();
        break;
      case 4:
        r.expect(wt, WireType.Varint, 'end_ms');
        h.endMs = r.int64();
        break;
      case 5:
        r.expect(wt, WireType.Bytes, 'grouping');
        h.grouping.push(r.string());
        break;
      case 6:
        r.expect(wt, WireType.Varint, 'by');
        h.by = r.bool();
        break;
      case 7:
        r.expect(wt, WireType.Varint, 'range_ms');
        h.rangeMs = r.int64();
        break;
      default:
        r.skip(wt);
    }
  }
  return h;
}

