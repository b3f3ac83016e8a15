import { describe, expect, test } from 'vitest';
import { queryCommand, selectorLabelsFlag, workerThreadsFlag } from './query.js';
import { runCaptured } from './run-captured.js';
import { testThanosDefaults } from './thanos-defaults.js';

describe('tessera query flags', () => {
  // `thanos query --help` of Thanos v0.42 (booleans from its source); left out on purpose:
  // --query.lookback-delta (5m here; Thanos leaves it unset and then uses PromQL's 5m).
  testThanosDefaults(queryCommand, [
    ['enable-feature', undefined], ['query.enable-x-functions', false], 
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''], ['grpc-address', '0.0.0.0:10901'],
    ['grpc-server-tls-cert', ''], ['grpc-server-tls-key', ''], ['grpc-server-tls-client-ca', ''], ['grpc-server-tls-min-version', '1.3'],
    ['grpc-server-max-connection-age', '60m'], ['grpc-grace-period', '2m'], ['grpc-client-tls-secure', false],
    ['grpc-client-tls-skip-verify', false], ['grpc-client-tls-cert', ''], ['grpc-client-tls-key', ''], ['grpc-client-tls-ca', ''],
    ['grpc-client-server-name', ''], ['grpc-compression', 'none'], ['grpc-client-tls-min-version', '1.3'], ['web.route-prefix', ''],
    ['web.external-prefix', ''], ['web.prefix-header', ''], ['web.disable-cors', false], ['query.timeout', '2m'],
    ['query.promql-engine', 'prometheus'], ['query.mode', 'local'], ['query.max-concurrent', '20'], ['query.max-concurrent-select', '4'],
    ['query.conn-metric.label', undefined], ['deduplication.func', 'penalty'], ['query.replica-label', undefined],
    ['query.auto-downsampling', false], ['query.partial-response', true], ['query.active-query-path', ''],
    ['query.default-evaluation-interval', '1m'], ['query.default-step', '1s'], ['store.response-timeout', '0ms'],
    ['request.logging-config-file', undefined], ['request.logging-config', undefined],
    ['query.telemetry.request-duration-seconds-quantiles', undefined], ['query.telemetry.request-samples-quantiles', undefined],
    ['query.telemetry.request-series-seconds-quantiles', undefined], ['store.sd-dns-interval', '30s'], ['store.unhealthy-timeout', '5m'],
    ['store.sd-files', undefined], ['store.sd-interval', '5m'], ['endpoint', undefined], ['selector-label', undefined],
  ]);

  test.each([
    [['--deduplication.func=chain'], /--deduplication.func: "chain" is not supported/],
    [['--grpc-compression=gzip'], /--grpc-compression/],
    [['--query.promql-engine=fast'], /--query.promql-engine/],
    [['--query.mode=remote'], /--query.mode/],
    [['--query.worker-threads=many'], /--query.worker-threads: "many" is not auto or a number/],
    [['--selector-label=region'], /--selector-label: unrecognized label "region": want name=value/],
    [['--selector-label=1region="eu"'], /--selector-label: unsupported label name/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    const r = await runCaptured(queryCommand, ['--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  test('--query.worker-threads=auto is the number of cores, at most 8, and 0 on one core', () => {
    expect([1, 2, 4, 8, 64].map((cores) => workerThreadsFlag('auto', cores))).toEqual([0, 2, 4, 8, 8]);
    expect(workerThreadsFlag('0', 4)).toBe(0);
    expect(workerThreadsFlag('3', 1)).toBe(3);
  });

  test('--selector-label takes name="value" (quoted or bare), repeatable', () => {
    expect(selectorLabelsFlag(['region="eu"', 'tier=hot']).toRecord()).toEqual({ region: 'eu', tier: 'hot' });
    expect(selectorLabelsFlag(['a="x\\"y"']).get('a')).toBe('x"y');
    expect(selectorLabelsFlag([]).isEmpty()).toBe(true);
  });
});
