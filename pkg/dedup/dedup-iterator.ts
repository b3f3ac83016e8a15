import { ValueType, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { switchOffset } from './switch-offset.js';

/** DedupIteratorOptions configure a DedupIterator. */
export interface DedupIteratorOptions {
  /**
   * counter adjusts float values across replica switches so that the merged series never goes
   * down because of a switch (set it when the series is a counter: see isCounterHint).
   */
  readonly counter?: boolean;
}

/**
 * SampleIntervalHint is implemented by replica iterators that know the mean sample interval of
 * the data around their current sample from metadata (a chunk's (maxTime − minTime) / (samples −
 * 1)). DedupIterator uses it where a replica's own neighbouring samples give no interval.
 */
export interface SampleIntervalHint {
  /** sampleInterval returns the mean interval (ms) around the current sample, NaN when unknown. */
  sampleInterval(): number;
}

function hasHint(it: SampleIterator): it is SampleIterator & SampleIntervalHint {
  return typeof (it as Partial<SampleIntervalHint>).sampleInterval === 'function';
}

const None = ValueType.None;
const Float = ValueType.Float;

/**
 * DedupIterator merges the sample iterators of several replicas of one series into one series.
 * The replicas are given in priority order (the querier passes them sorted by their replica
 * labels), and the output follows the first replica wherever it has data, filling only its real
 * gaps from the next ones. Unlike "follow whatever replica you are on", this makes the output at
 * a time t depend only on the replicas' samples within a few intervals of t: a query window sees
 * exactly the samples the whole range would have there, whatever its start (window independence,
 * which the instant and range queries of one expression need to agree).
 *
 * Rules (brute-force-reference.ts implements the same rules naively over arrays):
 * 1. Thinning: a replica's own sample closer than δ/2 to its previous kept sample is dropped
 *    (two chunk runs chained into one "replica" must not double the sample rate): by δ as in
 *    rule 2 at that previous sample and by the delta from the sample to its next raw one, where
 *    known (never by neither).
 * 2. Interval δ of replica k at its consecutive kept samples (p, n): the smallest of its last
 *    three deltas up to p (one outage or isolated sample does not inflate it) and the hint at p
 *    (SampleIntervalHint, e.g. the chunk's mean interval); without any, n' − n (a one-sample
 *    lookahead, float samples only); at the replica's first sample, its hint or n' − n; without
 *    any of these, the last δ computed, else the smallest delta between the next two samples of
 *    the other replicas (never a delta between two replicas: an offset between replicas is not
 *    an interval), else unknown.
 * 3. (p, n) is a gap when n − p > 1.5·δ; before the first sample and after the last one the
 *    replica has a gap too (for those, an unknown δ means no gap is filled).
 * 4. Replica k's kept samples are output when they lie, for every higher-priority replica j < k,
 *    inside the fill region of one of j's gaps: [p + δ/2, n − δ/2] (so no output is closer than
 *    δ/2 to a sample of a replica that is output around it). Replica 0's samples are all output.
 *    So a complete replica 0 comes out unchanged; block boundaries and chunk cuts are no gaps.
 * 5. Counter mode: each replica has a value offset (initially 0). On a switch to replica k with
 *    raw value y (own previous raw value p at pt), its value is kept raw when y is plausible
 *    after the last emitted value L at lastT (y ≥ L, and unless k itself reset, y − L ≤ (y − p)·
 *    max(1, (t − lastT)/(t − pt)): replicas of one target see the same counter, so values stay
 *    exact); else the offset becomes switchOffset(...): L + k's own increase estimated over
 *    the step, so that neither different counter bases nor the switch add or drop an increase.
 *    Values in a fill are clamped to the value of the higher-priority sample that ends the fill
 *    (when that is not below the last emitted value), so returning to it is plausible and it
 *    keeps its values. A reset inside the followed replica (its raw value goes down) drops its
 *    offset so PromQL sees the genuine reset. Histograms are never adjusted; NaN values
 *    disable the adjustment for that switch.
 *
 * Child iterators are only advanced with next() (never seek); seek() on this iterator walks
 * next() to the target. To keep window independence at the edges, give the children some
 * context beyond the query window (a few intervals) and bound the output (BoundedIterator).
 * No allocation per sample.
 */
export class DedupIterator implements SampleIterator {
  readonly #its: readonly SampleIterator[];
  readonly #hints: readonly ((SampleIterator & SampleIntervalHint) | undefined)[];
  readonly #counter: boolean;
  readonly #n: number;
  /** Current kept sample per replica: type, time (NaN before the first read, Infinity when exhausted), raw float value, hint. */
  readonly #ty: Uint8Array;
  readonly #t: Float64Array;
  readonly #v: Float64Array;
  readonly #h: Float64Array;
  /** Previous kept sample per replica (time, raw float value, hint) and the three before it (time). */
  readonly #p1t: Float64Array;
  readonly #p1v: Float64Array;
  readonly #p1h: Float64Array;
  readonly #p2t: Float64Array;
  readonly #p3t: Float64Array;
  readonly #p4t: Float64Array;
  /** δ at the previous kept sample (#ownDelta, cached by #advance). */
  readonly #pd: Float64Array;
  /** One-sample lookahead per replica (raw, not thinned; only taken when the current sample is a float). */
  readonly #la: Uint8Array;
  readonly #lty: Uint8Array;
  readonly #lt: Float64Array;
  readonly #lv: Float64Array;
  readonly #lh: Float64Array;
  readonly #off: Float64Array;
  #src = -1;
  #cap = NaN;
  #outT = NaN;
  #outF = NaN;
  #lastT = -Infinity;
  #lastF = NaN;
  #lastDelta = NaN;
  #state: 0 | 1 | 2 = 0; // 0 = not started, 1 = running, 2 = done
  #err: Error | null = null;

  constructor(its: readonly SampleIterator[], opts: DedupIteratorOptions = {}) {
    if (its.length === 0) throw new RangeError('DedupIterator needs at least one replica iterator');
    const n = its.length;
    this.#its = its;
    this.#hints = its.map((it) => (hasHint(it) ? it : undefined));
    this.#counter = opts.counter ?? false;
    this.#n = n;
    this.#ty = new Uint8Array(n);
    this.#t = new Float64Array(n).fill(NaN);
    this.#v = new Float64Array(n).fill(NaN);
    this.#h = new Float64Array(n).fill(NaN);
    this.#p1t = new Float64Array(n).fill(NaN);
    this.#p1v = new Float64Array(n).fill(NaN);
    this.#p1h = new Float64Array(n).fill(NaN);
    this.#p2t = new Float64Array(n).fill(NaN);
    this.#p3t = new Float64Array(n).fill(NaN);
    this.#p4t = new Float64Array(n).fill(NaN);
    this.#pd = new Float64Array(n).fill(NaN);
    this.#la = new Uint8Array(n);
    this.#lty = new Uint8Array(n);
    this.#lt = new Float64Array(n);
    this.#lv = new Float64Array(n);
    this.#lh = new Float64Array(n);
    this.#off = new Float64Array(n);
  }

  /** #readRaw reads replica i's next raw sample (lookahead first) into the lookahead slots; la[i] = 0 after. */
  #readRaw(i: number): void {
    if (this.#la[i] === 1) {
      this.#la[i] = 0;
      return;
    }
    const it = this.#its[i]!;
    const ty = it.next();
    this.#lty[i] = ty;
    if (ty === None) {
      this.#lt[i] = Infinity;
      this.#lv[i] = NaN;
      this.#lh[i] = NaN;
      const e = it.err();
      if (e !== null && this.#err === null) this.#err = e;
      return;
    }
    this.#lt[i] = it.atT();
    this.#lv[i] = ty === Float ? it.atF() : NaN;
    const h = this.#hints[i];
    this.#lh[i] = h === undefined ? NaN : h.sampleInterval();
  }

  /** #advance moves replica i to its next kept sample (rule 1), keeping its two previous ones. */
  #advance(i: number): void {
    const t0 = this.#t[i]!;
    if (t0 === Infinity) return;
    if (!Number.isNaN(t0)) {
      this.#p4t[i] = this.#p3t[i]!;
      this.#p3t[i] = this.#p2t[i]!;
      this.#p2t[i] = this.#p1t[i]!;
      this.#p1t[i] = t0;
      this.#p1v[i] = this.#v[i]!;
      this.#p1h[i] = this.#h[i]!;
    }
    const p1 = this.#p1t[i]!;
    const d = this.#ownDelta(i);
    this.#pd[i] = d;
    for (;;) {
      this.#readRaw(i);
      const t = this.#lt[i]!;
      this.#ty[i] = this.#lty[i]!;
      this.#t[i] = t;
      this.#v[i] = this.#lv[i]!;
      this.#h[i] = this.#lh[i]!;
      if (t === Infinity || Number.isNaN(p1)) return;
      if (2 * (t - p1) >= d) return;
      // Too close after p1 by the interval before it (or none known): the delta after this
      // sample must agree, since the one before can span a gap.
      const df = positive(this.#peek(i) - t);
      if (Number.isNaN(d) ? !(2 * (t - p1) < df) : 2 * (t - p1) >= df) return;
    }
  }

  /**
   * #ownDelta is replica i's interval at its previous kept sample: the smallest of its last three
   * deltas and the hint there (unknown terms ignored), NaN when none is known.
   */
  #ownDelta(i: number): number {
    const p1 = this.#p1t[i]!;
    const p2 = this.#p2t[i]!;
    const p3 = this.#p3t[i]!;
    let d = positive(this.#p1h[i]!);
    const d1 = p1 - p2;
    if (d1 < d || Number.isNaN(d)) d = d1;
    const d2 = p2 - p3;
    if (d2 < d || Number.isNaN(d)) d = d2;
    const d3 = p3 - this.#p4t[i]!;
    if (d3 < d || Number.isNaN(d)) d = d3;
    return d;
  }

  /** #peek returns the time of replica i's raw sample after its current (float) one. */
  #peek(i: number): number {
    if (this.#ty[i] !== Float) return NaN;
    if (this.#la[i] === 0) {
      this.#readRaw(i);
      this.#la[i] = 1;
    }
    return this.#lt[i]!;
  }

  /** #delta returns replica k's interval at its current position (rule 2), NaN when unknown. */
  #delta(k: number): number {
    const p1 = this.#p1t[k]!;
    let d = Number.isNaN(p1) ? positive(this.#h[k]!) : this.#pd[k]!;
    if (Number.isNaN(d) && this.#t[k] !== Infinity) {
      const dn = this.#peek(k) - this.#t[k]!;
      if (dn > 0 && dn !== Infinity) d = dn;
    }
    if (Number.isNaN(d)) d = this.#lastDelta;
    if (Number.isNaN(d)) d = this.#estimate(k);
    if (!Number.isNaN(d)) this.#lastDelta = d;
    return d;
  }

  /** #estimate is the smallest delta between the next two samples after lastT of the other replicas. */
  #estimate(k: number): number {
    let d = NaN;
    for (let j = 0; j < this.#n; j++) {
      if (j === k) continue;
      this.#moveAfter(j, this.#lastT, -Infinity);
      if (this.#t[j] === Infinity) continue;
      const dj = this.#peek(j) - this.#t[j]!;
      if (dj > 0 && dj !== Infinity && !(dj >= d)) d = dj;
    }
    return d;
  }

  /** #moveAfter advances replica j to its first kept sample with t > after and t ≥ lo. */
  #moveAfter(j: number, after: number, lo: number): void {
    for (;;) {
      const t = this.#t[j]!;
      if (t === Infinity) return;
      if (!Number.isNaN(t) && t > after && t >= lo) return;
      this.#advance(j);
    }
  }

  /**
   * #cand returns the replica of the next output sample after lastT among replicas k.. within
   * [lo, hi] (rule 4), or -1, and sets #cap to the value that bounds the fill it is in (counter
   * mode), NaN for none.
   */
  #cand(k: number, lo: number, hi: number, cap: number): number {
    if (k === this.#n) return -1;
    this.#moveAfter(k, this.#lastT, lo);
    const n = this.#t[k]!;
    const p = this.#p1t[k]!;
    if (n === Infinity && Number.isNaN(p)) return this.#cand(k + 1, lo, hi, cap); // no samples
    const d = this.#delta(k);
    let lo2 = lo;
    let hi2 = hi;
    let cap2 = cap;
    if (Number.isNaN(p)) {
      // Before the first sample.
      if (Number.isNaN(d)) return this.#own(k, n, hi, cap);
      hi2 = n - d / 2;
    } else if (n === Infinity) {
      // After the last sample.
      if (Number.isNaN(d)) return -1;
      lo2 = p + d / 2;
    } else {
      if (Number.isNaN(d) || 2 * (n - p) <= 3 * d) return this.#own(k, n, hi, cap);
      lo2 = p + d / 2;
      hi2 = n - d / 2;
    }
    if (lo2 < lo) lo2 = lo;
    if (hi2 < hi) {
      cap2 = this.#ty[k] === Float ? this.#v[k]! + this.#off[k]! : NaN;
    } else hi2 = hi;
    if (lo2 <= hi2) {
      const s = this.#cand(k + 1, lo2, hi2, cap2);
      if (s >= 0) return s;
    }
    return n === Infinity ? -1 : this.#own(k, n, hi, cap);
  }

  #own(k: number, n: number, hi: number, cap: number): number {
    if (n > hi) return -1;
    this.#cap = cap;
    return k;
  }

  next(): ValueType {
    if (this.#state === 2) return None;
    this.#state = 1;
    const k = this.#cand(0, -Infinity, Infinity, NaN);
    if (this.#err !== null || k < 0) return this.#finish();
    const ty = this.#ty[k]! as ValueType;
    const t = this.#t[k]!;
    let out = this.#v[k]!;
    if (this.#counter && ty === Float) {
      const prev = this.#src;
      const last = this.#lastF;
      if (prev === k) {
        // A reset inside the followed replica drops its offset: PromQL sees the reset as it is.
        if (this.#off[k] !== 0 && out < this.#p1v[k]!) this.#off[k] = 0;
      } else if (prev >= 0 && !Number.isNaN(last)) {
        const p = this.#p1v[k]!;
        // The most a counter can have grown over the step at the replica's own last rate.
        const pt = this.#p1t[k]!;
        const f = (t - this.#lastT) / (t - pt);
        const max = f > 1 ? (out - p) * f : out - p;
        this.#off[k] = plausible(out, p, last, max) ? 0 : switchOffset(out, p, pt, t, this.#off[k]!, last, this.#lastT);
      }
      // A NaN stays as it is: arithmetic would quiet a staleness marker into a plain NaN.
      if (out === out) {
        out += this.#off[k]!;
        const cap = this.#cap;
        if (out > cap && !(cap < last)) out = cap;
      }
    }
    this.#src = k;
    this.#outT = t;
    this.#outF = out;
    this.#lastT = t;
    this.#lastF = ty === Float ? out : NaN;
    return ty;
  }

  #finish(): ValueType {
    this.#state = 2;
    return None;
  }

  seek(t: number): ValueType {
    if (this.#state === 2) return None;
    if (this.#state === 1 && this.#outT >= t) return this.#ty[this.#src]! as ValueType;
    for (;;) {
      const ty = this.next();
      if (ty === None) return None;
      if (this.#outT >= t) return ty;
    }
  }

  atT(): number {
    return this.#outT;
  }

  atF(): number {
    return this.#outF;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#its[this.#src]!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }

  /** offset returns replica i's current counter offset (0 outside counter mode). */
  offset(i: number): number {
    return this.#off[i]!;
  }

  /**
   * history writes replica i's current kept sample time, its three previous kept sample times and
   * the hint at the current one into out[0..5) (NaN where unknown), for FollowFirstIterator.
   */
  history(i: number, out: Float64Array): void {
    out[0] = this.#t[i]!;
    out[1] = this.#p1t[i]!;
    out[2] = this.#p2t[i]!;
    out[3] = this.#p3t[i]!;
    out[4] = this.#h[i]!;
  }

  /** current returns the index of the replica the current sample comes from (for tests, debugging). */
  current(): number {
    return this.#src;
  }
}


/**
 * plausible tells whether a replica's raw value y (previous raw value p) can follow the last
 * emitted value after a switch: no decrease, and no more increase than max, the replica's own
 * since p scaled to the step (unless the replica itself reset).
 */
function plausible(y: number, p: number, last: number, max: number): boolean {
  return y >= last && (Number.isNaN(p) || y < p || y - last <= max);
}

function positive(x: number): number {
  return x > 0 && x !== Infinity ? x : NaN;
}
