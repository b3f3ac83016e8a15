import { ValueType, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { ChunkIntervalIterator } from './chunk-interval-iterator.js';
import { DedupIterator } from './dedup-iterator.js';
import { chunkMean, othersAfter, ownDelta } from './follow-rules.js';

/** A chunk's time range (inclusive ms), as in chunk metadata. */
export interface ChunkRange {
  readonly minTime: number;
  readonly maxTime: number;
}

/**
 * ReplicaChunkList is one replica's chunks, sorted by time and not overlapping: their ranges up
 * front, the chunks themselves made on demand (a replica that is never read is never decoded).
 */
export interface ReplicaChunkList {
  readonly ranges: readonly ChunkRange[];
  chunk(i: number): Chunk;
  /**
   * xor, when given, returns chunk i's encoded data when it is an XOR chunk (else undefined), so
   * that readers of the bytes alone (firstCovers) need not make the chunk.
   */
  xor?(i: number): Uint8Array | undefined;
}

/** ChunkFollowOptions configure a ChunkFollowIterator. */
export interface ChunkFollowOptions {
  /** replicas in dedup priority order (at least one). */
  readonly replicas: readonly ReplicaChunkList[];
  /** mint, maxt bound the output (inclusive ms). */
  readonly mint: number;
  readonly maxt: number;
  /** ctx is how far beyond a point the replicas are read to decide there (see DedupIterator). */
  readonly ctx: number;
  readonly counter?: boolean;
}

const None = ValueType.None;

/**
 * ChunkFollowIterator yields exactly what FollowFirstIterator yields over replicas given as chunk
 * lists (each replica read as a ChunkIntervalIterator over its chunks overlapping the window), with
 * less work where replica 0 covers:
 *
 * - Replica 0's chunks are iterated directly (one reused chunk iterator, the chunk's mean interval
 *   as the hint, computed once per chunk), with only FollowFirstIterator's check per sample: the
 *   next sample is neither in a gap nor thinned by replica 0's own interval. No other replica is
 *   read there, nothing is compared with it.
 * - The start is decided at chunk level where it can be: FollowFirstIterator runs a DedupIterator
 *   from mint − ctx up to mint. When replica 0's first sample f0 in that window has a known chunk
 *   interval δ, the DedupIterator's output from f0 on is replica 0's samples as long as they pass
 *   the check; with no counter offset unless the series is a counter and another replica has a
 *   sample in [mint − ctx, f0 − δ/2] (known from chunk ranges, decoding at most the first chunk
 *   of each other replica; then the start is left to the DedupIterator). So the DedupIterator is
 *   not needed before mint. If a check fails before mint, the start is redone exactly as
 *   FollowFirstIterator does it.
 * - Around replica 0's gaps and at its end, a DedupIterator decides, opened and left exactly as in
 *   FollowFirstIterator (so its counter offsets are the same).
 */
export class ChunkFollowIterator implements SampleIterator {
  readonly #o: ChunkFollowOptions;
  readonly #counter: boolean;
  readonly #first: ReplicaChunkList;
  readonly #lo: number;
  readonly #hi: number;
  #d: DedupIterator | undefined;
  /** Replica 0's current chunk index, its iterator (reused across chunks) and mean interval. */
  #ci = -1;
  #it: SampleIterator | undefined;
  #mean = NaN;
  /** Replica 0's last emitted sample and the three before it (kept samples), and the hint at it. */
  #p1 = NaN;
  #p2 = NaN;
  #p3 = NaN;
  #p4 = NaN;
  #h1 = NaN;
  #ty: ValueType = None;
  #t = NaN;
  /** 0 = not started, 1 = DedupIterator, 2 = replica 0 alone, 3 = done, 4 = replica 0 alone before mint (nothing emitted yet). */
  #state: 0 | 1 | 2 | 3 | 4 = 0;
  #err: Error | null = null;
  readonly #hist = new Float64Array(5);

  constructor(opts: ChunkFollowOptions) {
    if (opts.replicas.length === 0) throw new RangeError('ChunkFollowIterator needs at least one replica');
    this.#o = opts;
    this.#counter = opts.counter ?? false;
    this.#first = opts.replicas[0]!;
    this.#lo = opts.mint - opts.ctx;
    this.#hi = opts.maxt + opts.ctx;
  }

  /** #open returns every replica's iterator bounded to [lo, hi], as FollowFirstIterator's open. */
  #open(lo: number, hi: number): SampleIterator[] {
    return this.#o.replicas.map((r) => openReplica(r, lo, hi));
  }

  #openDedup(from: number): void {
    this.#d = new DedupIterator(this.#open(from - this.#o.ctx, this.#hi), { counter: this.#counter });
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

  /** #toFirst continues from replica 0's own chunks after its sample at t (emitted by the DedupIterator). */
  #toFirst(t: number): void {
    const d = this.#d!;
    d.history(0, this.#hist);
    if (this.#hist[0] !== t) return;
    if (this.#seekFirst(t) === None || this.#it!.atT() !== t) return; // cannot position it: stay on the DedupIterator
    this.#p1 = t;
    this.#p2 = this.#hist[1]!;
    this.#p3 = this.#hist[2]!;
    this.#p4 = this.#hist[3]!;
    this.#h1 = this.#hist[4]!;
    this.#state = 2;
  }

  /** #openChunk makes replica 0's chunk i current. */
  #openChunk(i: number): SampleIterator {
    const r = this.#first.ranges[i]!;
    const c = this.#first.chunk(i);
    const n = c.numSamples();
    this.#ci = i;
    this.#mean = chunkMean(r, n);
    const it = c.iterator(this.#it);
    this.#it = it;
    return it;
  }

  /**
   * #seekFirst positions replica 0 at its first sample at or after t (t ≥ the window's start) within
   * the window, as a ChunkIntervalIterator over its chunks overlapping [t, hi] would; None at its end.
   */
  #seekFirst(t: number): ValueType {
    const rs = this.#first.ranges;
    let i = 0;
    while (i < rs.length && rs[i]!.maxTime < t) i++;
    for (; i < rs.length && rs[i]!.minTime <= this.#hi; i++) {
      const ty = this.#openChunk(i).seek(t);
      if (ty === None) {
        if (this.#it!.err() !== null) return this.#fail(this.#it!.err()!);
        continue;
      }
      return this.#it!.atT() > this.#hi ? this.#endFirst() : ty;
    }
    return this.#endFirst();
  }

  /** #nextFirst moves replica 0 to its next sample within the window (None at its end). */
  #nextFirst(): ValueType {
    const it = this.#it!;
    let ty = it.next();
    while (ty === None) {
      if (it.err() !== null) return this.#fail(it.err()!);
      const i = this.#ci + 1;
      const rs = this.#first.ranges;
      if (i >= rs.length || rs[i]!.minTime > this.#hi) return this.#endFirst();
      ty = this.#openChunk(i).next();
    }
    return this.#it!.atT() > this.#hi ? this.#endFirst() : ty;
  }

  #endFirst(): ValueType {
    this.#ci = this.#first.ranges.length;
    return None;
  }

  #fail(err: Error): ValueType {
    if (this.#err === null) this.#err = err;
    return None;
  }

  /** #start begins the output: replica 0 alone from its first sample when the chunks show it can, else as FollowFirstIterator. */
  #start(): ValueType {
    const o = this.#o;
    const lo = this.#lo;
    if (o.replicas.length > 1 && this.#seekFirst(lo) !== None) {
      const f0 = this.#it!.atT();
      const h = this.#mean;
      // Counters only: a sample of another replica before f0 would come first, and the switch to
      // f0 could give replica 0 a counter offset. For other series the output is replica 0's
      // samples from f0 on all the same (while they pass the check).
      if (f0 < o.mint && h > 0 && h !== Infinity && (!this.#counter || othersAfter(o.replicas, lo, this.#hi, f0 - h / 2))) {
        this.#p1 = f0;
        this.#p2 = NaN;
        this.#p3 = NaN;
        this.#p4 = NaN;
        this.#h1 = h;
        this.#state = 4;
        return this.#follow();
      }
    }
    if (this.#err !== null) return this.#finish();
    return this.#restart();
  }

  /** #restart starts as FollowFirstIterator does: a DedupIterator from mint − ctx. */
  #restart(): ValueType {
    this.#openDedup(this.#o.mint);
    return this.#fromDedup(-Infinity, this.#o.mint);
  }

  next(): ValueType {
    switch (this.#state) {
      case 3:
        return None;
      case 0:
        return this.#start();
      case 1:
        return this.#fromDedup(this.#t, -Infinity);
    }
    return this.#follow();
  }

  /** #follow emits replica 0's next sample unless it is in a gap or would be thinned (states 2 and 4). */
  #follow(): ValueType {
    const maxt = this.#o.maxt;
    const mint = this.#o.mint;
    for (;;) {
      const ty = this.#nextFirst();
      const p1 = this.#p1;
      if (ty !== None) {
        const s = this.#it!.atT();
        const d = ownDelta(p1, this.#p2, this.#p3, this.#p4, this.#h1);
        const step = 2 * (s - p1);
        if (step >= d && step <= 3 * d) {
          if (s > maxt) return this.#finish();
          this.#p4 = this.#p3;
          this.#p3 = this.#p2;
          this.#p2 = p1;
          this.#p1 = s;
          this.#h1 = this.#mean;
          if (this.#state === 4 && s < mint) continue;
          this.#state = 2;
          this.#ty = ty;
          this.#t = s;
          return ty;
        }
      } else if (this.#err !== null) return this.#finish();
      // Before anything was emitted, a check that fails leaves the start to a DedupIterator from
      // mint − ctx, exactly as FollowFirstIterator would have it.
      if (this.#state === 4) return this.#restart();
      // A gap, a sample to thin, an unknown interval or the end of replica 0: DedupIterator decides.
      this.#openDedup(p1);
      return this.#fromDedup(p1, -Infinity);
    }
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
    return this.#state === 2 ? this.#it!.atF() : this.#d!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#state === 2 ? this.#it!.atFloatHistogram(into) : this.#d!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }
}

/** openReplica reads replica r's chunks overlapping [lo, hi], bounded to it. */
function openReplica(r: ReplicaChunkList, lo: number, hi: number): ChunkIntervalIterator {
  const chunks: Chunk[] = [];
  const ranges: ChunkRange[] = [];
  const rs = r.ranges;
  for (let i = 0; i < rs.length; i++) {
    const c = rs[i]!;
    if (c.maxTime >= lo && c.minTime <= hi) {
      chunks.push(r.chunk(i));
      ranges.push(c);
    }
  }
  return new ChunkIntervalIterator(chunks, ranges, lo, hi);
}
