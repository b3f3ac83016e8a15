import { TesseraError } from '../errors/index.js';
import { uvarintSize } from '../encoding/index.js';
import { findAggrSection, type AggrSection } from './aggr-layout.js';
import { AGGR_TYPES, AggrType, aggrTypeName } from './aggr-type.js';
import { AverageIterator } from './average-iterator.js';
import { Encoding, type Chunk } from './chunk.js';
import { CounterResetsIterator } from './counter-resets-iterator.js';
import { ErrorIterator } from './error-iterator.js';
import { FloatHistogramChunk } from './float-histogram-chunk.js';
import { HistogramChunk } from './histogram-chunk.js';
import { OpaqueChunk } from './opaque-chunk.js';
import type { SampleIterator } from './sample-iterator.js';
import { XorChunk } from './xor-chunk.js';

/**
 * AggrChunk is Thanos's downsampled aggregate chunk (TSDB encoding 0xFF, chunks.md §5): the
 * count, sum, min, max and counter sub-chunks of the same windows, each length-prefixed, byte-exact
 * with Thanos's `downsample.EncodeAggrChunk`. Float series have all five as XOR chunks; histogram
 * series have count (XOR), sum and counter (float histogram) only.
 *
 * fromBytes wraps stored bytes without copying; encode builds one from its sub-chunks. Sub-chunks are
 * located on demand; a corrupt layout surfaces as a TesseraError (TESSERA_CHUNK_CORRUPT) naming the
 * byte offset, from get/section, or through err() of the iterators.
 */
export class AggrChunk implements Chunk {
  readonly #data: Uint8Array;

  private constructor(data: Uint8Array) {
    this.#data = data;
  }

  /** fromBytes wraps encoded aggregate chunk data (the part after the 0xFF encoding byte). */
  static fromBytes(data: Uint8Array): AggrChunk {
    return new AggrChunk(data);
  }

  /**
   * encode builds an aggregate chunk from its five sub-chunks in AggrType order (count, sum, min,
   * max, counter); null/undefined marks an absent aggregate. The counter must be present: Thanos's
   * reader cannot look up an absent last aggregate (chunks.md §5), so writing one would make the
   * chunk unreadable there.
   */
  static encode(subs: readonly (Chunk | null | undefined)[]): AggrChunk {
    if (subs.length !== AGGR_TYPES.length) throw new RangeError(`encode aggregate chunk: ${subs.length} sub-chunks given, want ${AGGR_TYPES.length}`);
    if (subs[AggrType.Counter] == null) throw new RangeError('encode aggregate chunk: the counter sub-chunk is required (Thanos cannot read an absent last aggregate)');
    let size = 0;
    for (let i = 0; i < subs.length; i++) {
      const c = subs[i];
      if (c == null) {
        size += 1;
        continue;
      }
      const n = c.bytes().length;
      if (n === 0) throw new RangeError(`encode aggregate chunk: the ${aggrTypeName(i as AggrType)} sub-chunk has no bytes`);
      size += uvarintSize(n) + 1 + n;
    }
    const out = new Uint8Array(size);
    let p = 0;
    for (const c of subs) {
      if (c == null) {
        out[p++] = 0;
        continue;
      }
      const b = c.bytes();
      let n = b.length;
      while (n >= 0x80) {
        out[p++] = (n & 0x7f) | 0x80;
        n = Math.floor(n / 128);
      }
      out[p++] = n;
      out[p++] = c.encoding();
      out.set(b, p);
      p += b.length;
    }
    return new AggrChunk(out);
  }

  encoding(): Encoding {
    return Encoding.Aggr;
  }

  bytes(): Uint8Array {
    return this.#data;
  }

  /** numSamples is the count sub-chunk's sample count (0 when it is absent or unreadable, as in Thanos). */
  numSamples(): number {
    try {
      return this.get(AggrType.Count)?.numSamples() ?? 0;
    } catch {
      return 0;
    }
  }

  /**
   * section returns the encoding byte and bytes of one aggregate's sub-chunk (a view), or null when
   * the aggregate is absent. Throws TESSERA_CHUNK_CORRUPT on a bad layout.
   */
  section(aggr: AggrType): AggrSection | null {
    return findAggrSection(this.#data, aggr);
  }

  /**
   * get returns one aggregate's sub-chunk, decodable for XOR, histogram and float histogram
   * encodings (an OpaqueChunk for others), or null when the aggregate is absent.
   */
  get(aggr: AggrType): Chunk | null {
    const s = findAggrSection(this.#data, aggr);
    if (s === null) return null;
    switch (s.encoding) {
      case Encoding.XOR:
        return XorChunk.fromBytes(s.data);
      case Encoding.Histogram:
        return HistogramChunk.fromBytes(s.data);
      case Encoding.FloatHistogram:
        return FloatHistogramChunk.fromBytes(s.data);
      default:
        return new OpaqueChunk(s.encoding as Encoding, s.data);
    }
  }

  /**
   * iterator yields the window averages sum/count (float series), what a query that asks for no
   * particular aggregate reads (algorithms.md §5.3).
   */
  iterator(reuse?: SampleIterator): SampleIterator {
    let sum: Chunk | null;
    let count: Chunk | null;
    try {
      sum = this.get(AggrType.Sum);
      count = this.get(AggrType.Count);
    } catch (err) {
      return new ErrorIterator(err as Error);
    }
    if (sum === null || count === null) return new ErrorIterator(notExist(sum === null ? AggrType.Sum : AggrType.Count));
    if (sum.encoding() !== Encoding.XOR) return new ErrorIterator(new TesseraError('TESSERA_CHUNK_UNSUPPORTED', `iterate aggregate chunk: averages of encoding ${sum.encoding()} sums are not supported`));
    const avg = reuse instanceof AverageIterator ? reuse : new AverageIterator();
    return avg.reset(sum.iterator(avg.sumIterator()), count.iterator(avg.countIterator()));
  }

  /**
   * aggrIterator iterates one aggregate: count, sum, min and max as stored; counter with counter
   * resets applied (CounterResetsIterator), so its values are a monotonic total. An absent aggregate
   * yields an iterator whose err() says so (code TESSERA_AGGR_NOT_EXIST).
   */
  aggrIterator(aggr: AggrType, reuse?: SampleIterator): SampleIterator {
    let c: Chunk | null;
    try {
      c = this.get(aggr);
    } catch (err) {
      return new ErrorIterator(err as Error);
    }
    if (c === null) return new ErrorIterator(notExist(aggr));
    if (aggr !== AggrType.Counter) return c.iterator(reuse);
    const it = reuse instanceof CounterResetsIterator ? reuse : new CounterResetsIterator();
    return it.reset(c.iterator(it.inner()));
  }
}

function notExist(aggr: AggrType): TesseraError {
  return new TesseraError('TESSERA_AGGR_NOT_EXIST', `read aggregate chunk: aggregate ${aggrTypeName(aggr)} does not exist`);
}
