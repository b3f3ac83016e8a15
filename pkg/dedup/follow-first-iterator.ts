import { ValueType, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { DedupIterator, type SampleIntervalHint } from './dedup-iterator.js';
import { ownDelta } from './follow-rules.js';

/** FollowFirstOptions configure a FollowFirstIterator. */
export interface FollowFirstOptions {
  /** open returns fresh iterators of every replica (priority order) bounded to [lo, hi]. */
  readonly open: (lo: number, hi: number) => SampleIterator[];
  /** openFirst returns a fresh iterator of replica 0 alone bounded to [lo, hi]. */
  readonly openFirst: (lo: number, hi: number) => SampleIterator;
  /** mint, maxt bound the output (inclusive ms). */
  readonly mint: number;
  readonly maxt: number;
  /** ctx is how far beyond a point the replicas are read to decide there (see DedupIterator). */
  readonly ctx: number;
  readonly counter?: boolean;
}

const None = ValueType.None;

function hintOf(it: SampleIterator): (SampleIterator & SampleIntervalHint) | undefined {
  return typeof (it as Partial<SampleIntervalHint>).sampleInterval === 'function' ? (it as SampleIterator & SampleIntervalHint) : undefined;
}

/**
 * FollowFirstIterator yields DedupIterator's output over [mint, maxt] with no dedup work per
 * sample where replica 0 covers: there the output is replica 0's samples, so they are read from
 * replica 0's own iterator, checking only that the next one is neither in a gap nor thinned (the
 * same δ as DedupIterator, from the last three deltas and the hint). At the start, at such a
 * point and at replica 0's end it hands over to a DedupIterator opened with ctx of context before
 * the last emitted sample (its decisions depend only on samples a few intervals around a time, so
 * it continues exactly), and takes over again once that one emits a sample of replica 0 with no
 * counter offset. So the other replicas' chunks are only decoded around replica 0's gaps.
 * The querier reads chunk lists with ChunkFollowIterator, which yields the same samples with less
 * work per sample and at the start; this one stays the sample-level definition it is tested against.
 */
export class FollowFirstIterator implements SampleIterator {
  readonly #o: FollowFirstOptions;
  readonly #counter: boolean;
  #d: DedupIterator | undefined;
  #f: SampleIterator | undefined;
  #fh: (SampleIterator & SampleIntervalHint) | undefined;
  /** Replica 0's last emitted sample and the three before it (kept samples), and the hint at it. */
  #p1 = NaN;
  #p2 = NaN;
  #p3 = NaN;
  #p4 = NaN;
  #h1 = NaN;
  #ty: ValueType = None;
  #t = NaN;
  #state: 0 | 1 | 2 | 3 = 0; // 0 = not started, 1 = DedupIterator, 2 = replica 0 alone, 3 = done
  #err: Error | null = null;
  readonly #hist = new Float64Array(5);

  constructor(opts: FollowFirstOptions) {
    this.#o = opts;
    this.#counter = opts.counter ?? false;
  }

  #openDedup(from: number): void {
    const o = this.#o;
    this.#d = new DedupIterator(o.open(from - o.ctx, o.maxt + o.ctx), { counter: this.#counter });
    this.#f = undefined;
    this.#fh = undefined;
    this.#state = 1;
  }

  /** #fromDedup emits the DedupIterator's next sample after `after` within the bounds. */
  #fromDedup(after: number, lo: number): ValueType {
    const d = this.#d!;
    for (;;) {
      const ty = d.next();
      if (ty === None) {
        this.#err = d.err();
        return this.#finish();
      }
      const t = d.atT();
      if (t <= after || t < lo) continue;
      if (t > this.#o.maxt) return this.#finish();
      this.#ty = ty;
      this.#t = t;
      if (d.current() === 0 && d.offset(0) === 0) this.#toFirst(t);
      return ty;
    }
  }

  /** #toFirst continues from replica 0's own iterator after its sample at t (emitted by the DedupIterator). */
  #toFirst(t: number): void {
    const d = this.#d!;
    d.history(0, this.#hist);
    if (this.#hist[0] !== t) return;
    const f = this.#o.openFirst(t, this.#o.maxt + this.#o.ctx);
    if (f.seek(t) === None || f.atT() !== t) return; // cannot position it: stay on the DedupIterator
    this.#f = f;
    this.#fh = hintOf(f);
    this.#p1 = t;
    this.#p2 = this.#hist[1]!;
    this.#p3 = this.#hist[2]!;
    this.#p4 = this.#hist[3]!;
    this.#h1 = this.#hist[4]!;
    this.#state = 2;
  }

  next(): ValueType {
    switch (this.#state) {
      case 3:
        return None;
      case 0:
        this.#openDedup(this.#o.mint);
        return this.#fromDedup(-Infinity, this.#o.mint);
      case 1:
        return this.#fromDedup(this.#t, -Infinity);
    }
    // Replica 0 alone: its next sample is the output unless it is in a gap or would be thinned.
    const f = this.#f!;
    const ty = f.next();
    const p1 = this.#p1;
    if (ty !== None) {
      const s = f.atT();
      const d = ownDelta(p1, this.#p2, this.#p3, this.#p4, this.#h1);
      const step = 2 * (s - p1);
      if (step >= d && step <= 3 * d) {
        if (s > this.#o.maxt) return this.#finish();
        this.#p4 = this.#p3;
        this.#p3 = this.#p2;
        this.#p2 = p1;
        this.#p1 = s;
        this.#h1 = this.#fh === undefined ? NaN : this.#fh.sampleInterval();
        this.#ty = ty;
        this.#t = s;
        return ty;
      }
    } else if (f.err() !== null) {
      this.#err = f.err();
      return this.#finish();
    }
    // A gap, a sample to thin, an unknown interval or the end of replica 0: DedupIterator decides.
    this.#openDedup(p1);
    return this.#fromDedup(p1, -Infinity);
  }

  #finish(): ValueType {
    this.#state = 3;
    this.#ty = None;
    return None;
  }

  seek(t: number): ValueType {
    if (this.#state === 3) return None;
    if (this.#state !== 0 && this.#t >= t) return this.#ty;
    for (;;) {
      const ty = this.next();
      if (ty === None || this.#t >= t) return ty;
    }
  }

  atT(): number {
    return this.#t;
  }

  atF(): number {
    return this.#f !== undefined && this.#state === 2 ? this.#f.atF() : this.#d!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#f !== undefined && this.#state === 2 ? this.#f.atFloatHistogram(into) : this.#d!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }
}
