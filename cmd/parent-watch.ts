import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * PARENT_PIPE_ENV names the file descriptor of a pipe from a parent (the demo) that a tessera
 * child watches: when it closes (the parent died, even of SIGKILL), the child sends itself SIGTERM
 * and shuts down gracefully. Components run normally do not have it and are not affected.
 */
export const PARENT_PIPE_ENV = 'TESSERA_PARENT_PIPE_FD';

/**
 * watchParentPipe starts watching the pipe named by TESSERA_PARENT_PIPE_FD, if set (and removes the
 * variable, so the process's own children do not inherit it). It never keeps the process alive.
 */
export function watchParentPipe(): void {
  const v = process.env[PARENT_PIPE_ENV];
  if (v === undefined) return;
  delete process.env[PARENT_PIPE_ENV];
  const fd = Number(v);
  if (!Number.isInteger(fd) || fd < 3) return;
  let pipe: Socket;
  try {
    pipe = new Socket({ fd, readable: true, writable: false });
  } catch {
    return;
  }
  let fired = false;
  const parentGone = (): void => {
    if (fired) return;
    fired = true;
    process.kill(process.pid, 'SIGTERM');
  };
  pipe.on('data', () => {});
  pipe.once('end', parentGone);
  pipe.once('close', parentGone);
  pipe.once('error', parentGone);
  pipe.unref();
}

/**
 * A watchdog for a child that cannot watch a pipe itself (prometheus, alertmanager): it runs the
 * program, passes SIGTERM/SIGINT on, and stops it (SIGTERM, SIGKILL after 15 s) when fd 3 closes.
 * It exits with the program's code.
 */
const WATCHDOG_JS = `
const { spawn } = require('node:child_process');
const { Socket } = require('node:net');
const [bin, ...args] = process.argv.slice(1);
const child = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let killTimer;
const stop = (sig) => { if (child.exitCode === null && child.signalCode === null) { child.kill(sig); if (!killTimer) { killTimer = setTimeout(() => child.kill('SIGKILL'), 15000); killTimer.unref(); } } };
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
child.on('error', (err) => { process.stderr.write(String(err) + '\\n'); process.exit(1); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
const pipe = new Socket({ fd: 3, readable: true, writable: false });
pipe.on('data', () => {});
for (const ev of ['end', 'close', 'error']) pipe.once(ev, () => stop('SIGTERM'));
pipe.unref();
`;

/**
 * spawnWatched spawns a child that stops when this process dies, however it dies: a tessera child
 * (isTessera) watches the extra pipe itself (watchParentPipe), another program runs under a small
 * Node watchdog that does. stdio is [stdin, stdout, stderr]; fd 3 is the pipe.
 */
export function spawnWatched(bin: string, args: readonly string[], isTessera: boolean, stdio: readonly ['ignore', number, number]): ChildProcess {
  const fullStdio: SpawnOptions['stdio'] = [...stdio, 'pipe'];
  if (isTessera) return spawn(bin, [...args], { stdio: fullStdio, env: { ...process.env, [PARENT_PIPE_ENV]: '3' } });
  return spawn(process.execPath, ['-e', WATCHDOG_JS, '--', bin, ...args], { stdio: fullStdio });
}

/**
 * watchWrapperParent makes a process started through the tsx wrapper (`npm start` execs tsx,
 * which runs Node as its child) stop (SIGTERM to itself) when the wrapper dies: a SIGKILL to the
 * process npm started kills only tsx, and would leave this process (and its children) running.
 * Only when the parent is tsx (Linux /proc): a parent shell that exits (nohup) is no reason to stop.
 */
export function watchWrapperParent(intervalMs = 500): void {
  if (process.platform !== 'linux') return;
  const ppid = process.ppid;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${ppid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!/(^|[/\0])tsx(\.m?js)?\0|[/\0]tsx[/\0]/.test(cmdline)) return;
  const timer = setInterval(() => {
    if (process.ppid === ppid) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  timer.unref();
}
