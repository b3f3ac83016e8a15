import { BitWriter } from './bstream.js';
import type { Chunk, Encoding } from './chunk.js';
import { COUNTER_RESET_HEADER_MASK, HISTOGRAM_HEADER_SIZE, type CounterResetHeader } from './histogram-layout.js';
import type { SampleIterator } from './sample-iterator.js';

/**
 * HistogramChunkBase holds the bytes of a native histogram chunk, integer (encoding 2) or float
 * (encoding 3), which share their 3-byte header (chunks.md §4): sample count, then the counter
 * reset header in the top bits of byte 2. A chunk is either being written (a BitWriter after the
 * header) or wraps stored bytes read-only (wrapBytes, no copy).
 */
export abstract class HistogramChunkBase implements Chunk {
  readonly #name: string;
  readonly #legacyPad: boolean;
  #w: BitWriter | null = new BitWriter(HISTOGRAM_HEADER_SIZE);
  #data: Uint8Array | null = null;

  /** name is the class named in errors; legacyPad emulates the pre-3.0 trailing 0x00 byte. */
  protected constructor(name: string, legacyPad: boolean) {
    this.#name = name;
    this.#legacyPad = legacyPad;
  }

  abstract encoding(): Encoding;
  abstract iterator(reuse?: SampleIterator): SampleIterator;

  /** wrapBytes makes this chunk a read-only view of encoded data (the part after the encoding byte). */
  protected wrapBytes(data: Uint8Array): void {
    this.#w = null;
    this.#data = data;
  }

  /** writer returns the BitWriter of a chunk being written; on a wrapped chunk it throws `refusal`. */
  protected writer(refusal: string): BitWriter {
    if (this.#w === null) throw new TypeError(`${this.#name}: ${refusal}`);
    return this.#w;
  }

  /** bytes returns the encoded data; the view is valid until the next append. */
  bytes(): Uint8Array {
    if (this.#data !== null) return this.#data;
    const w = this.#w!;
    return w.buffer.subarray(0, w.byteLength(this.#legacyPad));
  }

  numSamples(): number {
    const b = this.#data ?? this.#w!.buffer;
    return b.length < 2 ? 0 : (b[0]! << 8) | b[1]!;
  }

  /** counterResetHeader returns the chunk's counter reset header (top two bits of byte 2). */
  counterResetHeader(): CounterResetHeader {
    const b = this.#data ?? this.#w!.buffer;
    return (b.length < 3 ? 0 : b[2]! & COUNTER_RESET_HEADER_MASK) as CounterResetHeader;
  }

  /** setCounterResetHeader sets the header of a chunk being written. */
  setCounterResetHeader(h: CounterResetHeader): void {
    const b = this.writer('chunks read from bytes are immutable').buffer;
    b[2] = (b[2]! & ~COUNTER_RESET_HEADER_MASK) | h;
  }
}
