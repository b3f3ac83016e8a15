import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireBinary, testCerts, type TestCerts } from '../testutil/index.js';
import { httpClient, parseHttpClientConfig } from './http-client-config.js';

const openssl = requireBinary('openssl');

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

const init = () => ({ method: 'GET', headers: {}, signal: AbortSignal.timeout(10_000) });

describe.skipIf(openssl === undefined)('httpClient', () => {
  let dir: string;
  let certs: TestCerts;
  const servers: Server[] = [];
  const tunnels: Socket[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'http-client-'));
    certs = await testCerts(openssl!, dir);
  });
  afterAll(async () => {
    for (const t of tunnels) t.destroy();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('bearer_token_file is re-read per request; through proxy_url an http target is requested by absolute URL and an https one tunnelled with CONNECT (server_name checked)', async () => {
    const target = createServer((req, res) => res.end(`plain ${req.url} ${req.headers.authorization}`));
    const secure = createHttpsServer({ key: readFileSync(certs.namedServerKey), cert: readFileSync(certs.namedServerCrt) }, (req, res) => res.end(`secure ${req.url}`));
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end(`via proxy ${req.url} ${req.headers.authorization}`);
    });
    proxy.on('connect', (req, client: Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host, () => {
        tunnels.push(up, client);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
    });
    servers.push(target, secure, proxy);
    const [tp, sp, pp] = [await listen(target), await listen(secure as unknown as Server), await listen(proxy)];
    const token = join(dir, 'token');
    await writeFile(token, 'one\n');
    const direct = httpClient(parseHttpClientConfig({ bearer_token_file: token }, 'http_config'));
    expect((await direct(`http://127.0.0.1:${tp}/x?y=1`, init())).text).toBe('plain /x?y=1 Bearer one');
    await writeFile(token, 'two\n');
    expect((await direct(`http://127.0.0.1:${tp}/x`, init())).text).toBe('plain /x Bearer two');

    const proxied = httpClient(parseHttpClientConfig({ proxy_url: `http://127.0.0.1:${pp}`, basic_auth: { username: 'u', password: 'p' }, tls_config: { ca_file: certs.caCrt, server_name: 'store.tessera.test' } }, 'http_config'));
    const r = await proxied(`http://127.0.0.1:${tp}/a`, init());
    expect(r.text).toBe(`via proxy http://127.0.0.1:${tp}/a Basic ${Buffer.from('u:p').toString('base64')}`);
    expect((await proxied(`https://127.0.0.1:${sp}/b`, init())).text).toBe('secure /b');
    expect(seen).toEqual([`GET http://127.0.0.1:${tp}/a`, `CONNECT 127.0.0.1:${sp}`]);
    // without the server name override the certificate (store.tessera.test only) does not match
    const noName = httpClient(parseHttpClientConfig({ tls_config: { ca_file: certs.caCrt } }, 'http_config'));
    await expect(noName(`https://127.0.0.1:${sp}/c`, init())).rejects.toThrow(/altnames|certificate/i);
    const insecure = httpClient(parseHttpClientConfig({ tls_config: { insecure_skip_verify: true } }, 'http_config'));
    expect((await insecure(`https://127.0.0.1:${sp}/d`, init())).text).toBe('secure /d');
  });

  test('tls_config cert_file/key_file present a client certificate to a server that requires one', async () => {
    const mtls = createHttpsServer({ key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCrt), ca: readFileSync(certs.caCrt), requestCert: true, rejectUnauthorized: true }, (req, res) =>
      res.end(`hello ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN}`),
    );
    servers.push(mtls as unknown as Server);
    const port = await listen(mtls as unknown as Server);
    const withCert = httpClient(parseHttpClientConfig({ tls_config: { ca_file: certs.caCrt, cert_file: certs.clientCrt, key_file: certs.clientKey } }, 'http_config'));
    expect((await withCert(`https://localhost:${port}/`, init())).text).toBe('hello client');
    const without = httpClient(parseHttpClientConfig({ tls_config: { ca_file: certs.caCrt } }, 'http_config'));
    await expect(without(`https://localhost:${port}/`, init())).rejects.toThrow();
  });
});
