import { startProcess, waitFor, type ManagedProcess } from './external.js';
import { redisCommand } from './redis-command.js';

/**
 * startRedisServer starts `redis-server` on 127.0.0.1:port without persistence (its working dir
 * `dir`) and waits until it answers PING. Get bin from `requireBinary('redis-server')`; kill the
 * returned process when done (it may be killed and started again on the same port).
 */
export async function startRedisServer(bin: string, port: number, dir: string): Promise<ManagedProcess> {
  const proc = startProcess(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitFor('redis PING', async () => (await redisCommand(port, 'PING')) === '+PONG', 15_000);
  return proc;
}
