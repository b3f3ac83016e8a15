import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCaptured } from './run-captured.js';
import { storeCommand } from './store.js';
import { testThanosDefaults } from './thanos-defaults.js';

describe('tessera store flags', () => {
  // `thanos store --help` of Thanos v0.42 (booleans from its source); left out on purpose:
  // --block-discovery-strategy (recursive here, Thanos concurrent: fewer bucket requests) and
  // --min-time/--max-time ('' here: no bound, as Thanos's 0000-01-01/9999-12-31, which are accepted too).
  testThanosDefaults(storeCommand, [
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''], ['grpc-address', '0.0.0.0:10901'],
    ['grpc-server-tls-cert', ''], ['grpc-server-tls-key', ''], ['grpc-server-tls-client-ca', ''], ['grpc-server-tls-min-version', '1.3'],
    ['grpc-server-max-connection-age', '60m'], ['grpc-grace-period', '2m'], ['store.limits.request-series', '0'],
    ['store.limits.request-samples', '0'], ['data-dir', './data'], ['cache-index-header', true], ['index-cache-size', '250MB'],
    ['index-cache.config-file', undefined], ['index-cache.config', undefined], ['chunk-pool-size', '2GB'], ['store.grpc.touched-series-limit', '0'],
    ['store.grpc.series-sample-limit', '0'], ['store.grpc.downloaded-bytes-limit', '0'], ['store.grpc.series-max-concurrency', '20'],
    ['objstore.config-file', undefined], ['objstore.config', undefined], ['sync-block-duration', '15m'], ['block-sync-concurrency', '20'],
    ['block-meta-fetch-concurrency', '32'], ['selector.relabel-config-file', undefined], ['selector.relabel-config', undefined],
    ['consistency-delay', '0s'], ['ignore-deletion-marks-delay', '24h'], ['store.enable-index-header-lazy-reader', false],
    ['store.enable-lazy-expanded-postings', false], ['store.posting-group-max-key-series-ratio', '100'],
    ['store.index-header-lazy-download-strategy', 'eager'], ['web.disable', false], ['web.external-prefix', ''], ['web.prefix-header', ''], ['web.disable-cors', false],
    ['bucket-web-label', undefined], ['matcher-cache-size', '0'], ['disable-admin-operations', false], ['request.logging-config-file', undefined],
    ['request.logging-config', undefined],
  ]);

  test.each([
    [['--http-grace-period=later'], /--http-grace-period: invalid duration "later"/],
    [['--store.limits.request-series=-1'], /--store.limits.request-series/],
    [['--min-time=0000-01-01T00:00:00Z', '--max-time=9999-12-31T23:59:59Z', '--block-discovery-strategy=guess'], /--block-discovery-strategy/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-store-flags-'));
    try {
      const r = await runCaptured(storeCommand, [`--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${dir}`, `--data-dir=${join(dir, 'data')}`, '--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
