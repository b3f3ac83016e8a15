import type { ClockDeps } from '../rules/index.js';

/** FakeClock is a rule manager's clock that only moves when the test calls advance. */
export interface FakeClock extends ClockDeps {
  /** advance sets the time to t and wakes every sleeper whose wake-up time has come. */
  advance(t: number): void;
}

/** fakeClock returns a FakeClock at `start` (ms); an aborted sleep returns at once. */
export function fakeClock(start: number): FakeClock {
  let now = start;
  const waiters: { t: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleepUntil: (t, signal) =>
      new Promise<void>((resolve) => {
        if (t <= now || signal.aborted) return resolve();
        waiters.push({ t, resolve });
        signal.addEventListener('abort', () => resolve());
      }),
    advance(t: number) {
      now = t;
      for (const w of waiters.splice(0)) {
        if (w.t <= t) w.resolve();
        else waiters.push(w);
      }
    },
  };
}
