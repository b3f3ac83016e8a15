import { CUSTOM_BUCKETS_SCHEMA, floatBits } from '../../chunkenc/index.js';
import { Decbuf, Encbuf } from '../../encoding/index.js';
import { FloatHistogram, type CounterResetHint, type Span } from '../../histogram/index.js';
import { Labels } from '../../labels/index.js';

/**
 * RecordType numbers the WAL record types of Prometheus's tsdb/record package (first byte of a
 * record). We write Series, Samples (v1), FloatHistogramSamples and
 * CustomBucketsFloatHistogramSamples (v1) and read those plus Tombstones/Exemplars/Metadata/
 * MmapMarkers (skipped).
 */
export const RecordType = {
  Series: 1,
  Samples: 2,
  Tombstones: 3,
  Exemplars: 4,
  MmapMarkers: 5,
  Metadata: 6,
  HistogramSamples: 7,
  FloatHistogramSamples: 8,
  CustomBucketsHistogramSamples: 9,
  CustomBucketsFloatHistogramSamples: 10,
} as const;

/** encodeSeriesRecord appends a Series record: per series BE64 ref then uvarint count and uvarint-prefixed names and values. */
export function encodeSeriesRecord(buf: Encbuf, series: readonly { ref: number; labels: Labels }[]): void {
  buf.putByte(RecordType.Series);
  for (const s of series) {
    buf.putBE64(s.ref);
    buf.putUvarint(s.labels.size);
    s.labels.forEach((n, v) => {
      buf.putUvarintStr(n);
      buf.putUvarintStr(v);
    });
  }
}

function putFloatBits(buf: Encbuf, v: number): void {
  floatBits.f64[0] = v;
  buf.putBE32(floatBits.u32[floatBits.HI]!);
  buf.putBE32(floatBits.u32[floatBits.LO]!);
}

function getFloatBits(d: Decbuf): number {
  const hi = d.be32();
  const lo = d.be32();
  floatBits.u32[floatBits.HI] = hi;
  floatBits.u32[floatBits.LO] = lo;
  return floatBits.f64[0]!;
}

/**
 * encodeSamplesRecord appends a Samples (v1) record for samples [from, to) of the arrays: BE64
 * first ref, BE64 first t, then per sample varint ref delta, varint t delta, BE64 value bits.
 */
export function encodeSamplesRecord(buf: Encbuf, refs: ArrayLike<number>, ts: ArrayLike<number>, vs: ArrayLike<number>, from: number, to: number): void {
  buf.putByte(RecordType.Samples);
  if (to <= from) return;
  const r0 = refs[from]!;
  const t0 = ts[from]!;
  buf.putBE64(r0);
  buf.putBE64Int(t0);
  for (let i = from; i < to; i++) {
    buf.putVarint(refs[i]! - r0);
    buf.putVarint(ts[i]! - t0);
    putFloatBits(buf, vs[i]!);
  }
}

function putHistogram(buf: Encbuf, h: FloatHistogram): void {
  buf.putByte(h.counterResetHint);
  buf.putVarint(h.schema);
  putFloatBits(buf, h.zeroThreshold);
  putFloatBits(buf, h.zeroCount);
  putFloatBits(buf, h.count);
  putFloatBits(buf, h.sum);
  for (const spans of [h.positiveSpans, h.negativeSpans]) {
    buf.putUvarint(spans.length);
    for (const s of spans) {
      buf.putVarint(s.offset);
      buf.putUvarint(s.length);
    }
  }
  for (const b of [h.positiveBuckets, h.negativeBuckets]) {
    buf.putUvarint(b.length);
    for (const v of b) putFloatBits(buf, v);
  }
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    buf.putUvarint(h.customValues.length);
    for (const v of h.customValues) putFloatBits(buf, v);
  }
}

/**
 * encodeFloatHistogramRecord appends a FloatHistogramSamples record (or, with custom=true, a
 * CustomBucketsFloatHistogramSamples record) for the given samples; the caller splits
 * custom-bucket histograms (schema −53) from exponential ones, as Prometheus does.
 */
export function encodeFloatHistogramRecord(buf: Encbuf, custom: boolean, refs: readonly number[], ts: readonly number[], hs: readonly FloatHistogram[]): void {
  buf.putByte(custom ? RecordType.CustomBucketsFloatHistogramSamples : RecordType.FloatHistogramSamples);
  if (refs.length === 0) return;
  const r0 = refs[0]!;
  const t0 = ts[0]!;
  buf.putBE64(r0);
  buf.putBE64Int(t0);
  for (let i = 0; i < refs.length; i++) {
    buf.putVarint(refs[i]! - r0);
    buf.putVarint(ts[i]! - t0);
    putHistogram(buf, hs[i]!);
  }
}

/** Visitor receives the decoded content of records; unknown or unused record types are skipped. */
export interface RecordVisitor {
  series(ref: number, labels: Labels): void;
  sample(ref: number, t: number, v: number): void;
  histogram(ref: number, t: number, h: FloatHistogram): void;
}

function readHistogram(d: Decbuf, integer: boolean): FloatHistogram {
  const h = new FloatHistogram();
  h.counterResetHint = d.byte() as CounterResetHint;
  h.schema = d.varint();
  h.zeroThreshold = getFloatBits(d);
  if (integer) {
    h.zeroCount = d.uvarint();
    h.count = d.uvarint();
  } else {
    h.zeroCount = getFloatBits(d);
    h.count = getFloatBits(d);
  }
  h.sum = getFloatBits(d);
  const spans = (): Span[] => {
    const n = d.uvarint();
    const out: Span[] = [];
    for (let i = 0; i < n && d.err() === null; i++) out.push({ offset: d.varint(), length: d.uvarint() });
    return out;
  };
  h.positiveSpans = spans();
  h.negativeSpans = spans();
  const buckets = (): number[] => {
    const n = d.uvarint();
    const out: number[] = [];
    let acc = 0;
    for (let i = 0; i < n && d.err() === null; i++) {
      if (integer) {
        acc += d.varint();
        out.push(acc);
      } else out.push(getFloatBits(d));
    }
    return out;
  };
  h.positiveBuckets = buckets();
  h.negativeBuckets = buckets();
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = d.uvarint();
    for (let i = 0; i < n && d.err() === null; i++) h.customValues.push(getFloatBits(d));
  }
  return h;
}

/**
 * decodeRecord decodes one WAL record into the visitor. Integer histogram records (written by
 * Prometheus, not by us) are converted to float histograms. Throws on a malformed record.
 */
export function decodeRecord(rec: Uint8Array, v: RecordVisitor): void {
  if (rec.length === 0) return;
  const d = new Decbuf(rec);
  const type = d.byte();
  switch (type) {
    case RecordType.Series:
      while (d.remaining > 0 && d.err() === null) {
        const ref = d.be64();
        const n = d.uvarint();
        const kv: string[] = [];
        for (let i = 0; i < n && d.err() === null; i++) kv.push(d.uvarintStr(), d.uvarintStr());
        if (d.err() === null) v.series(ref, Labels.fromSortedFlat(kv));
      }
      break;
    case RecordType.Samples: {
      if (d.remaining === 0) break;
      const r0 = d.be64();
      const t0 = d.be64Int();
      while (d.remaining > 0 && d.err() === null) {
        const ref = r0 + d.varint();
        const t = t0 + d.varint();
        const val = getFloatBits(d);
        if (d.err() === null) v.sample(ref, t, val);
      }
      break;
    }
    case RecordType.HistogramSamples:
    case RecordType.CustomBucketsHistogramSamples:
    case RecordType.FloatHistogramSamples:
    case RecordType.CustomBucketsFloatHistogramSamples: {
      if (d.remaining === 0) break;
      const integer = type === RecordType.HistogramSamples || type === RecordType.CustomBucketsHistogramSamples;
      const r0 = d.be64();
      const t0 = d.be64Int();
      while (d.remaining > 0 && d.err() === null) {
        const ref = r0 + d.varint();
        const t = t0 + d.varint();
        const h = readHistogram(d, integer);
        if (d.err() === null) v.histogram(ref, t, h);
      }
      break;
    }
    default:
      return;
  }
  const err = d.err();
  if (err !== null) throw err;
}
