import { ValueType, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';

const noChunks: readonly Chunk[] = [];

/**
 * ChunkListIterator iterates the samples of a list of in-memory chunks that are sorted by time and
 * do not overlap, keeping only samples within [mint, maxt]. One child iterator is reused across
 * chunks; nothing is allocated per sample. Reusable through reset.
 */
export class ChunkListIterator implements SampleIterator {
  #chunks: readonly Chunk[] = noChunks;
  #mint = -Infinity;
  #maxt = Infinity;
  #ci = -1;
  #it: SampleIterator | undefined;
  #type: ValueType = ValueType.None;
  #done = false;
  #err: Error | null = null;

  constructor(chunks?: readonly Chunk[], mint = -Infinity, maxt = Infinity) {
    if (chunks !== undefined) this.reset(chunks, mint, maxt);
  }

  reset(chunks: readonly Chunk[], mint = -Infinity, maxt = Infinity): this {
    this.#chunks = chunks;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#ci = -1;
    this.#type = ValueType.None;
    this.#done = false;
    this.#err = null;
    return this;
  }

  #end(): ValueType {
    this.#done = true;
    this.#type = ValueType.None;
    return ValueType.None;
  }

  #openNext(): boolean {
    this.#ci++;
    const c = this.#chunks[this.#ci];
    if (c === undefined) return false;
    this.#it = c.iterator(this.#it);
    return true;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    for (;;) {
      if (this.#ci < 0 || this.#type === ValueType.None) {
        if (this.#ci >= 0 && this.#it !== undefined && this.#it.err() !== null) {
          this.#err = this.#it.err();
          return this.#end();
        }
        if (!this.#openNext()) return this.#end();
      }
      const it = this.#it!;
      const vt = it.next();
      this.#type = vt;
      if (vt === ValueType.None) continue;
      const t = it.atT();
      if (t < this.#mint) {
        const st = it.seek(this.#mint);
        this.#type = st;
        if (st === ValueType.None) continue;
        if (it.atT() > this.#maxt) return this.#end();
        return st;
      }
      if (t > this.#maxt) return this.#end();
      return vt;
    }
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#type !== ValueType.None && this.#it!.atT() >= t) return this.#type;
    if (t < this.#mint) t = this.#mint;
    // Skip whole chunks that end before t when the chunk knows its range only by iterating: we
    // seek inside each chunk in turn; seek is O(samples) inside XOR chunks anyway.
    for (;;) {
      if (this.#ci < 0 || this.#type === ValueType.None) {
        if (this.#ci >= 0 && this.#it !== undefined && this.#it.err() !== null) {
          this.#err = this.#it.err();
          return this.#end();
        }
        if (!this.#openNext()) return this.#end();
      }
      const vt = this.#it!.seek(t);
      this.#type = vt;
      if (vt === ValueType.None) continue;
      if (this.#it!.atT() > this.#maxt) return this.#end();
      return vt;
    }
  }

  atT(): number {
    return this.#it!.atT();
  }

  atF(): number {
    return this.#it!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#it!.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#err;
  }
}
