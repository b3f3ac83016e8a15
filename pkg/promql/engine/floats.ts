import type { FPoint } from './value.js';

const EMPTY = new Float64Array(0);

/**
 * Floats holds a series' float samples as two parallel Float64Arrays (timestamps in ms, values),
 * 16 bytes a sample off the JavaScript heap, as Prometheus's []FPoint is 16 bytes a point. Only
 * ts[0..length) and fs[0..length) are meaningful; the arrays may be longer (capacity) or views
 * into a larger block (see FloatArena).
 */
export class Floats {
  ts: Float64Array;
  fs: Float64Array;
  length: number;
  /** maxCapacity bounds growth (a scratch list never needs more than the steps it covers). */
  maxCapacity = Infinity;

  constructor(ts: Float64Array = EMPTY, fs: Float64Array = EMPTY, length = ts.length) {
    this.ts = ts;
    this.fs = fs;
    this.length = length;
  }

  /** withCapacity returns an empty Floats with room for n samples. */
  static withCapacity(n: number): Floats {
    return n <= 0 ? new Floats() : new Floats(new Float64Array(n), new Float64Array(n), 0);
  }

  /** of builds a Floats from points (tests and callers outside the engine). */
  static of(points: readonly FPoint[]): Floats {
    const out = Floats.withCapacity(points.length);
    for (const p of points) out.push(p.t, p.f);
    return out;
  }

  /** push appends a sample, doubling the capacity when full. */
  push(t: number, f: number): void {
    let n = this.length;
    if (n === this.ts.length) this.#grow(n + 1);
    this.ts[n] = t;
    this.fs[n] = f;
    this.length = ++n;
  }

  #grow(min: number): void {
    const cap = Math.max(min, Math.min(Math.max(8, this.ts.length * 2), this.maxCapacity));
    const ts = new Float64Array(cap);
    const fs = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.length));
    fs.set(this.fs.subarray(0, this.length));
    this.ts = ts;
    this.fs = fs;
  }

  /** t returns the timestamp of sample i (i < length). */
  t(i: number): number {
    return this.ts[i]!;
  }

  /** f returns the value of sample i (i < length). */
  f(i: number): number {
    return this.fs[i]!;
  }

  /** lastT returns the timestamp of the last sample, or -Infinity when empty. */
  lastT(): number {
    return this.length === 0 ? -Infinity : this.ts[this.length - 1]!;
  }

  /** indexOf returns the index of the sample at t, or -1 (binary search; samples are sorted). */
  indexOf(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.length && this.ts[lo] === t ? lo : -1;
  }

  /** points returns the samples as objects (tests and output formatting, never hot paths). */
  points(): FPoint[] {
    const out: FPoint[] = new Array<FPoint>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = { t: this.ts[i]!, f: this.fs[i]! };
    return out;
  }

  /** toJSON serialises the samples, not the arrays' capacity. */
  toJSON(): FPoint[] {
    return this.points();
  }

  /** byteSize is the memory the samples take (16 bytes a sample of capacity). */
  byteSize(): number {
    return this.ts.byteLength + this.fs.byteLength;
  }
}

/**
 * FloatArena copies finished sample lists into exact-size views of large shared blocks, so many
 * short series (an instant query's one point each) do not each cost two ArrayBuffers and a long
 * series keeps no growth slack.
 */
export class FloatArena {
  #block = EMPTY;
  #used = 0;

  /** seal returns an exact-size copy of src (src may be reused afterwards). */
  seal(src: Floats): Floats {
    const n = src.length;
    if (n === 0) return new Floats();
    if (n >= BLOCK / 4) return new Floats(src.ts.slice(0, n), src.fs.slice(0, n), n);
    if (this.#used + 2 * n > this.#block.length) {
      this.#block = new Float64Array(BLOCK);
      this.#used = 0;
    }
    const ts = this.#block.subarray(this.#used, this.#used + n);
    ts.set(src.ts.subarray(0, n));
    const fs = this.#block.subarray(this.#used + n, this.#used + 2 * n);
    fs.set(src.fs.subarray(0, n));
    this.#used += 2 * n;
    return new Floats(ts, fs, n);
  }
}

const BLOCK = 1 << 16;
