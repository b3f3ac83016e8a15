import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import { GrpcStoreClient, LocalStore, MemChunkQueryable, StoreGrpcServer, type SeriesSink, type StoreServer } from '../store/index.js';
import type { SeriesResponse } from '../storepb/index.js';
import { testQuerierOptions } from '../testutil/index.js';
import { Querier } from './querier-service.js';
import { SelectorLabelsStore } from './selector-labels-store.js';

function memStore(instance: string, externalLabels: Labels): LocalStore {
  const q = new MemChunkQueryable([{ labels: Labels.fromRecord({ __name__: 'up', instance }), samples: [[1000, 1], [2000, 1]] }]);
  return new LocalStore({ queryable: q, externalLabels, componentType: 'sidecar', timeRange: () => q.timeRange() });
}

/** noLabelSets wraps a StoreServer so that it that advertises no label set. */
function noLabelSets(inner: StoreServer): StoreServer {
  return {
    info: async (signal) => ({ ...(await inner.info(signal)), labelSets: [] }),
    series: (req, sink, signal) => inner.series(req, sink, signal),
    labelNames: (req, signal) => inner.labelNames(req, signal),
    labelValues: (req, signal) => inner.labelValues(req, signal),
  };
}

async function seriesNames(store: StoreServer, matchers: Matcher[]): Promise<string[]> {
  const out: string[] = [];
  const sink: SeriesSink = {
    send(r: SeriesResponse) {
      if (r.kind === 'series') out.push(r.series.labels.get('instance'));
      if (r.kind === 'batch') for (const x of r.batch) out.push(x.labels.get('instance'));
      return undefined;
    },
  };
  await store.series({ minTime: 0, maxTime: 10_000, matchers }, sink, new AbortController().signal);
  return out;
}

const eq = (name: string, value: string) => new Matcher(MatchType.Equal, name, value);

describe('SelectorLabelsStore', () => {
  test('Info extends each label set with the selector labels (replacing same-named ones); min/max time unchanged', async () => {
    const inner = memStore('i1', Labels.fromRecord({ cluster: 'c1', region: 'old' }));
    const s = new SelectorLabelsStore(inner, Labels.fromRecord({ region: 'eu', tier: 'hot' }));
    const info = await s.info();
    expect(info.labelSets.map((l) => l.toRecord())).toEqual([{ cluster: 'c1', region: 'eu', tier: 'hot' }]);
    const before = await inner.info();
    expect(info.store?.minTime).toBe(before.store?.minTime);
    expect(info.store?.maxTime).toBe(before.store?.maxTime);
    expect(info.componentType).toBe(before.componentType);
  });

  test('Info advertises the selector labels alone when the inner store advertises no label set', async () => {
    const s = new SelectorLabelsStore(noLabelSets(memStore('i1', Labels.EMPTY)), Labels.fromRecord({ region: 'eu' }));
    expect((await s.info()).labelSets.map((l) => l.toRecord())).toEqual([{ region: 'eu' }]);
  });

  test('requests contradicting the selector labels get nothing; matching matchers on them are dropped', async () => {
    const s = new SelectorLabelsStore(memStore('i1', Labels.fromRecord({ cluster: 'c1' })), Labels.fromRecord({ region: 'eu' }));
    expect(await seriesNames(s, [eq('__name__', 'up'), eq('region', 'us')])).toEqual([]);
    expect(await seriesNames(s, [eq('__name__', 'up'), eq('region', 'eu')])).toEqual(['i1']);
    await expect(seriesNames(s, [eq('region', 'eu')])).rejects.toThrow(/no matchers specified \(excluding selector labels\)/);
    const signal = new AbortController().signal;
    expect((await s.labelNames({ start: 0, end: 10_000, matchers: [eq('region', 'us')] }, signal)).names).toEqual([]);
    expect((await s.labelNames({ start: 0, end: 10_000, matchers: [eq('region', 'eu')] }, signal)).names).toContain('instance');
    expect((await s.labelValues({ label: 'instance', start: 0, end: 10_000, matchers: [eq('region', 'us')] }, signal)).values).toEqual([]);
    expect((await s.labelValues({ label: 'instance', start: 0, end: 10_000, matchers: [eq('region', 'eu')] }, signal)).values).toEqual(['i1']);
  });
});

// A parent querier stacking two child queriers that have different --selector-label values.
describe('parent querier over child queriers with --selector-label', () => {
  const servers: StoreGrpcServer[] = [];
  const children: Querier[] = [];
  let parent: Querier;
  let url: string;

  beforeAll(async () => {
    for (const region of ['eu', 'us']) {
      const server = new StoreGrpcServer(memStore(`${region}-1`, Labels.fromRecord({ cluster: `c-${region}` })));
      const port = await server.listen('127.0.0.1:0');
      servers.push(server);
      const child = new Querier(testQuerierOptions([`127.0.0.1:${port}`], { selectorLabels: Labels.fromRecord({ region }) }));
      await child.start();
      children.push(child);
    }
    parent = new Querier(testQuerierOptions(children.map((c) => `127.0.0.1:${c.grpcPort}`)));
    await parent.start();
    url = `http://127.0.0.1:${parent.httpPort}`;
  });

  afterAll(async () => {
    await parent?.stop();
    for (const c of children) await c.stop();
    for (const s of servers) await s.stop(100);
  });

  test("a child's StoreAPI Info reports its endpoints' label sets extended with its selector labels", async () => {
    const client = new GrpcStoreClient(`127.0.0.1:${children[0]!.grpcPort}`);
    try {
      const info = await client.info();
      expect(info.componentType).toBe('query');
      expect(info.labelSets.map((l) => l.toRecord())).toEqual([{ cluster: 'c-eu', region: 'eu' }]);
    } finally {
      client.close();
    }
  });

  test("the parent's /api/v1/stores shows the children's label sets with their selector labels", async () => {
    const body = (await (await fetch(`${url}/api/v1/stores`)).json()) as { data: { name: string; labelSets: Record<string, string>[] }[] };
    const byName = new Map(body.data.map((s) => [s.name, s.labelSets]));
    expect(byName.get(`127.0.0.1:${children[0]!.grpcPort}`)).toEqual([{ cluster: 'c-eu', region: 'eu' }]);
    expect(byName.get(`127.0.0.1:${children[1]!.grpcPort}`)).toEqual([{ cluster: 'c-us', region: 'us' }]);
  });

  const instances = async (params: Record<string, string>): Promise<string[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ time: '2', ...params })}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { result: { metric: Record<string, string> }[] } };
    return body.data.result.map((r) => r.metric['instance'] ?? '').sort();
  };

  test('store matching by the selector label picks the right child', async () => {
    expect(await instances({ query: 'up' })).toEqual(['eu-1', 'us-1']);
    expect(await instances({ query: 'up', 'storeMatch[]': '{region="eu"}' })).toEqual(['eu-1']);
    expect(await instances({ query: 'up', 'storeMatch[]': '{region="us"}' })).toEqual(['us-1']);
    expect(await instances({ query: 'up{region="us"}' })).toEqual(['us-1']);
  });
});
