/**
 * SampleBuffer holds float samples in two growable typed arrays, reused across series so that
 * buffering a series allocates nothing per sample. Values keep their bit patterns.
 */
export class SampleBuffer {
  t: Float64Array;
  v: Float64Array;
  n = 0;

  constructor(capacity = 1024) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  clear(): void {
    this.n = 0;
  }

  push(t: number, v: number): void {
    if (this.n === this.t.length) this.#grow();
    this.t[this.n] = t;
    this.v[this.n] = v;
    this.n++;
  }

  #grow(): void {
    const t = new Float64Array(this.t.length * 2);
    const v = new Float64Array(this.v.length * 2);
    t.set(this.t);
    v.set(this.v);
    this.t = t;
    this.v = v;
  }
}
