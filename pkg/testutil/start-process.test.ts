import { describe, expect, test } from 'vitest';
import { startProcess, waitFor } from './external.js';

/** alive tells whether a process with this pid exists (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startProcess', () => {
  // A wrapper (as tsx is) that runs the real program as its child and waits for it.
  const wrapper = ['-c', 'sleep 300 & echo "child $!"; wait'];

  async function childOf(p: ReturnType<typeof startProcess>): Promise<number> {
    return waitFor('the wrapper to print its child pid', async () => {
      const m = /child (\d+)/.exec(p.output());
      return m === null ? undefined : Number(m[1]);
    }, 10_000, 20);
  }

  test('kill() ends the wrapped child too, not only the wrapper', async () => {
    const p = startProcess('/bin/sh', wrapper);
    const child = await childOf(p);
    expect(alive(child)).toBe(true);
    await p.kill();
    await waitFor('the child to be gone', async () => !alive(child), 5_000, 20);
    expect(alive(child)).toBe(false);
  });

  test('stop() leaves nothing of the group behind', async () => {
    const p = startProcess('/bin/sh', wrapper);
    const child = await childOf(p);
    await p.stop(2_000);
    await waitFor('the child to be gone', async () => !alive(child), 5_000, 20);
    expect(alive(child)).toBe(false);
  });
});
