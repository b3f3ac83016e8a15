import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { waitFor } from '../testutil/index.js';
import { isTesseraError } from '../errors/index.js';
import { requireBinary, testCerts, type TestCerts } from '../testutil/index.js';
import { BasicAuth } from './basic-auth.js';
import { createHttpServer } from './http-server.js';
import { WEB_CONFIG_ERROR, loadWebConfig, parseWebConfig, type WebConfig } from './web-config.js';

const openssl = requireBinary('openssl');
// Cost 4 keeps the tests quick; the $2y$ prefix is what `htpasswd -B` writes.
const aliceHash = bcrypt.hashSync('wonderland', 4).replace(/^\$2b\$/, '$2y$');
const bobHash = bcrypt.hashSync('builder', 4);

let dir: string;
let certs: TestCerts | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-web-config-'));
  if (openssl !== undefined) certs = await testCerts(openssl, dir);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serve(web: WebConfig): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello\n');
  }, web);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('basic auth from the web config', () => {
  let port: number;
  let server: Server;
  beforeAll(async () => {
    const web = await parseWebConfig(
      `basic_auth_users:\n  alice: '${aliceHash}'\n  bob: '${bobHash}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`,
      'test',
      dir,
    );
    ({ server, port } = await serve(web));
  });
  afterAll(async () => {
    await close(server);
  });
  const get = (auth?: string) => fetch(`http://127.0.0.1:${port}/`, auth === undefined ? {} : { headers: { Authorization: auth } });

  test('no credentials: 401 with WWW-Authenticate: Basic', async () => {
    const res = await get();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic');
    expect(await res.text()).toBe('Unauthorized\n');
  });
  test.each([
    ['wrong password', basic('alice', 'wonderlan')],
    ['unknown user', basic('carol', 'wonderland')],
    ['another user’s password', basic('bob', 'wonderland')],
    ['not basic', 'Bearer abc'],
  ])('%s: 401', async (_name, auth) => {
    const res = await get(auth);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('Unauthorized\n');
  });
  test('right password: 200, with the configured headers', async () => {
    for (const auth of [basic('alice', 'wonderland'), basic('bob', 'builder')]) {
      const res = await get(auth);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-frame-options')).toBe('deny');
      expect(await res.text()).toBe('hello\n');
    }
  });
});

describe('a changed web config file applies without a restart', () => {
  test('users and headers are re-read', async () => {
    const file = join(dir, 'web-reload.yml');
    await writeFile(file, `basic_auth_users:\n  alice: '${aliceHash}'\n`);
    const loaded = (await loadWebConfig(file))!;
    const { server, port } = await serve(loaded);
    try {
      const get = (auth: string) => fetch(`http://127.0.0.1:${port}/`, { headers: { Authorization: auth } });
      expect((await get(basic('alice', 'wonderland'))).status).toBe(200);
      expect((await get(basic('bob', 'builder'))).status).toBe(401);
      await writeFile(file, `basic_auth_users:\n  bob: '${bobHash}'\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n`);
      await waitFor('bob to be let in', async () => (await get(basic('bob', 'builder'))).status === 200, 20_000, 100);
      const res = await get(basic('bob', 'builder'));
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await get(basic('alice', 'wonderland'))).status).toBe(401);
      // An unchanged file gives the same config back; an invalid one is an error (the server keeps the config in force).
      const current = await loaded.reload!();
      expect(await current.reload!()).toBe(current);
      await writeFile(file, 'basic_auth_users: [not, a, mapping]\n');
      await expect(current.reload!()).rejects.toThrow(/basic_auth_users is not a mapping/);
      expect((await get(basic('bob', 'builder'))).status).toBe(200);
    } finally {
      await close(server);
    }
  });
});

describe('BasicAuth cache', () => {
  test('a successful check is cached; a failing one is not, and a different password misses', async () => {
    const auth = new BasicAuth(new Map([['alice', aliceHash]]));
    const spy = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await auth.check(basic('alice', 'wonderland'))).toBe(true);
      expect(await auth.check(basic('alice', 'wonderland'))).toBe(true);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(await auth.check(basic('alice', 'nope'))).toBe(false);
      expect(await auth.check(basic('alice', 'nope'))).toBe(false);
      expect(spy).toHaveBeenCalledTimes(3);
      // An unknown user still costs one bcrypt comparison (no timing difference to probe names).
      expect(await auth.check(basic('mallory', 'wonderland'))).toBe(false);
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('web config errors', () => {
  test.each([
    ['unknown_field: 1\n', /unknown field "unknown_field"/],
    ['basic_auth_users:\n  alice: plaintext\n', /basic_auth_users.alice is not a bcrypt hash/],
    ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /invalid value "allow" for header X-Frame-Options/],
    ['http_server_config:\n  headers:\n    Server: tessera\n', /unknown field "Server"/],
    ['tls_server_config:\n  key_file: a.key\n', /missing cert_file/],
    ['tls_server_config:\n  cert_file: /nonexistent/a.crt\n  key_file: /nonexistent/a.key\n', /read tls_server_config.cert_file \/nonexistent\/a.crt/],
    ['tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: Sometimes\n', /invalid client_auth_type "Sometimes"/],
    ['tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: RequireAndVerifyClientCert\n', /needs client_ca_file/],
    ['tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS14\n', /unknown TLS version "TLS14"/],
  ])('%j', async (yaml, want) => {
    const err = await parseWebConfig(yaml, 'web.yml', dir).catch((e: unknown) => e);
    expect(isTesseraError(err, WEB_CONFIG_ERROR)).toBe(true);
    expect((err as Error).message).toMatch(want);
  });
  test('no file means no config; a missing file is an error', async () => {
    expect(await loadWebConfig('')).toBeUndefined();
    await expect(loadWebConfig(join(dir, 'missing.yml'))).rejects.toThrow(/--http.config .*missing.yml/);
  });
});

interface HttpsAnswer {
  status?: number;
  body?: string;
  err?: string;
}

function httpsGet(port: number, opts: { ca?: string; cert?: string; key?: string; auth?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'localhost',
        agent: false,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.cert !== undefined ? { cert: opts.cert, key: opts.key } : {}),
        ...(opts.auth !== undefined ? { headers: { Authorization: opts.auth } } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ...(res.statusCode !== undefined ? { status: res.statusCode } : {}), body }));
        res.on('error', (e) => resolve({ err: e.message }));
      },
    );
    req.on('error', (e) => resolve({ err: e.message }));
    req.end();
  });
}

describe.skipIf(openssl === undefined)('HTTPS from the web config (certificates made by openssl)', () => {
  const read = async (p: string) => (await import('node:fs/promises')).readFile(p, 'utf8');

  test('TLS with relative paths: served over HTTPS, refused in plain text', async () => {
    const c = certs!;
    const file = join(dir, 'web-tls.yml');
    await writeFile(file, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n`);
    const { server, port } = await serve((await loadWebConfig(file))!);
    try {
      expect(await httpsGet(port, { ca: await read(c.caCrt) })).toEqual({ status: 200, body: 'hello\n' });
      const plain = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status, (e: unknown) => String(e));
      expect(plain).not.toBe(200);
      expect((await httpsGet(port, { ca: await read(c.rogueCaCrt) })).err).toMatch(/certificate/);
    } finally {
      await close(server);
    }
  });

  test('RequireAndVerifyClientCert + basic auth: only a signed client certificate with the right password gets 200', async () => {
    const c = certs!;
    const web = await parseWebConfig(
      `tls_server_config:\n  cert_file: ${c.serverCrt}\n  key_file: ${c.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${c.caCrt}\nbasic_auth_users:\n  alice: '${aliceHash}'\n`,
      'test',
      dir,
    );
    const { server, port } = await serve(web);
    try {
      const ca = await read(c.caCrt);
      const client = { ca, cert: await read(c.clientCrt), key: await read(c.clientKey) };
      expect(await httpsGet(port, { ...client, auth: basic('alice', 'wonderland') })).toEqual({ status: 200, body: 'hello\n' });
      expect((await httpsGet(port, { ...client, auth: basic('alice', 'x') })).status).toBe(401);
      const noCert = await httpsGet(port, { ca, auth: basic('alice', 'wonderland') });
      expect(noCert.status).toBeUndefined();
      expect(noCert.err).toBeDefined();
      const rogue = await httpsGet(port, { ca, cert: await read(c.rogueClientCrt), key: await read(c.rogueClientKey), auth: basic('alice', 'wonderland') });
      expect(rogue.status).toBeUndefined();
    } finally {
      await close(server);
    }
  });

  test('client_allowed_sans refuses a signed certificate without an allowed SAN', async () => {
    const c = certs!;
    const web = await parseWebConfig(
      `tls_server_config:\n  cert_file: ${c.serverCrt}\n  key_file: ${c.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${c.caCrt}\n  client_allowed_sans: [other.example]\n`,
      'test',
      dir,
    );
    const { server, port } = await serve(web);
    try {
      const r = await httpsGet(port, { ca: await read(c.caCrt), cert: await read(c.clientCrt), key: await read(c.clientKey) });
      expect(r.status).toBeUndefined();
    } finally {
      await close(server);
    }
  });
});
