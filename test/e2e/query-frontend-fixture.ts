import { Labels } from '../../pkg/labels/index.js';
import { Querier } from '../../pkg/querier/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer } from '../../pkg/store/index.js';
import { testQuerierOptions } from '../../pkg/testutil/index.js';

/** T0 is the start of the test data: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;
/** DATA_END is where the 3 days of test data end. */
export const DATA_END = T0 + 3 * DAY;

/** QuerierFixture is a real querier over two in-process replica stores. */
export interface QuerierFixture {
  readonly url: string;
  /** stopStore stops replica store i (0: a, 1: b); startStore starts it again on the same port. */
  stopStore(i: number): Promise<void>;
  startStore(i: number): Promise<void>;
  stop(): Promise<void>;
}

function replicaSeries(replica: string, offsetMs: number, gap?: [number, number]) {
  const out = [];
  for (const job of ['api', 'db']) {
    for (const instance of ['i1', 'i2', 'i3']) {
      const seed = job.length * 7 + Number(instance.slice(1));
      const ts: number[] = [];
      for (let t = T0 + offsetMs; t < DATA_END; t += 60_000) if (gap === undefined || t < gap[0] || t >= gap[1]) ts.push(t);
      let c = 0;
      out.push({
        labels: Labels.fromRecord({ __name__: 'http_requests_total', job, instance }),
        // A counter with a reset every 31 hours.
        samples: ts.map((t) => {
          c = (t - T0) % (31 * 3_600_000) < 60_000 ? 0 : c + ((t / 60_000) % 7) + seed;
          return [t, c] as const;
        }),
      });
      out.push({
        labels: Labels.fromRecord({ __name__: 'temperature', job, instance }),
        samples: ts
          // The gauge stops for an hour each day on i3: series come and go between split parts.
          .filter((t) => instance !== 'i3' || (t - T0) % DAY < 20 * 3_600_000)
          .map((t) => [t, 50 + 30 * Math.sin((t - T0) / 3_600_000 / (seed % 5 + 1)) + seed / 10] as const),
      });
    }
  }
  return out;
}

/** startQuerierFixture starts two replica stores (replica a has a 40-minute gap) and a querier. */
export async function startQuerierFixture(): Promise<QuerierFixture> {
  const stores: (StoreGrpcServer | undefined)[] = [];
  const endpoints: string[] = [];
  const makers: (() => StoreGrpcServer)[] = [];
  for (const [replica, offset, gap] of [['a', 0, [T0 + DAY + 3_600_000, T0 + DAY + 6_000_000]], ['b', 250, undefined]] as const) {
    const q = new MemChunkQueryable(replicaSeries(replica, offset, gap === undefined ? undefined : [gap[0], gap[1]]));
    const make = () =>
      new StoreGrpcServer(
        new LocalStore({ queryable: q, externalLabels: Labels.fromRecord({ cluster: 'c1', replica }), componentType: 'sidecar', timeRange: () => q.timeRange() }),
      );
    const server = make();
    endpoints.push(`127.0.0.1:${await server.listen('127.0.0.1:0')}`);
    stores.push(server);
    makers.push(make);
  }
  const querier = new Querier(testQuerierOptions(endpoints, { timeoutMs: 60_000, maxConcurrent: 8, maxSamples: 50_000_000, infoTimeoutMs: 2000, endpointPollIntervalMs: 3_600_000 }));
  await querier.start();
  return {
    url: `http://127.0.0.1:${querier.httpPort}`,
    async stopStore(i) {
      await stores[i]?.stop(100);
      stores[i] = undefined;
    },
    async startStore(i) {
      const server = makers[i]!();
      await server.listen(endpoints[i]!);
      stores[i] = server;
      await querier.checkEndpoints();
    },
    async stop() {
      await querier.stop();
      for (const s of stores) await s?.stop(100);
    },
  };
}

/** QUERIES are the range queries the equality tests draw from. */
export const QUERIES = [
  'sum by (job) (rate(http_requests_total[5m]))',
  'http_requests_total{instance="i1"}',
  'temperature',
  'max_over_time(temperature[1h])',
  'avg by (instance) (temperature)',
  'time()',
  'vector(1)',
  'increase(http_requests_total{job="api"}[30m])',
  'temperature > 75',
  'absent(nonexistent_metric)',
  'max_over_time(rate(http_requests_total{job="db"}[5m])[30m:1m])',
  'temperature offset 1h',
  'topk(2, temperature)',
  'resets(http_requests_total[2h])',
  'sum(temperature) by (job) / count(temperature) by (job)',
];

/** rangeQuery asks url for a range query and returns status and parsed body. */
export async function rangeQuery(url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
