import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('tessera (the binary)', () => {
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
});
