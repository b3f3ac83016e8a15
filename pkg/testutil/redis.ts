import { startProcess, waitFor, type ManagedProcess } from './external.js';
import { redisCommand } from './redis-command.js';

/**
 * startRedisServer starts `redis-server` on 127.0.0.1:port without persistence (its working dir
 * `dir`) and waits until it answers PING. Get bin from `requireBinary('redis-server')`; kill the
 * returned process when done (it may be killed and started again on the same port).
 */
export async function startRedisServer(bin: string, port: number, dir: string): Promise<ManagedProcess> {
  const proc = startProcess(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  try {
    await waitFor('redis PING', async () => {
      // exited (e.g. the port was taken): fail now, with its output, not after the whole wait
      if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) return 'exited';
      return (await redisCommand(port, 'PING')) === '+PONG' ? 'ready' : undefined;
    }, 15_000).then((r) => {
      if (r === 'exited') throw new Error(`redis-server exited during start-up (code ${String(proc.proc.exitCode)})`);
    });
  } catch (err) {
    await proc.kill();
    throw new Error(`start redis-server on 127.0.0.1:${port}: ${(err as Error).message}\n${proc.output()}`, { cause: err });
  }
  return proc;
}
