import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { Labels } from '../labels/index.js';
import type { InfoResponse, SeriesResponse } from '../storepb/index.js';
import { requireBinary, testCerts, type TestCerts } from '../testutil/index.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import { GRPC_TLS_CONFIG_ERROR, grpcClientCredentials, grpcServerCredentials, type GrpcClientTlsOptions, type GrpcServerTlsOptions } from './grpc-tls.js';
import type { StoreServer } from './store-api.js';

const openssl = requireBinary('openssl');

/** A store with one series; series() counts the calls that reached it. */
function oneSeries(): StoreServer & { calls: number } {
  const info: InfoResponse = { labelSets: [Labels.fromStrings('ext', '1')], componentType: 'store', store: { minTime: 0, maxTime: 1000 } };
  const s = {
    calls: 0,
    info: () => Promise.resolve(info),
    async series(_req: unknown, sink: { send(r: SeriesResponse): Promise<void> | undefined }) {
      s.calls++;
      await sink.send({ kind: 'series', series: { labels: Labels.fromStrings('__name__', 'up', 'job', 'a'), chunks: [] } });
    },
    labelNames: () => Promise.resolve({ names: ['job'], warnings: [] }),
    labelValues: () => Promise.resolve({ values: ['a'], warnings: [] }),
  };
  return s;
}

let certs: TestCerts;
let dir: string;
beforeAll(async () => {
  if (openssl === undefined) return;
  dir = await mkdtemp(join(tmpdir(), 'tessera-grpc-tls-'));
  certs = await testCerts(openssl, dir);
}, 60_000);
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  series: number;
  err?: string;
}

/** call serves oneSeries with server TLS options, dials it with the client options, asks Info and Series. */
async function call(server: GrpcServerTlsOptions, client: GrpcClientTlsOptions | 'plain', host = '127.0.0.1'): Promise<Outcome & { reached: number }> {
  const store = oneSeries();
  const srv = new StoreGrpcServer(store, { credentials: await grpcServerCredentials(server) });
  const port = await srv.listen('127.0.0.1:0');
  const tls = client === 'plain' ? undefined : await grpcClientCredentials(client);
  const c = new GrpcStoreClient(`${host}:${port}`, tls === undefined ? {} : { credentials: tls.credentials, serverName: tls.serverName });
  try {
    await c.info({ timeoutMs: 10_000 });
    let series = 0;
    for await (const batch of c.series({ minTime: 0, maxTime: 1000, matchers: [] }, { timeoutMs: 10_000 })) series += batch.filter((r) => r.kind === 'series').length;
    return { ok: true, series, reached: store.calls };
  } catch (err) {
    return { ok: false, series: 0, err: (err as Error).message, reached: store.calls };
  } finally {
    c.close();
    await srv.stop(1000);
  }
}

describe.skipIf(openssl === undefined)('gRPC TLS (certificates made by openssl)', () => {
  const mtlsServer = (): GrpcServerTlsOptions => ({ certFile: certs.serverCrt, keyFile: certs.serverKey, clientCaFile: certs.caCrt });

  test('mutual TLS: a client with a certificate the CA signed gets the data', async () => {
    const r = await call(mtlsServer(), { secure: true, certFile: certs.clientCrt, keyFile: certs.clientKey, caFile: certs.caCrt });
    expect(r).toEqual({ ok: true, series: 1, reached: 1 });
  });

  test.each([
    ['without a certificate', (): GrpcClientTlsOptions => ({ secure: true, caFile: certs.caCrt })],
    ['with a certificate of another CA', (): GrpcClientTlsOptions => ({ secure: true, certFile: certs.rogueClientCrt, keyFile: certs.rogueClientKey, caFile: certs.caCrt })],
  ])('mutual TLS: a client %s gets nothing', async (_name, client) => {
    const r = await call(mtlsServer(), client());
    expect(r.ok).toBe(false);
    expect(r.series).toBe(0);
    expect(r.reached).toBe(0);
    expect(r.err).toMatch(/info/i);
  });

  test('a plain-text client gets nothing from a TLS server', async () => {
    const r = await call(mtlsServer(), 'plain');
    expect(r.ok).toBe(false);
    expect(r.reached).toBe(0);
  });

  test('server TLS without a client CA: a client without a certificate is served', async () => {
    const r = await call({ certFile: certs.serverCrt, keyFile: certs.serverKey }, { secure: true, caFile: certs.caCrt });
    expect(r).toEqual({ ok: true, series: 1, reached: 1 });
  });

  test('the client refuses a server its CA did not sign, unless told to skip verification', async () => {
    const server = { certFile: certs.serverCrt, keyFile: certs.serverKey };
    const refused = await call(server, { secure: true, caFile: certs.rogueCaCrt });
    expect(refused.ok).toBe(false);
    expect(refused.reached).toBe(0);
    const skipped = await call(server, { secure: true, caFile: certs.rogueCaCrt, skipVerify: true });
    expect(skipped).toEqual({ ok: true, series: 1, reached: 1 });
  });

  test('--grpc-client-server-name: the certificate is checked for that name, not the dialled host', async () => {
    const server = { certFile: certs.namedServerCrt, keyFile: certs.namedServerKey };
    const wrongName = await call(server, { secure: true, caFile: certs.caCrt });
    expect(wrongName.ok).toBe(false);
    const named = await call(server, { secure: true, caFile: certs.caCrt, serverName: 'store.tessera.test' });
    expect(named).toEqual({ ok: true, series: 1, reached: 1 });
  });
});

/** handshake opens a raw TLS connection (ALPN h2, as gRPC) and tells the negotiated version or the error. */
function handshake(port: number, opts: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], ...opts });
    s.once('secureConnect', () => {
      resolve(s.getProtocol() ?? 'unknown');
      s.destroy();
    });
    s.once('error', (e) => resolve(`error: ${e.message}`));
  });
}

describe.skipIf(openssl === undefined)('--grpc-server-tls-min-version', () => {
  test.each([
    [undefined, 'TLSv1.2', /^error/],
    [undefined, 'TLSv1.3', /^TLSv1\.3$/],
    ['1.2', 'TLSv1.2', /^TLSv1\.2$/],
  ] as const)('min %s, client max %s: %s', async (min, max, want) => {
    const { readFile } = await import('node:fs/promises');
    const srv = new StoreGrpcServer(oneSeries(), { credentials: await grpcServerCredentials({ certFile: certs.serverCrt, keyFile: certs.serverKey, ...(min !== undefined ? { minVersion: min } : {}) }) });
    const port = await srv.listen('127.0.0.1:0');
    try {
      expect(await handshake(port, { maxVersion: max, ca: await readFile(certs.caCrt, 'utf8') })).toMatch(want);
    } finally {
      await srv.stop(1000);
    }
  });
  test('a key that does not belong to the certificate is a start-up error', async () => {
    const err = await grpcServerCredentials({ certFile: certs.serverCrt, keyFile: certs.clientKey }).catch((e: unknown) => e);
    expect(isTesseraError(err, GRPC_TLS_CONFIG_ERROR)).toBe(true);
  });
  test('an unknown version is an error', async () => {
    const err = await grpcServerCredentials({ certFile: certs.serverCrt, keyFile: certs.serverKey, minVersion: '1.4' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/"1.4" is not one of/);
  });
});

describe('gRPC TLS flag combinations', () => {
  test.each([
    [{ certFile: '', keyFile: '', clientCaFile: '/ca.crt' }, /client-ca needs/],
    [{ certFile: '/a.crt', keyFile: '' }, /needs both/],
    [{ certFile: '/nonexistent/a.crt', keyFile: '/nonexistent/a.key' }, /read gRPC server TLS certificate \/nonexistent\/a.crt/],
  ])('server %j', async (o, want) => {
    const err = await grpcServerCredentials(o).catch((e: unknown) => e);
    expect(isTesseraError(err, GRPC_TLS_CONFIG_ERROR)).toBe(true);
    expect((err as Error).message).toMatch(want);
  });
  test.each([
    [{ secure: false, caFile: '/ca.crt' }, /--grpc-client-tls-secure is not/],
    [{ secure: true, certFile: '/c.crt' }, /both --grpc-client-tls-cert and --grpc-client-tls-key/],
  ])('client %j', async (o, want) => {
    const err = await grpcClientCredentials(o).catch((e: unknown) => e);
    expect(isTesseraError(err, GRPC_TLS_CONFIG_ERROR)).toBe(true);
    expect((err as Error).message).toMatch(want);
  });
  test('plain text when nothing is set', async () => {
    expect(await grpcClientCredentials({ secure: false })).toBeUndefined();
    expect(await grpcServerCredentials({ certFile: '', keyFile: '' })).toBeDefined();
  });
});
