import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { findBinary, freePort, waitFor } from '../pkg/testutil/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('tessera (the binary)', () => {
  // Thanos (kingpin) answers a missing command with the usage on stderr and exit 2.
  test('no arguments: the usage on stderr, exit 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cmd', 'tessera.ts')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolveExit) => child.once('exit', (c) => resolveExit(c)));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^usage: tessera <command>/);
    expect(stderr).toContain('Commands:');
  });

  // `tessera tools gen openmetrics | head -1`: the reader goes away after the first line. The tool
  // must end quietly (exit 0), not crash with an unhandled EPIPE 'error' and a stack on stderr.
  test('a closed stdout pipe (| head) ends a tool quietly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cmd', 'tessera.ts'), 'tools', 'gen', 'openmetrics', '--hosts', '20', '--hours', '2'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const first = await new Promise<string>((resolveFirst, reject) => {
      child.stdout.once('data', (d: Buffer) => resolveFirst(d.toString('utf8')));
      child.once('error', reject);
    });
    expect(first).toMatch(/^# HELP node_cpu_seconds_total/);
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolveExit) => child.once('exit', (c) => resolveExit(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  // `npm run tessera -- query ...` (README) or `npm start` under a process manager that signals npm
  // only: npm passes SIGTERM to its script's shell, which (without exec) dies and leaves the
  // component running. The scripts exec tsx, so the signal reaches the component.
  test.skipIf(findBinary('npm') === undefined || process.platform !== 'linux')('SIGTERM to `npm run tessera` stops the component', async () => {
    const http = await freePort();
    const grpc = await freePort();
    const npm = spawn(findBinary('npm')!, ['run', '-s', 'tessera', '--', 'query', `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`], { cwd: REPO, stdio: 'ignore' });
    const ready = async (): Promise<boolean> => fetch(`http://127.0.0.1:${http}/-/ready`).then((r) => r.ok, () => false);
    try {
      await waitFor('the querier under npm is ready', async () => {
        if (npm.exitCode !== null) throw new Error(`npm exited with ${npm.exitCode}`);
        return ready();
      }, 90_000, 100);
      npm.kill('SIGTERM');
      await waitFor('the querier stopped', async () => !(await ready()), 30_000, 100);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      // A component left behind (the failure this test catches) is found by its unique flag.
      for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
        try {
          if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`--http-address=127.0.0.1:${http}\0`)) process.kill(Number(d), 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }, 120_000);
});
