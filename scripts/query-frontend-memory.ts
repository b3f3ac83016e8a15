// Peak memory of `tessera query-frontend` relaying a large answer.
// Usage: npx tsx scripts/query-frontend-memory.ts [checkout-dir] [MiB]
// A fake querier (this process) answers /api/v1/query with a ~MiB JSON vector, written in pieces;
// the frontend of <checkout-dir> (default: this checkout) runs as a child process; the client
// reads the answer through it and checks its size. Prints the frontend's RSS before the request
// and its peak (VmHWM) after it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';

const checkout = resolve(process.argv[2] ?? '.');
const mib = Number(process.argv[3] ?? 300);

const piece = (i: number) => `{"metric":{"__name__":"m","instance":"host-${i}","job":"j"},"value":[1700000000,"${i}.5"]}`;
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"status":"success","data":{"resultType":"vector","result":[');
  let i = 0;
  let sent = 0;
  const target = mib * 1024 * 1024;
  const more = (): void => {
    while (sent < target) {
      let chunk = '';
      for (let k = 0; k < 500; k++, i++) chunk += (i === 0 ? '' : ',') + piece(i);
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end(']}}');
  };
  more();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const downstream = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/tessera.ts', 'query-frontend', `--http-address=127.0.0.1:${port}`, `--query-frontend.downstream-url=${downstream}`], {
  cwd: checkout,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const status = (f: string) => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
try {
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const before = status('VmRSS');
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=m`);
  let bytes = 0;
  let firstByteMs = -1;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstByteMs < 0) firstByteMs = performance.now() - t0;
    bytes += c.length;
  }
  const peak = status('VmHWM');
  console.log(JSON.stringify({ checkout, status: res.status, answerMiB: +(bytes / 1048576).toFixed(1), rssBeforeMiB: Math.round(before / 1024), peakMiB: Math.round(peak / 1024), firstByteMs: Math.round(firstByteMs), totalMs: Math.round(performance.now() - t0) }));
} finally {
  child.kill('SIGKILL');
  server.closeAllConnections();
  server.close();
}
