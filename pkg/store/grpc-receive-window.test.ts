import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import type { InfoResponse, LabelNamesResponse, LabelValuesResponse, SeriesRequest } from '../storepb/index.js';
import { waitFor } from '../testutil/index.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import type { SeriesSink, StoreServer } from './store-api.js';

/** NODE_DEFAULT_WINDOW is Node's (and HTTP/2's) default receive window, 64 KiB - 1. */
const NODE_DEFAULT_WINDOW = 65_535;

interface ChannelzRef {
  readonly channel_id?: string | number;
  readonly subchannel_id?: string | number;
  readonly socket_id?: string | number;
}

type Handler = (call: { request: Record<string, unknown> }, cb: (err: unknown, res: unknown) => void) => void;

/** channelz calls one of grpc-js's in-process channelz handlers (no channelz server needed). */
function channelz<T>(method: 'GetTopChannels' | 'GetSubchannel' | 'GetSocket', request: Record<string, unknown>): Promise<T> {
  const handler = (grpc.getChannelzHandlers() as unknown as Record<string, Handler>)[method];
  if (handler === undefined) throw new Error(`channelz handler ${method} missing in grpc-js`);
  return new Promise<T>((resolve, reject) => handler({ request }, (err, res) => (err !== null && err !== undefined ? reject(err as Error) : resolve(res as T))));
}

/** receiveWindows returns the local (receive) flow-control window of every socket of the channels targeting address. */
async function receiveWindows(address: string): Promise<number[]> {
  const top = await channelz<{ channel: { data: { target: string }; subchannel_ref: ChannelzRef[] }[] }>('GetTopChannels', { start_channel_id: 0, max_results: 1000 });
  const windows: number[] = [];
  for (const ch of top.channel.filter((c) => c.data.target.endsWith(address))) {
    for (const subRef of ch.subchannel_ref) {
      const sub = await channelz<{ subchannel: { socket_ref: ChannelzRef[] } }>('GetSubchannel', { subchannel_id: subRef.subchannel_id });
      for (const sockRef of sub.subchannel.socket_ref) {
        const sock = await channelz<{ socket: { data: { local_flow_control_window?: { value: number } | null } } }>('GetSocket', { socket_id: sockRef.socket_id });
        const w = sock.socket.data.local_flow_control_window?.value;
        if (w !== undefined) windows.push(w);
      }
    }
  }
  return windows;
}

const info: InfoResponse = { labelSets: [Labels.fromStrings('ext', '1')], componentType: 'sidecar', store: { minTime: 0, maxTime: 9223372036854775807 } };
/** FRAME is the chunk size of the Series responses the store streams (16 KiB each). */
const FRAME = 16 * 1024;
let sent = 0;

/** streamFrames sends up to 1,000 Series responses of FRAME bytes, waiting on back-pressure, counting them in sent. */
async function streamFrames(_req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
  for (let i = 0; i < 1000 && !signal.aborted; i++) {
    const p = sink.send({ kind: 'series', series: { labels: Labels.fromStrings('i', String(i)), chunks: [{ minTime: 0, maxTime: 1, raw: { type: 0, data: new Uint8Array(FRAME), hashHi: 0, hashLo: 0 } }] } });
    sent++;
    if (p !== undefined) await p;
  }
}

const store: StoreServer = {
  info: () => Promise.resolve(info),
  series: streamFrames,
  labelNames: (): Promise<LabelNamesResponse> => Promise.resolve({ names: [], warnings: [] }),
  labelValues: (): Promise<LabelValuesResponse> => Promise.resolve({ values: [], warnings: [] }),
};

describe('GrpcStoreClient HTTP/2 receive window', () => {
  let server: StoreGrpcServer;
  let address: string;
  beforeAll(async () => {
    server = new StoreGrpcServer(store);
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });
  afterAll(async () => {
    await server.stop(1000);
  });

  test('the connection to a store opens a 4 MiB receive window, not the 64 KiB default', async () => {
    const client = new GrpcStoreClient(address);
    try {
      await client.info();
      const windows = await receiveWindows(address);
      // One connection (the client's own subchannel pool); its window is what a store may send
      // before the querier reads: ~4 MiB (less what is in flight), never the 64 KiB default.
      expect(windows).toHaveLength(1);
      expect(windows[0]).toBeGreaterThan(4 * NODE_DEFAULT_WINDOW);
      expect(windows[0]).toBeLessThanOrEqual(4 << 20);
    } finally {
      client.close();
    }
  });

  test('a store streams 2 MiB of Series responses ahead while the querier has read only the first', { timeout: 30_000 }, async () => {
    // With Node's 64 KiB stream and connection windows the store stalls after ~32 frames of
    // 16 KiB (the client's buffers included); with 4 MiB windows it gets ~256 out.
    sent = 0;
    const client = new GrpcStoreClient(address, { maxBatchFrames: 1 });
    const it = client.series({ minTime: 0, maxTime: 1, matchers: [] })[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      expect(first.done).toBe(false);
      await waitFor('the store to send 2 MiB before the client reads on', () => Promise.resolve(sent >= (2 << 20) / FRAME), 10_000);
      expect(sent).toBeLessThan(1000); // still back-pressured: the window is bounded
    } finally {
      await it.return?.();
      client.close();
    }
  });
});
