import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireBinary, testCerts, waitFor, type TestCerts } from '../pkg/testutil/index.js';
import { startTessera } from '../test/e2e/services.js';

const openssl = requireBinary('openssl');

interface Received {
  labels: Record<string, string>;
  generatorURL: string;
}

/** standIn is an HTTP(S) server recording requests; handle answers them. */
async function standIn(
  tls: { key: Buffer; cert: Buffer } | undefined,
  handle: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ server: Server; port: number; requests: { url: string; auth: string | undefined }[] }> {
  const requests: { url: string; auth: string | undefined }[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', auth: req.headers.authorization });
      handle(req, body, res);
    });
  };
  const server: Server = tls === undefined ? createHttpServer(onRequest) : createHttpsServer(tls, onRequest);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

/** alertmanager is an Alertmanager API v2 stand-in at path /api/v2/alerts under prefix, requiring auth when given. */
async function alertmanager(tls: { key: Buffer; cert: Buffer } | undefined, prefix: string, auth?: string) {
  const received: Received[] = [];
  const s = await standIn(tls, (req, body, res) => {
    if (auth !== undefined && req.headers.authorization !== auth) return void res.writeHead(401).end('unauthorized');
    if (req.method !== 'POST' || req.url !== `${prefix}/api/v2/alerts`) return void res.writeHead(404).end();
    received.push(...(JSON.parse(body) as Received[]));
    res.writeHead(200).end();
  });
  return { ...s, received };
}

const RULES = `groups:
  - name: g
    interval: 1s
    rules:
      - alert: Down
        expr: up == 0
`;

describe.skipIf(openssl === undefined)('tessera rule: --alertmanagers.config and --query.config (http_config, file SD), --alert.query-template', () => {
  let dir: string;
  let certs: TestCerts;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rule-httpcfg-'));
    certs = await testCerts(openssl!, dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('alerts reach an https Alertmanager with basic auth and a private CA; a file SD change moves them to the new target; queries carry the bearer token', async () => {
    const tls = { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCrt) };
    const basic = `Basic ${Buffer.from('ruler:s3cret').toString('base64')}`;
    const secure = await alertmanager(tls, '/am', basic);
    const first = await alertmanager(undefined, '');
    const second = await alertmanager(undefined, '');
    // the query API behind a path prefix, requiring a bearer token
    const querier = await standIn(undefined, (req, _body, res) => {
      if (req.headers.authorization !== 'Bearer q-token' || !(req.url ?? '').startsWith('/thanos/api/v1/query')) return void res.writeHead(401).end('no');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'api' }, value: [Date.now() / 1000, '0'] }] } }));
    });
    const servers = [secure, first, second, querier];
    await writeFile(join(dir, 'rules.yml'), RULES);
    await writeFile(join(dir, 'pw'), 's3cret\n');
    await writeFile(join(dir, 'token'), 'q-token\n');
    const sd = join(dir, 'am-sd.json');
    await writeFile(sd, JSON.stringify([{ targets: [`127.0.0.1:${first.port}`], labels: { any: 'x' } }]));
    const amConfig = [
      'alertmanagers:',
      `  - static_configs: ["localhost:${secure.port}"]`,
      '    scheme: https',
      '    path_prefix: /am',
      '    timeout: 5s',
      '    http_config:',
      '      basic_auth: {username: ruler, password_file: ' + JSON.stringify(join(dir, 'pw')) + '}',
      '      tls_config: {ca_file: ' + JSON.stringify(certs.caCrt) + '}',
      // a refresh interval longer than the test: the change is seen through the file's events
      '  - file_sd_configs: [{files: [' + JSON.stringify(sd) + '], refresh_interval: 1h}]',
      '',
    ].join('\n');
    const queryConfig = [`- static_configs: ["127.0.0.1:${querier.port}"]`, '  path_prefix: /thanos', `  http_config: {bearer_token_file: ${JSON.stringify(join(dir, 'token'))}}`, ''].join('\n');
    const ruler = await startTessera('rule', [
      `--rule-file=${join(dir, 'rules.yml')}`,
      `--query.config=${queryConfig}`,
      `--alertmanagers.config=${amConfig}`,
      `--data-dir=${join(dir, 'data')}`,
      '--resend-delay=1s',
      '--alert.query-url=http://ui.example',
      '--alert.query-template=/explore?q={{.Expr}}',
    ]);
    try {
      await waitFor('the alert at the https Alertmanager and the file SD target', async () => secure.received.length > 0 && first.received.length > 0);
      expect(secure.received[0]!.labels).toMatchObject({ alertname: 'Down', job: 'api' });
      expect(secure.received[0]!.generatorURL).toBe('http://ui.example/explore?q=up+%3D%3D+0');
      expect(querier.requests.every((r) => r.auth === 'Bearer q-token' && r.url === '/thanos/api/v1/query')).toBe(true);
      // the file SD file now names another Alertmanager: alerts move there, the old one gets no more
      await writeFile(sd, `- targets: ["127.0.0.1:${second.port}"]\n`);
      await waitFor('the alert at the new file SD target', async () => second.received.length > 0);
      const n = first.received.length;
      const m = second.received.length;
      await waitFor('two more resends to the new target', async () => second.received.length >= m + 2);
      expect(first.received.length).toBe(n);
      // no request to the https Alertmanager without the right credentials
      expect(secure.requests.every((r) => r.auth === basic)).toBe(true);
    } finally {
      await ruler.stop();
      for (const s of servers) {
        s.server.closeAllConnections?.();
        await new Promise((r) => s.server.close(r));
      }
    }
  });

  test('a bad http_config (a CA file that does not exist) or --alert.query-template exits 1 naming it', async () => {
    const { runCommand } = await import('./command.js');
    const { ruleCommand } = await import('./rule.js');
    const run = async (args: string[]) => {
      let out = '';
      const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
      const code = await runCommand(ruleCommand, [`--rule-file=${join(dir, 'rules.yml')}`, '--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0', `--data-dir=${join(dir, 'data-bad')}`, ...args], { stdout: sink, stderr: sink });
      return { code, out };
    };
    const missing = join(dir, 'nope.crt');
    const r1 = await run(['--query=127.0.0.1:1', `--alertmanagers.config=alertmanagers:\n  - static_configs: [am:9093]\n    http_config: {tls_config: {ca_file: ${missing}}}\n`]);
    expect(r1.code).toBe(1);
    expect(r1.out).toContain(`read ca_file ${missing}`);
    const r2 = await run(['--query=127.0.0.1:1', '--alert.query-template=/graph?g0.expr={{.Expr']);
    expect(r2.code).toBe(1);
    expect(r2.out).toContain('--alert.query-template: failed to parse the template');
    const r3 = await run(['--query=127.0.0.1:1', '--query.config=- static_configs: [q:1]\n']);
    expect(r3.code).toBe(2);
    expect(r3.out).toContain('cannot be defined at the same time');
  });
});
