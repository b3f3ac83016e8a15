import { afterEach, beforeAll, afterAll, describe, expect, test } from 'vitest';
import { Labels } from '../../pkg/labels/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer, type SeriesSink, type StoreServer } from '../../pkg/store/index.js';
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from '../../pkg/storepb/index.js';
import { freePort, waitFor } from '../../pkg/testutil/index.js';
import { startService, tesseraArgs, type Service } from './services.js';

// `tessera query` with its query worker threads as a real process: SIGTERM while workers are busy
// (one waiting on a store that does not answer, one evaluating) ends the process by itself, with
// exit code 0, after --http-grace-period.

/** HangingStore serves a few samples, except that a Series call for `hang` never answers. */
class HangingStore implements StoreServer {
  hanging = 0;
  readonly #inner: LocalStore;
  constructor() {
    const q = new MemChunkQueryable([{ labels: Labels.fromRecord({ __name__: 'up', job: 'a' }), samples: [[0, 1], [15_000, 1]] }]);
    this.#inner = new LocalStore({ queryable: q, externalLabels: Labels.fromRecord({ cluster: 'c1' }), componentType: 'sidecar', timeRange: () => q.timeRange() });
  }
  info() {
    return this.#inner.info();
  }
  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    if (!req.matchers.some((m) => m.name === '__name__' && m.value === 'hang')) return this.#inner.series(req, sink, signal);
    this.hanging++;
    await new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
  }
  labelNames(req: LabelNamesRequest, signal: AbortSignal) {
    return this.#inner.labelNames(req, signal);
  }
  labelValues(req: LabelValuesRequest, signal: AbortSignal) {
    return this.#inner.labelValues(req, signal);
  }
}

describe('tessera query with busy query worker threads', () => {
  const store = new HangingStore();
  const server = new StoreGrpcServer(store);
  let endpoint: string;
  let query: Service | undefined;

  beforeAll(async () => {
    endpoint = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });

  afterEach(async () => {
    await query?.kill();
    query = undefined;
  });

  afterAll(async () => {
    await server.stop(100);
  });

  const inFlight = async (q: Service) => {
    const m = /^tessera_querier_query_worker_queries_in_flight (\d+)$/m.exec(await (await fetch(`${q.httpUrl}/metrics`)).text());
    return Number(m?.[1] ?? -1);
  };

  test('SIGTERM with one worker waiting on a store and one evaluating: the process exits by itself with 0', async () => {
    const http = await freePort();
    const grpc = await freePort();
    const httpUrl = `http://127.0.0.1:${http}`;
    query = await startService(
      'query',
      process.execPath,
      tesseraArgs(['query', `--endpoint=${endpoint}`, `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, '--query.worker-threads=2', '--http-grace-period=1s', '--grpc-grace-period=1s']),
      { url: `${httpUrl}/-/ready` },
      { httpUrl },
    );
    const q = query;
    expect(await (await fetch(`${httpUrl}/metrics`)).text()).toMatch(/^tessera_querier_query_worker_threads 2$/m);
    // The answers are not awaited before SIGTERM: the connections are cut when the process ends.
    const hanging = fetch(`${httpUrl}/api/v1/query?query=hang&time=10`).then(
      (r) => r.status,
      () => 'closed',
    );
    await waitFor('the store holds the query', async () => store.hanging === 1);
    // A long evaluation (a 6 h subquery at 1 s, 10,000 steps) keeps the other worker busy.
    let heavyDone = false;
    const heavy = fetch(`${httpUrl}/api/v1/query_range?${new URLSearchParams({ query: 'quantile_over_time(0.5, vector(time())[6h:1s])', start: '0', end: '1000000', step: '100' })}`).then(
      (r) => r.status,
      () => 'closed',
    ).finally(() => (heavyDone = true));
    // (On a machine fast enough to finish it first, only the waiting worker is busy at SIGTERM.)
    await waitFor('both workers busy', async () => heavyDone || (await inFlight(q)) === 2, 60_000, 20);
    await q.process.stop(60_000);
    // Exited by itself (SIGKILL after 60 s would leave a signal and no code).
    expect([q.process.proc.exitCode, q.process.proc.signalCode], q.process.output().slice(-2000)).toEqual([0, null]);
    expect(q.process.output()).toMatch(/msg="shutting down" signal=SIGTERM/);
    expect(await hanging).not.toBe(200);
    await heavy;
  });
});
