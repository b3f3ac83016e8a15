import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { freePort, waitFor } from '../pkg/testutil/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

/** procState is a process's state letter from /proc (undefined when it is gone). */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** descendants lists every live process below pid (children, their children, ...). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(d), Number(fields[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parentOf) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean => {
  const s = procState(pid);
  return s !== undefined && s !== 'Z';
};

describe.skipIf(process.platform !== 'linux' || !existsSync(TSX))('tessera demo', () => {
  // `npm start` execs tsx, which runs the demo as its child; the demo spawns the components. A
  // SIGKILL to that process (the only one npm knows) must not leave any of them running.
  test('kill -9 of the process `npm start` runs (tsx) stops the demo and every child it started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-demo-kill-'));
    const [http, grpc, fe] = [await freePort(), await freePort(), await freePort()];
    const demo = spawn(
      TSX,
      ['cmd/tessera.ts', 'demo', `--data-dir=${dir}`, '--hours=1', '--no-prometheus', `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, `--frontend-address=127.0.0.1:${fe}`],
      { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    demo.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    demo.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const pid = demo.pid!;
    let tree: number[] = [];
    try {
      await waitFor('the demo is up', async () => {
        if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}: ${out}`);
        return out.includes('Tessera demo is up.');
      }, 240_000, 200);
      tree = descendants(pid);
      // the demo's Node process, the compactor, the ruler (with an Alertmanager when installed), the query-frontend
      expect(tree.length).toBeGreaterThanOrEqual(4);
      process.kill(pid, 'SIGKILL');
      await waitFor('every process of the demo has stopped', async () => tree.every((p) => !alive(p)), 90_000, 200);
      // and the ports are free again for the next start
      const free = await fetch(`http://127.0.0.1:${http}/-/ready`).then(() => false, () => true);
      expect(free).toBe(true);
    } finally {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
      for (const p of tree) if (alive(p)) process.kill(p, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 400_000);
});
