import { afterAll, beforeAll, describe, test } from 'vitest';
import { LocalStore, MemChunkQueryable, StoreGrpcServer, GrpcStoreClient, storeAPIAcceptanceSuite } from '../store/index.js';
import { Querier } from './querier-service.js';
import { testQuerierOptions } from '../testutil/index.js';

const api = { describe, test, beforeAll, afterAll };

// The querier is itself a StoreAPI (so queriers stack into a tree): a querier in front of a
// gRPC store must answer the acceptance suite exactly like the store does.
storeAPIAcceptanceSuite(api, 'Querier StoreAPI over a gRPC LocalStore', async ({ series, externalLabels }) => {
  const q = new MemChunkQueryable(series, { samplesPerChunk: 40 });
  const backend = new StoreGrpcServer(new LocalStore({ queryable: q, externalLabels, timeRange: () => q.timeRange(), componentType: 'sidecar' }));
  const backendPort = await backend.listen('127.0.0.1:0');
  const querier = new Querier(testQuerierOptions([`127.0.0.1:${backendPort}`], { replicaLabels: [] }));
  await querier.start();
  const client = new GrpcStoreClient(`127.0.0.1:${querier.grpcPort}`);
  return {
    client,
    close: async () => {
      client.close();
      await querier.stop();
      await backend.stop(100);
    },
  };
});
