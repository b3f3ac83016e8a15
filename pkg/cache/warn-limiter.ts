/**
 * WarnLimiter lets a repeated warning through at most once per interval per key (e.g. per cache):
 * a Redis that is down fails every request, and logging each failure would flood the log.
 */
export class WarnLimiter {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, number>();

  constructor(intervalMs = 30_000, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** allow reports whether the warning for key may be logged now (and then counts it as logged). */
  allow(key: string): boolean {
    const t = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && t - last < this.#intervalMs) return false;
    this.#last.set(key, t);
    return true;
  }
}
