import type { Chunk } from '../chunkenc/index.js';
import { ChunkListIterator } from '../storage/index.js';
import type { SampleIntervalHint } from './dedup-iterator.js';

/**
 * ChunkIntervalIterator iterates one replica's chunks (time-ordered, non-overlapping), bounded to
 * [mint, maxt], and tells DedupIterator each chunk's mean sample interval, (maxTime − minTime) /
 * (samples − 1), from the chunk's time range: the interval a window holding only one or two
 * samples of the replica cannot show. ranges[i] is the time range of chunks[i]. The querier and
 * compaction-time deduplication both iterate replicas with it, so both dedup the same way.
 */
export class ChunkIntervalIterator extends ChunkListIterator implements SampleIntervalHint {
  readonly #maxTimes: Float64Array;
  readonly #means: Float64Array;
  #ci = 0;

  constructor(chunks: readonly Chunk[], ranges: readonly { readonly minTime: number; readonly maxTime: number }[], mint = -Infinity, maxt = Infinity) {
    super(chunks, mint, maxt);
    this.#maxTimes = new Float64Array(chunks.length);
    this.#means = new Float64Array(chunks.length);
    for (let i = 0; i < chunks.length; i++) {
      const r = ranges[i]!;
      const n = chunks[i]!.numSamples();
      this.#maxTimes[i] = r.maxTime;
      this.#means[i] = n >= 2 && r.maxTime > r.minTime ? (r.maxTime - r.minTime) / (n - 1) : NaN;
    }
  }

  sampleInterval(): number {
    const t = this.atT();
    const last = this.#maxTimes.length - 1;
    while (this.#ci < last && t > this.#maxTimes[this.#ci]!) this.#ci++;
    return this.#means[this.#ci] ?? NaN;
  }
}
