import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Errors that escape every handler (a timer or callback a request started throws, a promise nobody
 * awaits rejects) must not end a component: with the guards, each is logged with the request it
 * came from and fails that request only. Runs in a child process, as the guards are process-wide.
 */
const SCRIPT = `
import express from ${JSON.stringify(import.meta.resolve('express'))};
import { installProcessGuards } from ${JSON.stringify(join(REPO, 'cmd', 'process-guards.ts'))};
import { Labels } from ${JSON.stringify(join(REPO, 'pkg', 'labels', 'index.ts'))};
import { GrpcStoreClient, StoreGrpcServer } from ${JSON.stringify(join(REPO, 'pkg', 'store', 'index.ts'))};
import { listenHttp } from ${JSON.stringify(join(REPO, 'pkg', 'querier', 'http-server.ts'))};

installProcessGuards('test');
const out = {};
// gRPC: series() starts a timer that throws and never settles itself.
const info = { labelSets: [Labels.fromStrings('ext', '1')], componentType: 'store', store: { minTime: 0, maxTime: 1 } };
const server = new StoreGrpcServer({
  info: async () => info,
  series: (req) => new Promise(() => {
    if (req.matchers[0]?.value === 'throw') setTimeout(() => { throw new Error('boom in a timer'); }, 1);
    else Promise.reject(new Error('nobody awaits me'));
  }),
  labelNames: async () => ({ names: [], warnings: [] }),
  labelValues: async () => ({ values: [], warnings: [] }),
});
const port = await server.listen('127.0.0.1:0');
const client = new GrpcStoreClient('127.0.0.1:' + port);
for (const v of ['throw', 'reject']) {
  try {
    for await (const _ of client.series({ minTime: 0, maxTime: 1, matchers: [{ type: 0, name: 'a', value: v }] }, { timeoutMs: 5000 })) {}
    out['grpc_' + v] = 'ok';
  } catch (err) {
    out['grpc_' + v] = err.message;
  }
}
out.info = (await client.info()).componentType;
// HTTP: a handler whose callback throws after the handler returned.
const app = express();
app.get('/throw', () => { setTimeout(() => { throw new Error('boom in an HTTP callback'); }, 1); });
app.get('/ok', (_req, res) => { res.json({ status: 'success' }); });
const { server: http, port: hport } = await listenHttp(app, '127.0.0.1:0');
const r = await fetch('http://127.0.0.1:' + hport + '/throw');
out.http = r.status + ' ' + (await r.text());
out.ok = (await fetch('http://127.0.0.1:' + hport + '/ok')).status;
// No request at all.
setTimeout(() => { throw new Error('boom outside any request'); }, 1);
await new Promise((r) => setTimeout(r, 50));
out.alive = true;
console.log(JSON.stringify(out));
client.close();
await server.stop(100);
http.close();
http.closeAllConnections();
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-guards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('process guards', () => {
  test('an escaping error fails its request (gRPC, HTTP) and is logged; the process lives on', async () => {
    const file = join(dir, 'guarded.mts');
    await writeFile(file, SCRIPT);
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file], { cwd: REPO, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out['grpc_throw']).toMatch(/boom in a timer/);
    expect(out['grpc_reject']).toMatch(/nobody awaits me/);
    expect(out['info']).toBe('store');
    expect(out['http']).toMatch(/^500 .*"status":"error".*boom in an HTTP callback/);
    expect(out['ok']).toBe(200);
    expect(out['alive']).toBe(true);
    expect(stderr).toMatch(/level=error component=test msg="uncaught exception; the process keeps running" request="gRPC series" err="boom in a timer"/);
    expect(stderr).toMatch(/msg="unhandled rejection; the process keeps running" request="gRPC series" err="nobody awaits me"/);
    expect(stderr).toMatch(/request="HTTP GET \/throw" err="boom in an HTTP callback"/);
    expect(stderr).toMatch(/msg="uncaught exception; the process keeps running" err="boom outside any request"/);
  });
});
