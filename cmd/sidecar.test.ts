import { describe, expect, test } from 'vitest';
import { parseTimeFlag } from './flag-values.js';
import { runCaptured } from './run-captured.js';
import { sidecarCommand } from './sidecar.js';
import { testThanosDefaults } from './thanos-defaults.js';

const parseMinTime = (v: string, now: number) => parseTimeFlag(v, now, 'min-time');

describe('--min-time', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  test.each([
    ['', undefined],
    ['-2h', now - 7_200_000],
    ['-1d', now - 86_400_000],
    ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z')],
    ['1700000000000', 1_700_000_000_000],
    ['-5', -5],
    ['6h', now + 21_600_000],
  ])('%j', (v, want) => {
    expect(parseMinTime(v, now)).toBe(want);
  });
  test('garbage is a usage error', () => {
    expect(() => parseMinTime('yesterday', now)).toThrow(/--min-time/);
  });
});

describe('--prometheus.url', () => {
  test.each(['notaurl', 'localhost:9090', 'ftp://prom:9090', 'http://'])('%j is a usage error (exit 2) naming the flag', async (url) => {
    const r = await runCaptured(sidecarCommand, [`--prometheus.url=${url}`, '--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--prometheus.url: "${url}" is not an http:// or https:// URL`);
  });
});

describe('tessera sidecar flags', () => {
  // `thanos sidecar --help` of Thanos v0.42; left out on purpose: --min-time ('' here: no bound, as
  // Thanos's 0000-01-01T00:00:00Z, which is accepted too).
  testThanosDefaults(sidecarCommand, [
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''], ['grpc-address', '0.0.0.0:10901'],
    ['grpc-server-tls-cert', ''], ['grpc-server-tls-key', ''], ['grpc-server-tls-client-ca', ''], ['grpc-server-tls-min-version', '1.3'],
    ['grpc-server-max-connection-age', '60m'], ['grpc-grace-period', '2m'], ['prometheus.url', 'http://localhost:9090'],
    ['prometheus.ready_timeout', '10m'], ['prometheus.get_config_interval', '30s'], ['prometheus.get_config_timeout', '30s'],
    ['tsdb.path', './data'], ['request.logging-config-file', undefined], ['request.logging-config', undefined], ['objstore.config-file', undefined],
    ['objstore.config', undefined], ['shipper.upload-compacted', false], ['hash-func', ''], ['shipper.meta-file-name', 'thanos.shipper.json'],
    ['shipper.upload-concurrency', '0'],
  ]);

  test.each([
    [['--hash-func=MD5'], /--hash-func: "MD5"/],
    [['--shipper.upload-concurrency=many'], /--shipper.upload-concurrency/],
    [['--shipper.upload-concurrency=-1'], /--shipper.upload-concurrency: must be 0 or more/],
    [['--http-grace-period=later'], /--http-grace-period/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    const r = await runCaptured(sidecarCommand, ['--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });
});
