import type { SampleIntervalHint } from '../dedup/index.js';
import { ChunkListIterator } from '../storage/index.js';
import type { AggrChunk } from '../storepb/index.js';
import { toChunk } from './aggr-iterator.js';

/**
 * ReplicaChunkIterator iterates one replica's raw StoreAPI chunks (sorted, non-overlapping),
 * bounded to [mint, maxt], and tells DedupIterator each chunk's mean sample interval,
 * (maxTime − minTime) / (samples − 1), from the chunk's metadata: the interval a window holding
 * only one or two samples of the replica cannot show. Chunks must all have a raw chunk.
 */
export class ReplicaChunkIterator extends ChunkListIterator implements SampleIntervalHint {
  readonly #maxTimes: Float64Array;
  readonly #means: Float64Array;
  #ci = 0;

  constructor(chunks: readonly AggrChunk[], mint: number, maxt: number) {
    const cs = chunks.map((c) => toChunk(c.raw!));
    super(cs, mint, maxt);
    this.#maxTimes = new Float64Array(chunks.length);
    this.#means = new Float64Array(chunks.length);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const n = cs[i]!.numSamples();
      this.#maxTimes[i] = c.maxTime;
      this.#means[i] = n >= 2 && c.maxTime > c.minTime ? (c.maxTime - c.minTime) / (n - 1) : NaN;
    }
  }

  sampleInterval(): number {
    const t = this.atT();
    const last = this.#maxTimes.length - 1;
    while (this.#ci < last && t > this.#maxTimes[this.#ci]!) this.#ci++;
    return this.#means[this.#ci] ?? NaN;
  }
}
