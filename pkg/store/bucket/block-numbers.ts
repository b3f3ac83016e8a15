/**
 * BlockNumbers gives blocks small numbers, in order of first use, for numeric cache keys: at most
 * max of them; numbers are never reused, so keys built from them stay unique.
 */
export class BlockNumbers {
  readonly #ids = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** of returns block's number; undefined when it has none and max numbers are given out. */
  of(block: string): number | undefined {
    let id = this.#ids.get(block);
    if (id === undefined) {
      if (this.#ids.size >= this.#max) return undefined;
      id = this.#ids.size;
      this.#ids.set(block, id);
    }
    return id;
  }
}
