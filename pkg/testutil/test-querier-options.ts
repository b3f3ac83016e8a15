import type { QuerierOptions } from '../querier/index.js';

/**
 * testQuerierOptions are a Querier's options for tests over `endpoints`: HTTP and gRPC on free
 * loopback ports, deduplication on `replica`, partial responses on, a 30 s timeout, 4 concurrent
 * queries, 1M samples, a 5m lookback, 1m default evaluation interval and no auto-downsampling;
 * `overrides` replace any of them. Type-only: importing it does not load pkg/querier.
 */
export function testQuerierOptions(endpoints: readonly string[], overrides: Partial<QuerierOptions> = {}): QuerierOptions {
  return {
    httpAddress: '127.0.0.1:0',
    grpcAddress: '127.0.0.1:0',
    endpoints,
    replicaLabels: ['replica'],
    timeoutMs: 30_000,
    maxConcurrent: 4,
    lookbackDeltaMs: 300_000,
    maxSamples: 1_000_000,
    partialResponse: true,
    autoDownsampling: false,
    defaultEvaluationIntervalMs: 60_000,
    ...overrides,
  };
}
