import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Labels } from '../labels/index.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import { inProcessClient } from './inprocess.js';
import { LocalStore } from './local-store.js';
import { MemChunkQueryable, type MemSeries } from './mem-chunk-queryable.js';
import { ProxyStore, type ProxyTarget } from './proxy-store.js';
import { storeAPIAcceptanceSuite } from './acceptance.js';
import type { StoreClient } from './store-api.js';

const api = { describe, test, beforeAll, afterAll };

function localStore(series: readonly MemSeries[], externalLabels: Labels): LocalStore {
  const q = new MemChunkQueryable(series, { samplesPerChunk: 40 });
  return new LocalStore({ queryable: q, externalLabels, timeRange: () => q.timeRange(), componentType: 'debug' });
}

storeAPIAcceptanceSuite(api, 'LocalStore in process', ({ series, externalLabels }) => {
  return Promise.resolve({ client: inProcessClient(localStore(series, externalLabels), 'local'), close: () => Promise.resolve() });
});

storeAPIAcceptanceSuite(api, 'LocalStore over gRPC', async ({ series, externalLabels }) => {
  const server = new StoreGrpcServer(localStore(series, externalLabels));
  const port = await server.listen('127.0.0.1:0');
  const client = new GrpcStoreClient(`127.0.0.1:${port}`);
  return {
    client,
    close: async () => {
      client.close();
      await server.stop();
    },
  };
});

async function target(client: StoreClient): Promise<ProxyTarget> {
  const info = await client.info();
  return { client, labelSets: info.labelSets, minTime: info.store!.minTime, maxTime: info.store!.maxTime, supportsWithoutReplicaLabels: info.store!.supportsWithoutReplicaLabels ?? false };
}

/**
 * Splits the data over two stores: alternate series go to one or the other, one series is split in
 * time between them, and the `up` series are in both (identical chunks, deduplicated by the proxy).
 */
function split(series: readonly MemSeries[]): [MemSeries[], MemSeries[]] {
  const a: MemSeries[] = [];
  const b: MemSeries[] = [];
  series.forEach((s, i) => {
    if (s.labels.get('__name__') === 'up' && s.labels.get('instance') === 'b') {
      const half = Math.floor(s.samples.length / 2);
      a.push({ labels: s.labels, samples: s.samples.slice(0, half) });
      b.push({ labels: s.labels, samples: s.samples.slice(half) });
    } else if (s.labels.get('__name__') === 'up') {
      a.push(s);
      b.push(s);
    } else (i % 2 === 0 ? a : b).push(s);
  });
  return [a, b];
}

storeAPIAcceptanceSuite(api, 'ProxyStore over two LocalStores', async ({ series, externalLabels }) => {
  const [a, b] = split(series);
  const targets = await Promise.all([target(inProcessClient(localStore(a, externalLabels), 'a')), target(inProcessClient(localStore(b, externalLabels), 'b'))]);
  const proxy = new ProxyStore({ targets: () => targets });
  return { client: inProcessClient(proxy, 'proxy'), close: () => Promise.resolve() };
});

storeAPIAcceptanceSuite(api, 'ProxyStore over gRPC over two LocalStores over gRPC', async ({ series, externalLabels }) => {
  const [a, b] = split(series);
  const servers = [new StoreGrpcServer(localStore(a, externalLabels)), new StoreGrpcServer(localStore(b, externalLabels))];
  const clients = await Promise.all(servers.map(async (s) => new GrpcStoreClient(`127.0.0.1:${await s.listen('127.0.0.1:0')}`)));
  const targets = await Promise.all(clients.map(target));
  const proxyServer = new StoreGrpcServer(new ProxyStore({ targets: () => targets }));
  const proxyClient = new GrpcStoreClient(`127.0.0.1:${await proxyServer.listen('127.0.0.1:0')}`);
  return {
    client: proxyClient,
    close: async () => {
      proxyClient.close();
      for (const c of clients) c.close();
      await proxyServer.stop();
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
});
