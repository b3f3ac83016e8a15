/**
 * Semaphore bounds concurrent work (e.g. --query.max-concurrent). acquire waits in FIFO order and
 * rejects when the signal aborts while waiting.
 */
export class Semaphore {
  #free: number;
  readonly #waiters: { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }[] = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`semaphore limit must be at least 1, got ${limit}`);
    this.#free = limit;
  }

  /** inUse is how many permits are taken; waiting is how many callers wait. */
  get waiting(): number {
    return this.#waiters.length;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const w = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.#waiters.push(w);
    });
  }

  release(): void {
    const w = this.#waiters.shift();
    if (w === undefined) {
      this.#free++;
      return;
    }
    w.signal?.removeEventListener('abort', w.onAbort);
    w.resolve();
  }
}
