import * as grpc from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { waitFor } from '../testutil/index.js';
import { GrpcStoreClient, StoreGrpcServer, type StoreServer } from './index.js';

const store: StoreServer = {
  info: async () => ({ labelSets: [Labels.fromRecord({ replica: 'a' })], componentType: 'store', store: { minTime: 10, maxTime: 20 } }),
  series: async () => undefined,
  labelNames: async () => ({ names: [], warnings: [] }),
  labelValues: async () => ({ values: [], warnings: [] }),
};

describe('StoreGrpcServer maxConnectionAgeMs (--grpc-server-max-connection-age)', () => {
  test('a client connection is closed gracefully after the age and the client reconnects', async () => {
    const server = new StoreGrpcServer(store, { maxConnectionAgeMs: 300 });
    const port = await server.listen('127.0.0.1:0');
    const client = new GrpcStoreClient(`127.0.0.1:${port}`);
    try {
      expect((await client.info()).componentType).toBe('store');
      expect(client.connectivityState()).toBe(grpc.connectivityState.READY);
      // GOAWAY after the age: the channel leaves READY without the client doing anything.
      await waitFor('the connection closed by the server', async () => client.connectivityState() !== grpc.connectivityState.READY, 10_000, 20);
      expect((await client.info()).componentType).toBe('store');
    } finally {
      client.close();
      await server.stop(100);
    }
  });
});
