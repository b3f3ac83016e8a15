import { CounterResetHint, type Span } from '../histogram/index.js';
import type { BitReader } from './bit-reader.js';
import type { BitWriter } from './bstream.js';
import { floatBits } from './float-bits.js';
import { putVarbitInt, putVarbitUint } from './varbit.js';

const { f64, u32, HI, LO } = floatBits;

/** HISTOGRAM_HEADER_SIZE is BE16 sample count + one flags byte. */
export const HISTOGRAM_HEADER_SIZE = 3;

/**
 * CounterResetHeader is the top two bits of a histogram chunk's flags byte (byte 2): whether the
 * chunk was cut because of a counter reset, definitely was not, is unknown, or holds gauge
 * histograms. Values are the whole masked byte, as in Prometheus.
 */
export const CounterResetHeader = {
  Unknown: 0b0000_0000,
  NotCounterReset: 0b0100_0000,
  CounterReset: 0b1000_0000,
  Gauge: 0b1100_0000,
} as const;
export type CounterResetHeader = (typeof CounterResetHeader)[keyof typeof CounterResetHeader];

/** COUNTER_RESET_HEADER_MASK selects the counter reset bits of the flags byte. */
export const COUNTER_RESET_HEADER_MASK = 0b1100_0000;

/** CUSTOM_BUCKETS_SCHEMA is the schema of native histograms with custom bucket bounds (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/** isKnownSchema accepts the exponential schemas −4…8 and the custom-buckets schema −53. */
export function isKnownSchema(schema: number): boolean {
  return (schema >= -4 && schema <= 8) || schema === CUSTOM_BUCKETS_SCHEMA;
}

/**
 * hintFor returns the CounterResetHint of the sample numRead (1-based) of a chunk with the given
 * header, as Prometheus ≥ 3.0 does: gauge chunks hold gauges; samples after the first are never
 * counter resets; the first one is "unknown", since the previous chunk may not be adjacent.
 */
export function hintFor(header: number, numRead: number): CounterResetHint {
  if (header === CounterResetHeader.Gauge) return CounterResetHint.Gauge;
  if (numRead > 1) return CounterResetHint.NotCounterReset;
  return CounterResetHint.Unknown;
}

/** headerFor maps a histogram's counter reset hint to the header of a chunk it starts. */
export function headerFor(hint: CounterResetHint): CounterResetHeader {
  switch (hint) {
    case CounterResetHint.CounterReset:
      return CounterResetHeader.CounterReset;
    case CounterResetHint.NotCounterReset:
      return CounterResetHeader.NotCounterReset;
    case CounterResetHint.Gauge:
      return CounterResetHeader.Gauge;
    default:
      return CounterResetHeader.Unknown;
  }
}

/** HistogramLayout is the chunk-level part of a histogram chunk, written once before sample 0. */
export interface HistogramLayout {
  schema: number;
  zeroThreshold: number;
  positiveSpans: Span[];
  negativeSpans: Span[];
  customValues: number[];
}

/** readZeroThreshold reads the 1- or 9-byte zero threshold field. */
function readZeroThreshold(r: BitReader): number {
  const b = r.readByte();
  if (b === 0) return 0;
  if (b === 255) {
    r.readBits64(64);
    u32[HI] = r.hi;
    u32[LO] = r.lo;
    return f64[0]!;
  }
  return 2 ** (b - 244); // Ldexp(0.5, b-243)
}

/** putZeroThreshold writes 0 as 0x00, a power of two 2^-243…2^10 as one byte, else 0xff + 64 bits. */
function putZeroThreshold(w: BitWriter, t: number): void {
  if (t === 0) {
    w.writeByte(0);
    return;
  }
  f64[0] = t;
  const hi = u32[HI]!;
  const lo = u32[LO]!;
  const biased = (hi >>> 20) & 0x7ff;
  // A positive normal power of two has an all-zero mantissa; frexp's exponent is (biased-1023)+1.
  if (lo === 0 && (hi & 0x800fffff) === 0 && biased !== 0 && biased !== 0x7ff) {
    const exp = biased - 1023 + 1;
    if (exp >= -242 && exp <= 11) {
      w.writeByte(exp + 243);
      return;
    }
  }
  w.writeByte(255);
  w.writeBits64(hi, lo, 64);
}

function readSpans(r: BitReader, into: Span[]): void {
  const n = r.readVarbitUint();
  if (n > 1_000_000 || r.overrun) throw new RangeError(`span count ${n} is implausible`);
  into.length = 0;
  for (let i = 0; i < n; i++) {
    const length = r.readVarbitUint();
    const offset = r.readVarbitInt();
    into.push({ offset, length });
    if (r.overrun) return;
  }
}

function putSpans(w: BitWriter, spans: readonly Span[]): void {
  putVarbitUint(w, spans.length);
  for (const s of spans) {
    putVarbitUint(w, s.length);
    putVarbitInt(w, s.offset);
  }
}

/** readCustomBound: a varbit uint k > 0 is (k − 1) / 1000, k = 0 is followed by 64 raw bits. */
function readCustomBound(r: BitReader): number {
  const k = r.readVarbitUint();
  if (k !== 0) return (k - 1) / 1000;
  r.readBits64(64);
  u32[HI] = r.hi;
  u32[LO] = r.lo;
  return f64[0]!;
}

function putCustomBound(w: BitWriter, f: number): void {
  const tf = f * 1000;
  if (tf < 0 || tf > 33554430 || Math.round(tf) / 1000 !== f) {
    w.writeBit(0);
    f64[0] = f;
    w.writeBits64(u32[HI]!, u32[LO]!, 64);
    return;
  }
  putVarbitUint(w, Math.round(tf) + 1);
}

/** readHistogramLayout reads the layout into `into` (arrays reused). */
export function readHistogramLayout(r: BitReader, into: HistogramLayout): void {
  into.zeroThreshold = readZeroThreshold(r);
  into.schema = r.readVarbitInt();
  readSpans(r, into.positiveSpans);
  readSpans(r, into.negativeSpans);
  into.customValues.length = 0;
  if (into.schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = r.readVarbitUint();
    if (n > 1_000_000 || r.overrun) throw new RangeError(`custom bound count ${n} is implausible`);
    for (let i = 0; i < n && !r.overrun; i++) into.customValues.push(readCustomBound(r));
  }
}

/** writeHistogramLayout writes the layout of h (zero threshold, schema, spans, custom bounds). */
export function writeHistogramLayout(w: BitWriter, h: Readonly<HistogramLayout>): void {
  putZeroThreshold(w, h.zeroThreshold);
  putVarbitInt(w, h.schema);
  putSpans(w, h.positiveSpans);
  putSpans(w, h.negativeSpans);
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    putVarbitUint(w, h.customValues.length);
    for (const b of h.customValues) putCustomBound(w, b);
  }
}

/** countSpans is the number of buckets the spans describe. */
export function countSpans(spans: readonly Span[]): number {
  let n = 0;
  for (const s of spans) n += s.length;
  return n;
}

/** spansEqual compares two span lists. */
export function spansEqual(a: readonly Span[], b: readonly Span[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.offset !== b[i]!.offset || a[i]!.length !== b[i]!.length) return false;
  return true;
}

/** valuesEqual compares two number lists exactly. */
export function valuesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** copySpans overwrites `into` with the spans of `from`, reusing span objects. */
export function copySpans(into: Span[], from: readonly Span[]): void {
  for (let i = 0; i < from.length; i++) {
    const s = from[i]!;
    const d = into[i];
    if (d === undefined) into.push({ offset: s.offset, length: s.length });
    else {
      d.offset = s.offset;
      d.length = s.length;
    }
  }
  into.length = from.length;
}
