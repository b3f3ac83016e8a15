import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** inCI reports whether we run under CI (CI=true), where missing external binaries are failures. */
export function inCI(): boolean {
  return process.env['CI'] === 'true';
}

/** findBinary looks name up on PATH and in ~/go/bin (where `go install` puts MinIO). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), join(homedir(), 'go', 'bin'), '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * requireBinary returns the path of an external binary a test needs. In CI a missing binary throws
 * (the test fails); elsewhere it returns undefined after a loud warning, and the caller skips.
 * Use with vitest: `const bin = requireBinary('promtool'); test.skipIf(!bin)(...)` — in CI the throw
 * happens at collection time and fails the file.
 */
export function requireBinary(name: string): string | undefined {
  const p = findBinary(name);
  if (p !== undefined) return p;
  const msg = `external binary "${name}" not found on PATH or in ~/go/bin; .ci/run installs it`;
  if (inCI()) throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  console.warn(`\n*** SKIPPING: ${msg} ***\n`);
  return undefined;
}

/**
 * Ports freePort proposes: below Linux's default ephemeral range (ip_local_port_range 32768–60999),
 * from which the kernel takes the local ports of outgoing connections and of listen(0). A port from
 * the ephemeral range could be taken by any connection on the machine between freePort and the
 * child process binding it (EADDRINUSE at start-up); one below it only by another explicit bind.
 */
const PROPOSED_MIN = 20_000;
const PROPOSED_MAX = 32_767;
/** Ports this process proposed already: never proposed twice (two services of one test must differ). */
const proposed = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * freePort proposes a free TCP port on 127.0.0.1 for a server a test starts: a random one below the
 * ephemeral range that can be bound now and that this process has not proposed before (see
 * PROPOSED_MIN), else one the OS picks.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = PROPOSED_MIN + Math.floor(Math.random() * (PROPOSED_MAX - PROPOSED_MIN + 1));
    if (proposed.has(port)) continue;
    proposed.add(port);
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** waitFor polls check until it returns true (or a value), or throws after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const r = await check();
      if (r !== false && r !== undefined) return r;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** waitForHttp waits until GET url answers with a 2xx status. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${url} to answer 2xx`, async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  }, timeoutMs);
}

/** ManagedProcess is a child process started by a test, with its output kept for diagnostics. */
export interface ManagedProcess {
  readonly proc: ChildProcess;
  output(): string;
  /** stop sends SIGTERM, then SIGKILL after graceMs, and resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** kill sends SIGKILL and resolves on exit. */
  kill(): Promise<void>;
}

/**
 * startProcess spawns a binary with its output captured (last 64 KiB), in a process group of its
 * own: wrappers such as tsx run the real program as a child, and a SIGKILL of the wrapper alone
 * would leave that child running. kill() sends SIGKILL to the whole group; stop() sends SIGTERM to
 * the process (wrappers pass it on) and, once it has exited, SIGKILL to whatever is left of the group.
 */
export function startProcess(bin: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
  const proc = spawn(bin, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = (): void => {
    if (proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > 65536) out = out.slice(-65536);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  return {
    proc,
    output: () => out,
    async stop(graceMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(killGroup, graceMs);
        await exited;
        clearTimeout(t);
      }
      killGroup();
    },
    async kill() {
      killGroup();
      await exited;
    },
  };
}
