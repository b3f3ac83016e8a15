import { Encoding, type Chunk, type SampleIterator } from '../chunkenc/index.js';
import { TesseraError } from '../errors/index.js';

/**
 * IteratorChunk stands for samples that exist only as an iterator (a deduplicated merge of
 * replicas) where a Chunk is expected: the PromQL engine's chunk path only asks chunks for their
 * iterator. It has no bytes: it must never be served or stored.
 */
export class IteratorChunk implements Chunk {
  readonly #make: () => SampleIterator;

  constructor(make: () => SampleIterator) {
    this.#make = make;
  }

  encoding(): Encoding {
    return Encoding.None;
  }

  bytes(): Uint8Array {
    throw new TesseraError('TESSERA_NO_CHUNK_BYTES', 'read bytes of a deduplicated series: it exists only as merged samples, not as an encoded chunk');
  }

  numSamples(): number {
    throw new TesseraError('TESSERA_NO_CHUNK_BYTES', 'count samples of a deduplicated series: it exists only as merged samples, not as an encoded chunk');
  }

  /** iterator returns a fresh merge iterator (reuse is ignored: the engine may pass one of another chunk). */
  iterator(_reuse?: SampleIterator): SampleIterator {
    return this.#make();
  }
}
