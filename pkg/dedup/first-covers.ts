import { lowerBound, upperBound, ValueType, XorBulkDecoder, XorChunk, xorNumSamples, type Chunk, type FloatSampleSink } from '../chunkenc/index.js';
import type { ChunkFollowOptions } from './chunk-follow-iterator.js';
import { chunkMean, othersAfter, ownDelta } from './follow-rules.js';

const decoder = new XorBulkDecoder();
const sink: FloatSampleSink = { fts: new Float64Array(256), fvs: new Float64Array(256), fn: 0, sts: new Float64Array(16), sn: 0 };
/** acc keeps replica 0's samples (values too) while firstCoveredSamples runs: every XOR chunk read, in order. */
const acc: FloatSampleSink = { fts: new Float64Array(256), fvs: new Float64Array(256), fn: 0, sts: new Float64Array(16), sn: 0 };
let keep = false;
let kept = true;

let generation = 0;

/**
 * CoveredSamples are replica 0's samples in [mint, maxt]: values in fts/fvs, staleness markers'
 * timestamps in sts. They are views of buffers the next firstCoveredSamples call reuses: valid()
 * tells whether they still hold these samples (read them right away, or copy them).
 */
export interface CoveredSamples {
  readonly fts: Float64Array;
  readonly fvs: Float64Array;
  readonly sts: Float64Array;
  valid(): boolean;
}

/** Covered is CoveredSamples of one call: valid while no later call reused the buffers (its generation is the current one). */
class Covered implements CoveredSamples {
  readonly fts: Float64Array;
  readonly fvs: Float64Array;
  readonly sts: Float64Array;
  readonly #gen: number;

  constructor(fts: Float64Array, fvs: Float64Array, sts: Float64Array, gen: number) {
    this.fts = fts;
    this.fvs = fvs;
    this.sts = sts;
    this.#gen = gen;
  }

  valid(): boolean {
    return generation === this.#gen;
  }
}

/**
 * firstCoveredSamples is firstCovers' answer, and when it is true and every chunk of replica 0
 * it read was XOR, the samples it decoded for the check, bounded to [mint, maxt] (views, see CoveredSamples):
 * exactly what a reader of replica 0's chunks over [mint, maxt] gets, so it need not decode
 * them again. true without samples when a chunk was not XOR.
 */
export function firstCoveredSamples(o: ChunkFollowOptions): CoveredSamples | boolean {
  const gen = ++generation;
  keep = true;
  kept = true;
  acc.fn = 0;
  acc.sn = 0;
  let ok: boolean;
  try {
    ok = firstCovers(o);
  } finally {
    keep = false;
  }
  if (!ok || !kept) return ok;
  const a = lowerBound(acc.fts, acc.fn, o.mint);
  const b = upperBound(acc.fts, acc.fn, o.maxt);
  const c = lowerBound(acc.sts, acc.sn, o.mint);
  const d = upperBound(acc.sts, acc.sn, o.maxt);
  return new Covered(acc.fts.subarray(a, b), acc.fvs.subarray(a, b), acc.sts.subarray(c, d), gen);
}

/**
 * firstCovers tells, at chunk level, whether ChunkFollowIterator over these options yields exactly
 * replica 0's samples in [mint, maxt] (then a reader can take replica 0's chunks as they are, e.g.
 * the PromQL engine's bulk decoder, with no per-sample dedup step). It reads replica 0's
 * timestamps in [mint − ctx, maxt + ctx] (XOR chunks in one decoding loop each) and applies
 * ChunkFollowIterator's own rules: the start is taken from replica 0's first sample f0 < mint
 * (its chunk's interval known; for counters no other replica with a sample before f0 − δ/2), and
 * every next sample up to and including the first one after maxt passes the check (neither in a
 * gap nor thinned by replica 0's own interval), so no DedupIterator is ever opened. false means
 * "not shown", never a different result: the caller then iterates.
 */
export function firstCovers(o: ChunkFollowOptions): boolean {
  const first = o.replicas[0];
  if (first === undefined || o.replicas.length < 2) return false;
  const lo = o.mint - o.ctx;
  const hi = o.maxt + o.ctx;
  const rs = first.ranges;
  let started = false;
  let p1 = NaN;
  let p2 = NaN;
  let p3 = NaN;
  let p4 = NaN;
  let h1 = NaN;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    if (r.maxTime < lo) continue;
    if (r.minTime > hi) break;
    // XOR data is decoded as it is (no chunk made), other chunks through their iterators.
    const xb = first.xor?.(i);
    let mean: number;
    let n: number;
    if (xb !== undefined) {
      mean = chunkMean(r, xorNumSamples(xb));
      n = decodeXor(xb, lo, hi);
    } else {
      const c = first.chunk(i);
      mean = chunkMean(r, c.numSamples());
      n = decode(c, lo, hi);
    }
    if (n < 0) return false;
    const ts = sink.fts;
    let k = 0;
    if (!started) {
      if (n === 0) continue;
      const s = ts[0]!;
      if (!(s < o.mint && mean > 0 && mean !== Infinity)) return false;
      if (o.counter === true && !othersAfter(o.replicas, lo, hi, s - mean / 2)) return false;
      started = true;
      p1 = s;
      h1 = mean;
      k = 1;
    }
    // Until three deltas are known, DedupIterator's δ as written; then the same minimum, kept in locals.
    for (; k < n && Number.isNaN(p4); k++) {
      const s = ts[k]!;
      const d = ownDelta(p1, p2, p3, p4, h1);
      const step = 2 * (s - p1);
      if (!(step >= d && step <= 3 * d)) return false;
      if (s > o.maxt) return true;
      p4 = p3;
      p3 = p2;
      p2 = p1;
      p1 = s;
      h1 = mean;
    }
    const h = mean > 0 && mean !== Infinity ? mean : Infinity;
    let d1 = p1 - p2;
    let d2 = p2 - p3;
    let d3 = p3 - p4;
    const maxt = o.maxt;
    if (k < n) {
      // The samples up to the first one after maxt (or the chunk's end) all pass the check below
      // when their deltas and the three before them lie in [lo, hi] with 2·lo ≥ hi and 2·hi ≤ 3·m,
      // m the smallest of lo and the hints: each check's δ is one of those deltas or hints (so at
      // least m, and at most the delta before the sample, so at most hi), and the sample's delta is
      // in [lo, hi]. Then only the state is carried on; otherwise each sample is checked as it is.
      const end = ts[n - 1]! > maxt ? upperBound(ts, n, maxt) + 1 : n;
      let lo = d1 < d2 ? d1 : d2;
      if (d3 < lo) lo = d3;
      let hi = d1 > d2 ? d1 : d2;
      if (d3 > hi) hi = d3;
      let prev = p1;
      for (let j = k; j < end; j++) {
        const s = ts[j]!;
        const delta = s - prev;
        if (delta < lo) lo = delta;
        if (delta > hi) hi = delta;
        prev = s;
      }
      let m = lo;
      if (h1 > 0 && h1 < m) m = h1;
      if (h < m) m = h;
      if (2 * lo >= hi && 2 * hi <= 3 * m) {
        if (ts[end - 1]! > maxt) return true;
        // Carry the state on as the loop below would: the last sample, the last three deltas.
        const q = n - 3 > k ? n - 3 : k;
        let last = q > k ? ts[q - 1]! : p1;
        for (let j = q; j < n; j++) {
          const s = ts[j]!;
          d3 = d2;
          d2 = d1;
          d1 = s - last;
          last = s;
        }
        p1 = last;
        h1 = h;
        k = n;
      }
    }
    for (; k < n; k++) {
      const s = ts[k]!;
      // δ at p1: the smallest of the hint at p1 (h1) and the last three deltas.
      let d = h1 > 0 && h1 !== Infinity ? h1 : Infinity;
      if (d1 < d) d = d1;
      if (d2 < d) d = d2;
      if (d3 < d) d = d3;
      const delta = s - p1;
      if (!(2 * delta >= d && 2 * delta <= 3 * d)) return false;
      if (s > maxt) return true;
      d3 = d2;
      d2 = d1;
      d1 = delta;
      p1 = s;
      h1 = h;
    }
    p2 = p1 - d1;
    p3 = p2 - d2;
    p4 = p3 - d3;
  }
  // Replica 0 ends within the window: the DedupIterator decides after its last sample.
  return false;
}

/**
 * decode puts the timestamps of chunk c's samples in [lo, hi] (from its first one at or after lo)
 * in sink.fts[0..n) in order, staleness markers included (they are samples to dedup); n, or -1
 * for a chunk it cannot read.
 */
function decode(c: Chunk, lo: number, hi: number): number {
  if (c instanceof XorChunk) return decodeXor(c.bytes(), lo, hi);
  sink.fn = 0;
  sink.sn = 0;
  kept = false;
  const it = c.iterator();
  let n = 0;
  for (let ty = it.seek(lo); ty !== ValueType.None && it.atT() <= hi; ty = it.next()) {
    if (n === sink.fts.length) {
      const b = new Float64Array(2 * n);
      b.set(sink.fts);
      sink.fts = b;
    }
    sink.fts[n++] = it.atT();
  }
  if (it.err() !== null) return -1;
  sink.fn = n;
  return n;
}

/**
 * decodeKept is decode for firstCoveredSamples: the chunk's samples in [lo, hi] are appended to
 * acc (values and markers) and their timestamps, markers merged in, put in sink.fts as decode does.
 */
/** decodeXor is decode for XOR chunk data. */
function decodeXor(data: Uint8Array, lo: number, hi: number): number {
  sink.fn = 0;
  sink.sn = 0;
  if (keep) return decodeKept(data, lo, hi);
  try {
    decoder.decodeInto(data, lo, hi, sink);
  } catch {
    return -1;
  }
  if (sink.sn > 0) mergeMarkers();
  return sink.fn;
}

function decodeKept(data: Uint8Array, lo: number, hi: number): number {
  const f0 = acc.fn;
  const s0 = acc.sn;
  try {
    decoder.decodeInto(data, lo, hi, acc);
  } catch {
    return -1;
  }
  const nf = acc.fn - f0;
  const ns = acc.sn - s0;
  // Copied element by element: a subarray view per chunk to copy from would be garbage.
  if (sink.fts.length < nf) sink.fts = new Float64Array(Math.max(2 * sink.fts.length, nf));
  const fts = sink.fts;
  const afts = acc.fts;
  for (let i = 0; i < nf; i++) fts[i] = afts[f0 + i]!;
  sink.fn = nf;
  if (ns > 0) {
    if (sink.sts.length < ns) sink.sts = new Float64Array(Math.max(2 * sink.sts.length, ns));
    const sts = sink.sts;
    const asts = acc.sts;
    for (let i = 0; i < ns; i++) sts[i] = asts[s0 + i]!;
    sink.sn = ns;
    mergeMarkers();
  }
  return sink.fn;
}

/** mergeMarkers merges the staleness markers' timestamps into sink.fts (both sorted). */
function mergeMarkers(): void {
  const a = sink.fts.slice(0, sink.fn);
  const m = sink.sts;
  const n = sink.fn + sink.sn;
  if (sink.fts.length < n) sink.fts = new Float64Array(2 * n);
  const out = sink.fts;
  let i = 0;
  let j = 0;
  for (let k = 0; k < n; k++) out[k] = j >= sink.sn || (i < a.length && a[i]! < m[j]!) ? a[i++]! : m[j++]!;
  sink.fn = n;
  sink.sn = 0;
}
