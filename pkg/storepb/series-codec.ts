import { Labels, compareStrings } from '../labels/index.js';
import type { AggrChunk, Any, SeriesResponse, StoreChunk, StoreSeries } from './messages.js';
import { ProtoReader, ProtoDecodeError } from './proto-reader.js';
import { StringInterner } from './string-interner.js';
import { ProtoWriter, WireType, fieldSize, int64Size, utf8Size, varintSize32 } from './proto-writer.js';

// Hand-written codec of the hot StoreAPI messages: SeriesResponse, SeriesBatch, Series, AggrChunk,
// Chunk, Label. Encoding computes exact sizes first and writes each byte once, so chunk data is
// copied exactly once (into the output buffer). Decoding returns chunk data as views of the input.

function varint64Size(lo: number, hi: number): number {
  return hi === 0 ? varintSize32(lo) : Math.ceil((64 - Math.clz32(hi)) / 7);
}

function chunkBodySize(c: StoreChunk): number {
  let n = 0;
  if (c.type !== 0) n += 1 + varintSize32(c.type);
  if (c.data.length > 0) n += fieldSize(2, c.data.length);
  if (c.hashLo !== 0 || c.hashHi !== 0) n += 1 + varint64Size(c.hashLo >>> 0, c.hashHi >>> 0);
  return n;
}

function aggrBodySize(a: AggrChunk): number {
  const e = a.encoded;
  if (e !== undefined) return e.length;
  let n = 0;
  if (a.minTime !== 0) n += 1 + int64Size(a.minTime);
  if (a.maxTime !== 0) n += 1 + int64Size(a.maxTime);
  if (a.raw !== undefined) n += fieldSize(3, chunkBodySize(a.raw));
  if (a.count !== undefined) n += fieldSize(4, chunkBodySize(a.count));
  if (a.sum !== undefined) n += fieldSize(5, chunkBodySize(a.sum));
  if (a.min !== undefined) n += fieldSize(6, chunkBodySize(a.min));
  if (a.max !== undefined) n += fieldSize(7, chunkBodySize(a.max));
  if (a.counter !== undefined) n += fieldSize(8, chunkBodySize(a.counter));
  return n;
}

function labelBodySize(name: string, value: string): number {
  let n = 0;
  if (name.length > 0) n += fieldSize(1, utf8Size(name));
  if (value.length > 0) n += fieldSize(2, utf8Size(value));
  return n;
}

/** seriesBodySize returns the encoded size of a thanos.Series message body. */
export function seriesBodySize(s: StoreSeries): number {
  let n = 0;
  const kv = s.labels.flat();
  for (let i = 0; i < kv.length; i += 2) n += fieldSize(1, labelBodySize(kv[i]!, kv[i + 1]!));
  for (const c of s.chunks) n += fieldSize(2, aggrBodySize(c));
  return n;
}

function writeChunk(w: ProtoWriter, field: number, c: StoreChunk): void {
  w.tag(field, WireType.LengthDelimited).uint32(chunkBodySize(c));
  if (c.type !== 0) w.tag(1, WireType.Varint).uint32(c.type);
  if (c.data.length > 0) w.tag(2, WireType.LengthDelimited).bytes(c.data);
  if (c.hashLo !== 0 || c.hashHi !== 0) w.tag(3, WireType.Varint).varint64(c.hashLo, c.hashHi);
}

function writeAggr(w: ProtoWriter, a: AggrChunk): void {
  const e = a.encoded;
  if (e !== undefined) {
    w.tag(2, WireType.LengthDelimited).bytes(e);
    return;
  }
  w.tag(2, WireType.LengthDelimited).uint32(aggrBodySize(a));
  writeAggrFields(w, a);
}

function writeAggrFields(w: ProtoWriter, a: AggrChunk): void {
  if (a.minTime !== 0) w.tag(1, WireType.Varint).int64(a.minTime);
  if (a.maxTime !== 0) w.tag(2, WireType.Varint).int64(a.maxTime);
  if (a.raw !== undefined) writeChunk(w, 3, a.raw);
  if (a.count !== undefined) writeChunk(w, 4, a.count);
  if (a.sum !== undefined) writeChunk(w, 5, a.sum);
  if (a.min !== undefined) writeChunk(w, 6, a.min);
  if (a.max !== undefined) writeChunk(w, 7, a.max);
  if (a.counter !== undefined) writeChunk(w, 8, a.counter);
}

const AGGR_FIELDS = ['raw', 'count', 'sum', 'min', 'max', 'counter'] as const;

/**
 * preEncodedAggrChunk returns a copy of a that carries its own encoded body (AggrChunk.encoded),
 * for a chunk that is sent many times (e.g. one held in a store's chunk cache): encoding it then
 * copies one byte array. The copy's chunk data are views into that body (no second copy of the
 * bytes is kept); like the body, they must never be modified.
 */
export function preEncodedAggrChunk(a: AggrChunk): AggrChunk {
  const w = new ProtoWriter(aggrBodySize(a));
  writeAggrFields(w, a);
  const body = w.finish();
  const out: { -readonly [K in keyof AggrChunk]: AggrChunk[K] } = { minTime: a.minTime, maxTime: a.maxTime };
  // Each chunk's data is the last field of its sub-message when present (type, data, hash order):
  // find it by walking the body the way it was written.
  let at = 0;
  if (a.minTime !== 0) at += 1 + int64Size(a.minTime);
  if (a.maxTime !== 0) at += 1 + int64Size(a.maxTime);
  for (let f = 0; f < AGGR_FIELDS.length; f++) {
    const c = a[AGGR_FIELDS[f]!];
    if (c === undefined) continue;
    const len = chunkBodySize(c);
    at += 1 + varintSize32(len);
    let d = at;
    if (c.type !== 0) d += 1 + varintSize32(c.type);
    const data = c.data.length > 0 ? body.subarray(d + 1 + varintSize32(c.data.length), d + 1 + varintSize32(c.data.length) + c.data.length) : c.data;
    out[AGGR_FIELDS[f]!] = { type: c.type, data, hashHi: c.hashHi, hashLo: c.hashLo };
    at += len;
  }
  Object.defineProperty(out, 'encoded', { value: body, enumerable: false, writable: false, configurable: false });
  return out;
}

/** writeSeries writes s as length-delimited field `field` (body size precomputed by the caller or not). */
export function writeSeries(w: ProtoWriter, field: number, s: StoreSeries, bodySize = seriesBodySize(s)): void {
  w.tag(field, WireType.LengthDelimited).uint32(bodySize);
  const kv = s.labels.flat();
  for (let i = 0; i < kv.length; i += 2) {
    const name = kv[i]!;
    const value = kv[i + 1]!;
    const nl = utf8Size(name);
    const vl = utf8Size(value);
    let body = 0;
    if (nl > 0) body += fieldSize(1, nl);
    if (vl > 0) body += fieldSize(2, vl);
    w.tag(1, WireType.LengthDelimited).uint32(body);
    if (nl > 0) w.tag(1, WireType.LengthDelimited).string(name, nl);
    if (vl > 0) w.tag(2, WireType.LengthDelimited).string(value, vl);
  }
  for (const c of s.chunks) writeAggr(w, c);
}

function anyBodySize(a: Any): number {
  let n = 0;
  if (a.typeUrl.length > 0) n += fieldSize(1, utf8Size(a.typeUrl));
  if (a.value.length > 0) n += fieldSize(2, a.value.length);
  return n;
}

/** writeAny writes a google.protobuf.Any as field `field`. */
export function writeAny(w: ProtoWriter, field: number, a: Any): void {
  w.tag(field, WireType.LengthDelimited).uint32(anyBodySize(a));
  if (a.typeUrl.length > 0) w.tag(1, WireType.LengthDelimited).string(a.typeUrl);
  if (a.value.length > 0) w.tag(2, WireType.LengthDelimited).bytes(a.value);
}

/** seriesResponseSize returns the exact encoded size of a SeriesResponse frame. */
export function seriesResponseSize(resp: SeriesResponse): number {
  switch (resp.kind) {
    case 'series':
      return fieldSize(1, seriesBodySize(resp.series));
    case 'warning':
      return fieldSize(2, utf8Size(resp.warning));
    case 'hints':
      return fieldSize(3, anyBodySize(resp.hints));
    case 'batch': {
      let n = 0;
      for (const s of resp.batch) n += fieldSize(1, seriesBodySize(s));
      return fieldSize(4, n);
    }
    case 'unknown':
      return 0;
  }
}

/**
 * encodeSeriesResponse encodes one SeriesResponse frame into a buffer of exactly its size,
 * obtained from alloc (e.g. Buffer.allocUnsafe at the gRPC edge). Chunk bytes are copied once.
 */
export function encodeSeriesResponse(resp: SeriesResponse, alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n)): Uint8Array {
  switch (resp.kind) {
    case 'series': {
      const body = seriesBodySize(resp.series);
      const w = new ProtoWriter(fieldSize(1, body), alloc);
      writeSeries(w, 1, resp.series, body);
      return w.finish();
    }
    case 'warning': {
      const w = new ProtoWriter(fieldSize(2, utf8Size(resp.warning)), alloc);
      w.tag(2, WireType.LengthDelimited).string(resp.warning);
      return w.finish();
    }
    case 'hints': {
      const w = new ProtoWriter(fieldSize(3, anyBodySize(resp.hints)), alloc);
      writeAny(w, 3, resp.hints);
      return w.finish();
    }
    case 'batch': {
      const sizes = resp.batch.map(seriesBodySize);
      let n = 0;
      for (const s of sizes) n += fieldSize(1, s);
      const w = new ProtoWriter(fieldSize(4, n), alloc);
      w.tag(4, WireType.LengthDelimited).uint32(n);
      resp.batch.forEach((s, i) => writeSeries(w, 1, s, sizes[i]!));
      return w.finish();
    }
    case 'unknown':
      return alloc(0);
  }
}

function readChunk(r: ProtoReader): StoreChunk {
  const end = r.subEnd();
  let type = 0;
  let data: Uint8Array = EMPTY;
  let hashLo = 0;
  let hashHi = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WireType.Varint:
        type = r.int32();
        break;
      case (2 << 3) | WireType.LengthDelimited:
        data = r.bytesView();
        break;
      case (3 << 3) | WireType.Varint:
        r.varint64();
        hashLo = r.lo;
        hashHi = r.hi;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.Chunk');
  return { type: type as StoreChunk['type'], data, hashHi, hashLo };
}

const EMPTY = new Uint8Array(0);

function readAggr(r: ProtoReader): AggrChunk {
  const end = r.subEnd();
  let minTime = 0;
  let maxTime = 0;
  let raw: StoreChunk | undefined;
  let count: StoreChunk | undefined;
  let sum: StoreChunk | undefined;
  let min: StoreChunk | undefined;
  let max: StoreChunk | undefined;
  let counter: StoreChunk | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WireType.Varint:
        minTime = r.int64();
        break;
      case (2 << 3) | WireType.Varint:
        maxTime = r.int64();
        break;
      case (3 << 3) | WireType.LengthDelimited:
        raw = readChunk(r);
        break;
      case (4 << 3) | WireType.LengthDelimited:
        count = readChunk(r);
        break;
      case (5 << 3) | WireType.LengthDelimited:
        sum = readChunk(r);
        break;
      case (6 << 3) | WireType.LengthDelimited:
        min = readChunk(r);
        break;
      case (7 << 3) | WireType.LengthDelimited:
        max = readChunk(r);
        break;
      case (8 << 3) | WireType.LengthDelimited:
        counter = readChunk(r);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'thanos.AggrChunk');
  return { minTime, maxTime, raw, count, sum, min, max, counter };
}

/** labelStrings interns the label names and values of decoded messages (see StringInterner). */
const labelStrings = new StringInterner();

/** readLabelString reads a length-delimited string through labelStrings. */
function readLabelString(r: ProtoReader): string {
  const n = r.length();
  const s = labelStrings.decode(r.buf, r.pos, r.pos + n);
  r.pos += n;
  return s;
}

/** readLabelAt reads one thanos.Label body into kv[i], kv[i + 1]. */
function readLabelAt(r: ProtoReader, kv: string[], i: number): void {
  const end = r.subEnd();
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WireType.LengthDelimited)) name = readLabelString(r);
    else if (tag === ((2 << 3) | WireType.LengthDelimited)) value = readLabelString(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.Label');
  kv[i] = name;
  kv[i + 1] = value;
}

/** readLabelInto reads one thanos.Label body and appends name and value to kv. */
export function readLabelInto(r: ProtoReader, kv: string[]): void {
  readLabelAt(r, kv, kv.length);
}

/** labelsFromFlat wraps a decoded name/value list, sorting and deduplicating only when needed. */
export function labelsFromFlat(kv: string[]): Labels {
  for (let i = 0; i < kv.length; i += 2) {
    if (kv[i + 1] === '' || (i > 0 && compareStrings(kv[i - 2]!, kv[i]!) >= 0)) {
      const pairs = [];
      for (let j = 0; j < kv.length; j += 2) pairs.push({ name: kv[j]!, value: kv[j + 1]! });
      return Labels.fromPairs(pairs);
    }
  }
  return Labels.fromSortedFlat(kv);
}

/** kvScratch collects a series' labels while it is read (then copied at its exact size). */
const kvScratch: string[] = new Array<string>(32).fill('');

/** readSeries reads one length-delimited thanos.Series. */
export function readSeries(r: ProtoReader): StoreSeries {
  const end = r.subEnd();
  const kv = kvScratch;
  let n = 0;
  const chunks: AggrChunk[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WireType.LengthDelimited)) {
      readLabelAt(r, kv, n);
      n += 2;
    } else if (tag === ((2 << 3) | WireType.LengthDelimited)) chunks.push(readAggr(r));
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'thanos.Series');
  return { labels: labelsFromFlat(kv.slice(0, n)), chunks };
}

/** readAny reads one length-delimited google.protobuf.Any (value is a view of the input). */
export function readAny(r: ProtoReader): Any {
  const end = r.subEnd();
  let typeUrl = '';
  let value: Uint8Array = EMPTY;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WireType.LengthDelimited)) typeUrl = r.string();
    else if (tag === ((2 << 3) | WireType.LengthDelimited)) value = r.bytes();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'google.protobuf.Any');
  return { typeUrl, value };
}

/**
 * decodeSeriesResponse decodes one SeriesResponse frame. Chunk data are views of buf (no copy):
 * they keep buf alive and must not outlive modifications of buf. A frame with no known oneof case
 * decodes as { kind: 'unknown' }, which clients ignore.
 */
export function decodeSeriesResponse(buf: Uint8Array): SeriesResponse {
  const r = new ProtoReader(buf);
  let out: SeriesResponse = { kind: 'unknown' };
  while (!r.done()) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WireType.LengthDelimited:
        out = { kind: 'series', series: readSeries(r) };
        break;
      case (2 << 3) | WireType.LengthDelimited:
        out = { kind: 'warning', warning: r.string() };
        break;
      case (3 << 3) | WireType.LengthDelimited:
        out = { kind: 'hints', hints: readAny(r) };
        break;
      case (4 << 3) | WireType.LengthDelimited: {
        const end = r.subEnd();
        const batch: StoreSeries[] = [];
        while (r.pos < end) {
          const t = r.uint32();
          if (t === ((1 << 3) | WireType.LengthDelimited)) batch.push(readSeries(r));
          else r.skip(t & 7);
        }
        r.expectEnd(end, 'thanos.SeriesBatch');
        out = { kind: 'batch', batch };
        break;
      }
      default:
        if ((tag & 7) === 4 || tag >>> 3 === 0) throw new ProtoDecodeError(`decode thanos.SeriesResponse: invalid tag ${tag} at offset ${r.pos}`, r.pos);
        r.skip(tag & 7);
    }
  }
  return out;
}
