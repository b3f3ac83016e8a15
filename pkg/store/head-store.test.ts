import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Head, Tsdb } from '../tsdb/index.js';
import { storeAPIAcceptanceSuite } from './acceptance.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import { inProcessClient } from './inprocess.js';
import { LocalStore } from './local-store.js';
import type { MemSeries } from './mem-chunk-queryable.js';

const api = { describe, test, beforeAll, afterAll };

/** Loads the acceptance series into a TSDB head, one commit per timestamp across all series (as a ruler appends). */
async function loadHead(series: readonly MemSeries[]): Promise<Head> {
  const head = new Head();
  const byT = new Map<number, { i: number; v: number }[]>();
  series.forEach((s, i) => {
    for (const [t, v] of s.samples) {
      let l = byT.get(t);
      if (l === undefined) byT.set(t, (l = []));
      l.push({ i, v });
    }
  });
  const refs = series.map(() => 0);
  for (const t of [...byT.keys()].sort((a, b) => a - b)) {
    const app = head.appender();
    for (const { i, v } of byT.get(t)!) refs[i] = app.append(refs[i]!, series[i]!.labels, t, v);
    await app.commit();
  }
  return head;
}

storeAPIAcceptanceSuite(api, 'LocalStore over a TSDB head, in process', async ({ series, externalLabels }) => {
  const head = await loadHead(series);
  const store = new LocalStore({ queryable: head, externalLabels, timeRange: () => ({ minTime: head.minTime(), maxTime: head.maxTime() }), componentType: 'rule' });
  return { client: inProcessClient(store, 'head'), close: () => Promise.resolve() };
});

storeAPIAcceptanceSuite(api, 'LocalStore over a TSDB head, over gRPC', async ({ series, externalLabels }) => {
  const head = await loadHead(series);
  const server = new StoreGrpcServer(new LocalStore({ queryable: head, externalLabels, timeRange: () => ({ minTime: head.minTime(), maxTime: head.maxTime() }), componentType: 'rule' }));
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

storeAPIAcceptanceSuite(api, 'LocalStore over a Tsdb cut into 30m blocks plus head (merged), in process', async ({ series, externalLabels }) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-tsdb-store-'));
  const db = await Tsdb.open(dir, { blockDuration: 1_800_000, thanos: { labels: externalLabels, source: 'ruler' } });
  const byT = new Map<number, { i: number; v: number }[]>();
  series.forEach((s, i) => {
    for (const [t, v] of s.samples) {
      let l = byT.get(t);
      if (l === undefined) byT.set(t, (l = []));
      l.push({ i, v });
    }
  });
  for (const t of [...byT.keys()].sort((a, b) => a - b)) {
    const app = db.appender();
    for (const { i, v } of byT.get(t)!) app.append(0, series[i]!.labels, t, v);
    await app.commit();
  }
  await db.compact();
  if (db.blocks().length < 2) throw new Error(`expected blocks to be cut, got ${db.blocks().length}`);
  const store = new LocalStore({ queryable: db, externalLabels, timeRange: () => db.timeRange(), componentType: 'rule' });
  return {
    client: inProcessClient(store, 'tsdb'),
    close: async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
