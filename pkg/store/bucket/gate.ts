import { abortReason } from '../store-error.js';

/**
 * Gate bounds how many requests run at once (--store.grpc.series-max-concurrency); further
 * callers wait in FIFO order. A waiting caller whose signal aborts leaves the queue and rejects.
 */
export class Gate {
  readonly #max: number;
  #running = 0;
  readonly #queue: { resolve: () => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];

  constructor(max: number) {
    this.#max = max > 0 ? max : Infinity;
  }

  /** inFlight is the number of running requests. */
  get inFlight(): number {
    return this.#running;
  }

  /** waiting is the number of queued requests. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** acquire resolves when the caller may run; call release() exactly once afterwards. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (this.#running < this.#max) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject, signal };
      this.#queue.push(entry);
      signal.addEventListener(
        'abort',
        () => {
          const i = this.#queue.indexOf(entry);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            reject(abortReason(signal));
          }
        },
        { once: true },
      );
    });
  }

  /** release frees a slot, handing it to the first waiter. */
  release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next.resolve();
    else this.#running--;
  }
}
