import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { GrpcStoreClient, StoreGrpcServer, type StoreServer } from '../store/index.js';
import type { InfoResponse } from '../storepb/index.js';
import { freePort } from '../testutil/index.js';
import { EndpointSet, type EndpointClient } from './endpoint-set.js';

function fakeClient(name: string, state: { up: boolean; closed: string[] }): EndpointClient {
  const info: InfoResponse = {
    labelSets: [Labels.fromRecord({ replica: name })],
    componentType: 'store',
    store: { minTime: 10, maxTime: 20, supportsWithoutReplicaLabels: true },
  };
  return {
    name,
    async info() {
      if (!state.up) throw new Error(`connect ${name}: refused`);
      return info;
    },
    series: () => (async function* () {})(),
    labelNames: async () => ({ names: [], warnings: [] }),
    labelValues: async () => ({ values: [], warnings: [] }),
    close: () => state.closed.push(name),
  };
}

describe('EndpointSet', () => {
  test('tracks health, leaves failing endpoints out of queries at once, lists them until the unhealthy timeout, follows discovery', async () => {
    let now = 1_000;
    let addrs = ['a:1', 'b:1'];
    const state = { up: true, closed: [] as string[] };
    const changes: string[] = [];
    const set = new EndpointSet({
      addresses: () => addrs,
      newClient: (a) => fakeClient(a, state),
      unhealthyTimeoutMs: 60_000,
      now: () => now,
      onChange: (a, h) => changes.push(`${a}:${h}`),
    });
    await set.update();
    expect(set.ready()).toBe(true);
    expect(set.targets().map((t) => [t.client.name, t.minTime, t.maxTime])).toEqual([
      ['a:1', 10, 20],
      ['b:1', 10, 20],
    ]);

    state.up = false;
    await set.update();
    expect(set.ready()).toBe(false);
    expect(set.targets()).toHaveLength(0);
    expect(set.status()).toHaveLength(2);
    expect(set.status()[0]?.lastError).toMatch(/refused/);
    now += 61_000;
    await set.update();
    expect(set.targets()).toHaveLength(0);
    expect(set.status()).toHaveLength(0);

    state.up = true;
    addrs = ['b:1', 'c:1'];
    await set.update();
    expect(set.targets().map((t) => t.client.name)).toEqual(['b:1', 'c:1']);
    expect(state.closed).toEqual(['a:1']);
    expect(changes).toContain('a:1:false');
    expect(changes).toContain('b:1:true');
    set.stop();
  });

  test('an endpoint that never answered is not a target; one that goes down is dropped at its next failed check and back after a good one', async () => {
    const down = { up: false, closed: [] as string[] };
    const good = { up: true, closed: [] as string[] };
    const set = new EndpointSet({ addresses: () => ['x:1', 'y:1'], newClient: (a) => fakeClient(a, a === 'x:1' ? down : good) });
    await set.update();
    expect(set.targets().map((t) => t.client.name)).toEqual(['y:1']);
    expect(set.status().map((s) => [s.address, s.healthy])).toEqual([
      ['x:1', false],
      ['y:1', true],
    ]);
    good.up = false;
    expect(set.targets().map((t) => t.client.name)).toEqual(['y:1']); // until its next check
    await set.update();
    expect(set.targets()).toEqual([]);
    good.up = true;
    await set.update();
    expect(set.targets().map((t) => t.client.name)).toEqual(['y:1']);
    set.stop();
  });

  test('a restarted store is healthy at the first check after it is back, however long gRPC\'s reconnect backoff has grown (issue 13 item 7)', async () => {
    // grpc-js waits 1 s × 1.6ⁿ (up to 2 min) between connection attempts and fails calls
    // meanwhile; a long outage grows that far past the health-check interval. Here the backoff is a
    // minute from the first failure, so only a reset lets the next check through.
    const store: StoreServer = {
      info: async () => ({ labelSets: [Labels.fromRecord({ replica: 'a' })], componentType: 'store', store: { minTime: 10, maxTime: 20 } }),
      series: async () => undefined,
      labelNames: async () => ({ names: [], warnings: [] }),
      labelValues: async () => ({ values: [], warnings: [] }),
    };
    const address = `127.0.0.1:${await freePort()}`;
    const backoff = { 'grpc.initial_reconnect_backoff_ms': 60_000, 'grpc.max_reconnect_backoff_ms': 60_000 };
    let server = new StoreGrpcServer(store);
    await server.listen(address);
    const set = new EndpointSet({ addresses: () => [address], newClient: (a) => new GrpcStoreClient(a, { channelOptions: backoff }), infoTimeoutMs: 2000 });
    const probe = new GrpcStoreClient(address, { channelOptions: backoff });
    try {
      await set.update();
      expect(set.targets()).toHaveLength(1);
      await server.stop(100);
      await set.update();
      expect(set.targets()).toHaveLength(0);
      // A client without the reset stays in backoff after the store is back: the precondition.
      await expect(probe.info({ timeoutMs: 2000 })).rejects.toThrow();
      server = new StoreGrpcServer(store);
      await server.listen(address);
      await expect(probe.info({ timeoutMs: 1000 })).rejects.toThrow();
      // The endpoint set resets its client's backoff: the next check finds the store.
      await set.update();
      expect(set.status()[0]?.lastError).toBeUndefined();
      expect(set.targets()).toHaveLength(1);
    } finally {
      probe.close();
      set.stop();
      await server.stop(100);
    }
  });
});
