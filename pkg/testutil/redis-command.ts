import { connect } from 'node:net';

/**
 * redisCommand sends one inline command (`PING`, `DBSIZE`, `FLUSHALL`…) to the Redis on
 * 127.0.0.1:port and returns the first reply line (`+PONG`, `:3`); it rejects on a connection
 * error or after 2 s without a reply.
 */
export function redisCommand(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error(`redis ${cmd}: timeout`));
    });
    s.on('error', reject);
    s.on('connect', () => s.write(`${cmd}\r\n`));
    s.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        s.end();
        resolve(buf.slice(0, i));
      }
    });
  });
}
