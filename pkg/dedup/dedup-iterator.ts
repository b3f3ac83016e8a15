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

const None = ValueType.None;
const Float = ValueType.Float;

/**
 * DedupIterator merges the sample iterators of several replicas of one series into one series
 * (penalty-style replica deduplication, improved over Thanos's `dedupSeriesIterator`).
 *
 * Rules (the brute-force reference in brute-force-reference.ts implements the same rules naively):
 * 1. Start with the replica whose first sample is earliest (ties: the lowest index).
 * 2. Follow the current replica `c` as long as it has no gap. The interval estimate δ is the
 *    smaller of `c`'s own last two sample deltas (its own scrape interval; one inflated delta, e.g.
 *    an outage, does not change it), falling back to the δ of the previous step when `c` has no
 *    earlier sample. The step from `c`'s current sample at lastT to its next sample tn
 *    is a gap when `c` is exhausted or `tn − lastT > 1.5·δ`. Own samples before `lastT + δ/2`
 *    are dropped (and do not count as `c`'s samples for δ): a replica that is really two
 *    replicas' chunks chained together must not double the sample rate either. Without any δ yet (the very first
 *    step), δ is estimated from the other replicas: the smallest delta between the first two
 *    samples after lastT of each other replica whose first such sample is a float (a one-sample
 *    lookahead; nothing is skipped). If none has two samples, the first delta is trusted. After
 *    a gap that no replica covered, the delta across it is left out of the next estimate.
 * 3. On a gap, the candidate is the earliest sample of another replica at or after
 *    `lastT + δ/2` (so a switch never doubles the sample rate) — not Thanos's
 *    `lastT + 2·δ`, which leaves gaps that the other replica covers. If the candidate is before
 *    tn, switch to that replica; otherwise stay (the gap is in every replica).
 * 4. Counter mode: each replica has a value offset (initially 0) added to its floats. On a switch
 *    from last emitted value L, the new replica's value becomes `L + inc`, where inc estimates
 *    the increase since L from the new replica's own last interval (see switchOffset); at the
 *    replica's first sample (no interval) its value Y' (offset included) is only raised to L
 *    (Thanos's counterErrAdjustSeriesIterator). So a switch never makes the counter go down, and
 *    a switch to a replica with another counter base (restarted at a different time, downsampled
 *    separately) neither adds nor drops that base difference. The offset keeps the change for
 *    later samples of that replica, until the replica itself resets (its raw value goes down
 *    while followed): then the offset is dropped, so PromQL sees the genuine reset. Histogram
 *    samples are never adjusted; NaN values (stale markers) disable the adjustment for that switch.
 *
 * Child iterators are only advanced with next() (never seek), so each replica knows its own
 * previous timestamps; seek() on this iterator walks next() until the target for the same reason
 * (Thanos does the same). Bound the children to the query range before (see BoundedIterator).
 * No allocation per sample.
 */
export class DedupIterator implements SampleIterator {
  readonly #its: readonly SampleIterator[];
  readonly #counter: boolean;
  readonly #type: Uint8Array;
  /** Current timestamp per replica; Infinity when exhausted, NaN before the first sample. */
  readonly #t: Float64Array;
  readonly #p1: Float64Array;
  readonly #p2: Float64Array;
  /** Current and previous raw float value per replica (NaN for non-float samples). */
  readonly #v: Float64Array;
  readonly #pv: Float64Array;
  readonly #off: Float64Array;
  /** One-sample lookahead per replica (only taken on float samples, see #peek). */
  readonly #hasNext: Uint8Array;
  readonly #nty: Uint8Array;
  readonly #nt: Float64Array;
  readonly #nv: Float64Array;
  #cur = -1;
  #state: 0 | 1 | 2 = 0; // 0 = not started, 1 = running, 2 = done
  #lastDelta = NaN;
  #afterGap = false;
  #err: Error | null = null;

  constructor(its: readonly SampleIterator[], opts: DedupIteratorOptions = {}) {
    if (its.length === 0) throw new RangeError('DedupIterator needs at least one replica iterator');
    const n = its.length;
    this.#its = its;
    this.#counter = opts.counter ?? false;
    this.#type = new Uint8Array(n);
    this.#t = new Float64Array(n).fill(NaN);
    this.#p1 = new Float64Array(n).fill(NaN);
    this.#p2 = new Float64Array(n).fill(NaN);
    this.#v = new Float64Array(n).fill(NaN);
    this.#pv = new Float64Array(n).fill(NaN);
    this.#off = new Float64Array(n);
    this.#hasNext = new Uint8Array(n);
    this.#nty = new Uint8Array(n);
    this.#nt = new Float64Array(n);
    this.#nv = new Float64Array(n);
  }

  #advance(i: number): void {
    if (this.#t[i] === Infinity) return;
    this.#p2[i] = this.#p1[i]!;
    this.#p1[i] = this.#t[i]!;
    this.#pv[i] = this.#v[i]!;
    if (this.#hasNext[i] === 1) {
      this.#hasNext[i] = 0;
      this.#type[i] = this.#nty[i]!;
      this.#t[i] = this.#nt[i]!;
      this.#v[i] = this.#nv[i]!;
      return;
    }
    this.#read(i);
    this.#type[i] = this.#nty[i]!;
    this.#t[i] = this.#nt[i]!;
    this.#v[i] = this.#nv[i]!;
  }

  /** #replace moves replica i to its next sample as if the current one did not exist. */
  #replace(i: number): void {
    if (this.#hasNext[i] === 0) this.#read(i);
    this.#hasNext[i] = 0;
    this.#type[i] = this.#nty[i]!;
    this.#t[i] = this.#nt[i]!;
    this.#v[i] = this.#nv[i]!;
  }

  /** #read advances replica i's child iterator into the lookahead slots (nty, nt, nv). */
  #read(i: number): void {
    const it = this.#its[i]!;
    const ty = it.next();
    this.#nty[i] = ty;
    if (ty === None) {
      this.#nt[i] = Infinity;
      this.#nv[i] = NaN;
      const e = it.err();
      if (e !== null && this.#err === null) this.#err = e;
      return;
    }
    this.#nt[i] = it.atT();
    this.#nv[i] = ty === Float ? it.atF() : NaN;
  }

  /**
   * #peek returns the timestamp of replica i's sample after its current one without moving its
   * current position. Only for float current samples: their value is cached, while moving the
   * child would invalidate reading a current histogram.
   */
  #peek(i: number): number {
    if (this.#hasNext[i] === 0) {
      this.#read(i);
      this.#hasNext[i] = 1;
    }
    return this.#nt[i]!;
  }

  /**
   * #estimate guesses the interval when the followed replica has no own delta yet (the first step):
   * the smallest delta between the first two samples after lastT of the other replicas (float
   * samples only), or NaN.
   */
  #estimate(c: number, lastT: number): number {
    let d = NaN;
    for (let j = 0; j < this.#its.length; j++) {
      if (j === c) continue;
      while (this.#t[j]! <= lastT) this.#advance(j);
      if (this.#type[j] !== Float) continue;
      const dj = this.#peek(j) - this.#t[j]!;
      if (dj !== Infinity && !(dj >= d)) d = dj;
    }
    return d;
  }

  next(): ValueType {
    if (this.#state === 2) return None;
    const n = this.#its.length;
    if (this.#state === 0) {
      this.#state = 1;
      let best = -1;
      let bestT = Infinity;
      for (let i = 0; i < n; i++) {
        this.#advance(i);
        if (this.#t[i]! < bestT) {
          bestT = this.#t[i]!;
          best = i;
        }
      }
      if (this.#err !== null || best < 0) return this.#finish();
      this.#cur = best;
      return this.#type[best]! as ValueType;
    }

    const c = this.#cur;
    const lastT = this.#t[c]!;
    const lastF = this.#type[c] === Float ? this.#v[c]! + this.#off[c]! : NaN;
    // After a gap that no replica covered, the delta across it is not an interval.
    let d = this.#afterGap ? this.#p1[c]! - this.#p2[c]! : ownDelta(lastT, this.#p1[c]!, this.#p2[c]!);
    this.#afterGap = false;
    if (Number.isNaN(d)) d = this.#lastDelta;
    if (Number.isNaN(d)) d = this.#estimate(c, lastT);
    if (!Number.isNaN(d)) this.#lastDelta = d;

    this.#advance(c);
    // Own samples closer than δ/2 are dropped too (e.g. a "replica" that is really two replicas'
    // chunks chained by an overlap split): the merged series never gets denser than δ/2.
    if (!Number.isNaN(d)) while (this.#t[c]! !== Infinity && 2 * (this.#t[c]! - lastT) < d) this.#replace(c);
    if (this.#err !== null) return this.#finish();
    const tn = this.#t[c]!;
    const gap = tn === Infinity || (!Number.isNaN(d) && 2 * (tn - lastT) > 3 * d);
    if (!gap) return this.#own(c);

    let best = -1;
    let bestT = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === c) continue;
      // Skip samples at or before lastT, and those closer than δ/2 to it.
      while (this.#t[j]! <= lastT || (!Number.isNaN(d) && 2 * (this.#t[j]! - lastT) < d)) {
        this.#advance(j);
        if (this.#t[j] === Infinity) break;
      }
      if (this.#t[j]! < bestT) {
        bestT = this.#t[j]!;
        best = j;
      }
    }
    if (this.#err !== null) return this.#finish();
    if (best >= 0 && bestT < tn) {
      this.#cur = best;
      if (this.#counter && this.#type[best] === Float) this.#adjust(best, lastF, lastT);
      return this.#type[best]! as ValueType;
    }
    if (tn === Infinity) return this.#finish();
    this.#afterGap = true;
    return this.#own(c);
  }

  /**
   * #own returns the type of the followed replica's next sample. In counter mode a reset inside
   * the replica (its raw value went down) drops its offset, so PromQL sees the reset as it is and
   * counts the value after it, instead of the value plus an offset from an earlier switch.
   */
  #own(c: number): ValueType {
    if (this.#counter && this.#off[c] !== 0 && this.#v[c]! < this.#pv[c]!) this.#off[c] = 0;
    return this.#type[c]! as ValueType;
  }

  #adjust(r: number, lastF: number, lastT: number): void {
    this.#off[r] = switchOffset(this.#v[r]!, this.#pv[r]!, this.#p1[r]!, this.#t[r]!, this.#off[r]!, lastF, lastT);
  }

  #finish(): ValueType {
    this.#state = 2;
    return None;
  }

  seek(t: number): ValueType {
    if (this.#state === 2) return None;
    if (this.#state === 1 && this.#t[this.#cur]! >= t) return this.#type[this.#cur]! as ValueType;
    for (;;) {
      const ty = this.next();
      if (ty === None) return None;
      if (this.#t[this.#cur]! >= t) return ty;
    }
  }

  atT(): number {
    return this.#t[this.#cur]!;
  }

  atF(): number {
    return this.#v[this.#cur]! + this.#off[this.#cur]!;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#its[this.#cur]!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }

  /** current returns the index of the replica the current sample comes from (for tests, debugging). */
  current(): number {
    return this.#cur;
  }
}

/** ownDelta is min(t − p1, p1 − p2), ignoring unknown (NaN) terms; NaN when none is known. */
function ownDelta(t: number, p1: number, p2: number): number {
  const d1 = t - p1;
  const d2 = p1 - p2;
  if (Number.isNaN(d1)) return NaN;
  if (Number.isNaN(d2)) return d1;
  return d1 < d2 ? d1 : d2;
}
