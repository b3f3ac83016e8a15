import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { requireBinary, testCerts, type TestCerts } from '../testutil/index.js';
import { DOWNSTREAM_TRIPPER_CONFIG_ERROR, defaultTripperConfig, parseDownstreamTripperConfig } from './downstream-tripper-config.js';
import { QueryFrontend } from './query-frontend-service.js';

const openssl = requireBinary('openssl');

describe('parseDownstreamTripperConfig', () => {
  test('empty is Thanos defaults; durations and counts override; unknown fields are errors', () => {
    expect(parseDownstreamTripperConfig('')).toEqual(defaultTripperConfig);
    const c = parseDownstreamTripperConfig('idle_conn_timeout: 30s\nresponse_header_timeout: 1m\nmax_idle_conns_per_host: 100\nmax_conns_per_host: 8\ntls_handshake_timeout: 0s\n');
    expect(c).toMatchObject({ idleConnTimeoutMs: 30_000, responseHeaderTimeoutMs: 60_000, maxIdleConnsPerHost: 100, maxConnsPerHost: 8, tlsHandshakeTimeoutMs: 10_000 });
    for (const bad of ['idle_conn_timeout: soon\n', 'max_idle_conns: many\n', 'nope: 1\n', 'tls_config:\n  ca: x\n', 'tls_config:\n  cert_file: /x.crt\n', 'tls_config:\n  ca_file: /does/not/exist.crt\n']) {
      let err: unknown;
      try {
        parseDownstreamTripperConfig(bad);
      } catch (e) {
        err = e;
      }
      expect(isTesseraError(err) && err.code === DOWNSTREAM_TRIPPER_CONFIG_ERROR, bad).toBe(true);
    }
  });
});

/**
 * The frontend talks https to a fake querier that requires a client certificate from the test CA
 * (mutual TLS), with certificates made by openssl at test time.
 */
describe.skipIf(openssl === undefined)('query-frontend to an https querier (certificates made by openssl)', () => {
  let dir: string;
  let certs: TestCerts;
  let server: Server;
  let port: number;
  const clients: string[] = [];
  const fes: QueryFrontend[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-qfe-tls-'));
    certs = await testCerts(openssl!, dir);
    server = createServer(
      { cert: readFileSync(certs.serverCrt), key: readFileSync(certs.serverKey), ca: readFileSync(certs.caCrt), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ''));
        const url = new URL(req.url ?? '/', 'https://x');
        res.writeHead(200, { 'content-type': 'application/json' });
        if (url.pathname === '/api/v1/query_range') {
          res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { a: '1' }, values: [[0, '1']] }] } }));
        } else res.end(JSON.stringify({ status: 'success', data: ['secure'] }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  }, 60_000);

  afterAll(async () => {
    for (const fe of fes) await fe.stop();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const frontend = async (host: string, tripperYaml: string) => {
    const fe = new QueryFrontend({
      httpAddress: '127.0.0.1:0',
      downstreamUrl: `https://${host}:${port}`,
      splitIntervalMs: 3_600_000,
      alignRangeWithStep: false,
      maxRetries: 1,
      maxQueryLengthMs: 0,
      maxQueryParallelism: 4,
      maxFreshnessMs: 60_000,
      labelsSplitIntervalMs: 0,
      logQueriesLongerThanMs: 0,
      forwardHeaders: [],
      downstreamTripper: parseDownstreamTripperConfig(tripperYaml),
    });
    await fe.start();
    fes.push(fe);
    return `http://127.0.0.1:${fe.httpPort}`;
  };
  const tls = (lines: string[]) => `tls_config:\n${lines.map((l) => `  ${l}\n`).join('')}`;

  test('mutual TLS: CA and client certificate from tls_config; range queries and passthrough both answer', async () => {
    const url = await frontend('127.0.0.1', tls([`ca_file: ${certs.caCrt}`, `cert_file: ${certs.clientCrt}`, `key_file: ${certs.clientKey}`]));
    const r = await fetch(`${url}/api/v1/query_range?query=up&start=0&end=60&step=60`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { a: '1' }, values: [[0, '1']] }] } });
    const l = await fetch(`${url}/api/v1/labels`);
    expect(await l.json()).toEqual({ status: 'success', data: ['secure'] });
    expect(clients.at(-1)).toBe('client');
  });

  test('without the client certificate, or without the CA, the querier is unreachable: 502, no data', async () => {
    for (const cfg of [tls([`ca_file: ${certs.caCrt}`]), tls([`cert_file: ${certs.clientCrt}`, `key_file: ${certs.clientKey}`]), '']) {
      const url = await frontend('127.0.0.1', cfg);
      const r = await fetch(`${url}/api/v1/labels`);
      expect(r.status, cfg).toBe(502);
      expect(((await r.json()) as { errorType: string }).errorType).toBe('unavailable');
    }
  });

  test('server_name checks the certificate against another name; insecure_skip_verify skips the check', async () => {
    // The server's certificate names localhost and 127.0.0.1, not store.tessera.test.
    const wrongName = await frontend('127.0.0.1', tls([`ca_file: ${certs.caCrt}`, `cert_file: ${certs.clientCrt}`, `key_file: ${certs.clientKey}`, 'server_name: store.tessera.test']));
    expect((await fetch(`${wrongName}/api/v1/labels`)).status).toBe(502);
    const rightName = await frontend('127.0.0.1', tls([`ca_file: ${certs.caCrt}`, `cert_file: ${certs.clientCrt}`, `key_file: ${certs.clientKey}`, 'server_name: localhost']));
    expect((await fetch(`${rightName}/api/v1/labels`)).status).toBe(200);
    const skip = await frontend('127.0.0.1', tls([`cert_file: ${certs.clientCrt}`, `key_file: ${certs.clientKey}`, 'insecure_skip_verify: true']));
    expect((await fetch(`${skip}/api/v1/labels`)).status).toBe(200);
  });
});
