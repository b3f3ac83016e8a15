import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ValueType, XorChunk } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import {
  decodeReadRequest,
  encodeChunkedFrame,
  encodeChunkedReadResponse,
  encodeReadResponse,
  snappyBlockDecode,
  snappyBlockEncode,
  type ChunkedReadResponse,
  type ReadRequest,
  type ReadResponse,
} from '../prompb/index.js';
import { StoreError } from '../store/index.js';
import { freePort } from '../testutil/index.js';
import type { SeriesRequest, SeriesResponse, StoreSeries } from '../storepb/index.js';
import { PrometheusClient, PrometheusStore } from './index.js';

type Mode =
  | { kind: 'streamed'; frames: ChunkedReadResponse[]; corruptFrame?: number }
  | { kind: 'samples'; res: ReadResponse }
  | { kind: 'status'; status: number; body: string }
  | { kind: 'contentType'; type: string };

let mode: Mode;
let requests: ReadRequest[] = [];
let labelCalls: string[] = [];
let server: Server;
let url: string;

function xor(samples: [number, number][]): Uint8Array {
  const c = new XorChunk();
  const a = c.appender();
  for (const [t, v] of samples) a.append(t, v);
  return c.bytes().slice();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/api/v1/read') {
    labelCalls.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: path === '/api/v1/labels' ? ['__name__', 'job'] : ['x', 'a'] }));
    return;
  }
  requests.push(decodeReadRequest(snappyBlockDecode(new Uint8Array(Buffer.concat(chunks)))));
  switch (mode.kind) {
    case 'status':
      res.writeHead(mode.status);
      res.end(mode.body);
      return;
    case 'contentType':
      res.writeHead(200, { 'Content-Type': mode.type });
      res.end('<html></html>');
      return;
    case 'samples':
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' });
      res.end(snappyBlockEncode(encodeReadResponse(mode.res).slice()));
      return;
    case 'streamed': {
      res.writeHead(200, { 'Content-Type': 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse' });
      for (let i = 0; i < mode.frames.length; i++) {
        const f = encodeChunkedFrame(encodeChunkedReadResponse(mode.frames[i]!).slice());
        if (i === mode.corruptFrame) f[f.length - 1] = f[f.length - 1]! ^ 0xff;
        // Write in small pieces so frames straddle reads.
        for (let o = 0; o < f.length; o += 7) res.write(f.subarray(o, o + 7));
      }
      res.end();
    }
  }
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  requests = [];
  labelCalls = [];
});

const ext = Labels.fromStrings('region', 'eu', 'replica', 'r1');
function newStore(u = url, minTime = 1000): PrometheusStore {
  return new PrometheusStore({ client: new PrometheusClient({ url: u, timeoutMs: 2000 }), externalLabels: () => ext, minTime: () => minTime, registry: new Registry() });
}

async function run(store: PrometheusStore, req: Partial<SeriesRequest>): Promise<StoreSeries[]> {
  const frames: SeriesResponse[] = [];
  await store.series({ minTime: 0, maxTime: 100_000, matchers: [{ type: 0, name: '__name__', value: 'm' }], ...req }, { send: (r) => void frames.push(r) }, AbortSignal.timeout(5000));
  return frames.flatMap((f) => (f.kind === 'series' ? [f.series] : f.kind === 'batch' ? [...f.batch] : []));
}

const lbl = (...nv: string[]) => {
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < nv.length; i += 2) out.push({ name: nv[i]!, value: nv[i + 1]! });
  return out;
};

describe('PrometheusStore', () => {
  test('sends one query without external-label matchers, clamped to min time, asking for streamed chunks first', async () => {
    mode = { kind: 'streamed', frames: [] };
    await run(newStore(), {
      matchers: [{ type: 0, name: '__name__', value: 'm' }, { type: 2, name: 'region', value: 'e.*' }, { type: 1, name: 'job', value: 'x' }],
      queryHints: { stepMillis: 30_000, func: { name: 'rate' }, range: { millis: 300_000 } },
    });
    expect(requests).toHaveLength(1);
    const q = requests[0]!;
    expect(q.acceptedResponseTypes).toEqual([1, 0]);
    expect(q.queries).toHaveLength(1);
    expect(q.queries[0]!.startTimestampMs).toBe(1000);
    expect(q.queries[0]!.endTimestampMs).toBe(100_000);
    expect(q.queries[0]!.matchers).toEqual([{ type: 0, name: '__name__', value: 'm' }, { type: 1, name: 'job', value: 'x' }]);
    expect(q.queries[0]!.hints).toMatchObject({ stepMs: 30_000, func: 'rate', rangeMs: 300_000, startMs: 1000, endMs: 100_000 });
  });

  test('an external-label matcher that does not match answers empty without asking Prometheus', async () => {
    mode = { kind: 'streamed', frames: [] };
    expect(await run(newStore(), { matchers: [{ type: 0, name: '__name__', value: 'm' }, { type: 0, name: 'region', value: 'us' }] })).toEqual([]);
    expect(requests).toEqual([]);
    await expect(run(newStore(), { matchers: [{ type: 0, name: 'region', value: 'eu' }] })).rejects.toMatchObject({ grpcCode: 3 });
  });

  test('passes chunks through, joins series continued over frames, adds external labels and re-sorts', async () => {
    const c1 = xor([[1000, 1], [2000, 2]]);
    const c2 = xor([[3000, 3]]);
    const h = new Uint8Array([0, 1, 2, 3, 4]); // opaque histogram chunk bytes
    mode = {
      kind: 'streamed',
      frames: [
        // Prometheus sorts by its own labels: {a=1} before {a=1,b=2}. With region appended the order flips.
        { queryIndex: 0, chunkedSeries: [{ labels: lbl('__name__', 'm', 'a', '1'), chunks: [{ minTimeMs: 1000, maxTimeMs: 2000, type: 1, data: c1 }] }] },
        { queryIndex: 0, chunkedSeries: [{ labels: lbl('__name__', 'm', 'a', '1'), chunks: [{ minTimeMs: 3000, maxTimeMs: 3000, type: 1, data: c2 }] }] },
        { queryIndex: 0, chunkedSeries: [{ labels: lbl('__name__', 'm', 'a', '1', 'b', '2', 'region', 'stored'), chunks: [{ minTimeMs: 1000, maxTimeMs: 1000, type: 2, data: h }] }] },
      ],
    };
    const got = await run(newStore(), {});
    expect(got.map((s) => s.labels.toString())).toEqual([
      '{__name__="m", a="1", b="2", region="eu", replica="r1"}',
      '{__name__="m", a="1", region="eu", replica="r1"}',
    ]);
    expect(got[1]!.chunks).toEqual([
      { minTime: 1000, maxTime: 2000, raw: { type: 0, data: c1, hashHi: 0, hashLo: 0 } },
      { minTime: 3000, maxTime: 3000, raw: { type: 0, data: c2, hashHi: 0, hashLo: 0 } },
    ]);
    expect(got[0]!.chunks[0]!.raw).toEqual({ type: 1, data: h, hashHi: 0, hashLo: 0 });
    // without_replica_labels removes the external label (also when Prometheus merged it in) and re-sorts.
    mode.frames[2]!.chunkedSeries[0]!.labels.push({ name: 'replica', value: 'r1' });
    const noRep = await run(newStore(), { withoutReplicaLabels: ['replica', 'not-external'] });
    expect(noRep.map((s) => s.labels.toString())).toEqual(['{__name__="m", a="1", b="2", region="eu"}', '{__name__="m", a="1", region="eu"}']);
  });

  test('SAMPLES answers are re-encoded into XOR chunks of 120 samples', async () => {
    const samples = Array.from({ length: 250 }, (_, i) => ({ timestamp: 1000 + i * 15, value: i * 0.5 }));
    mode = { kind: 'samples', res: { results: [{ timeseries: [{ labels: lbl('__name__', 'm'), samples, histogramCount: 0 }, { labels: lbl('__name__', 'empty'), samples: [], histogramCount: 0 }] }] } };
    const got = await run(newStore(), {});
    expect(got).toHaveLength(1);
    expect(got[0]!.labels.toString()).toBe('{__name__="m", region="eu", replica="r1"}');
    expect(got[0]!.chunks.map((c) => [c.minTime, c.maxTime])).toEqual([[1000, 1000 + 119 * 15], [1000 + 120 * 15, 1000 + 239 * 15], [1000 + 240 * 15, 1000 + 249 * 15]]);
    const decoded: { timestamp: number; value: number }[] = [];
    for (const c of got[0]!.chunks) {
      const it = XorChunk.fromBytes(c.raw!.data).iterator();
      while (it.next() === ValueType.Float) decoded.push({ timestamp: it.atT(), value: it.atF() });
    }
    expect(decoded).toEqual(samples);
  });

  test.each([
    ['a corrupted frame', { kind: 'streamed', frames: [{ queryIndex: 0, chunkedSeries: [{ labels: lbl('__name__', 'm'), chunks: [] }] }], corruptFrame: 0 } as Mode, 13, /frame 0 at offset 0: CRC-32C mismatch/],
    ['Prometheus not ready (503)', { kind: 'status', status: 503, body: 'Service Unavailable' } as Mode, 14, /Prometheus is unavailable.*HTTP 503/],
    ['a remote-read error (400)', { kind: 'status', status: 400, body: 'bad request' } as Mode, 13, /HTTP 400: bad request/],
    ['an unknown content type', { kind: 'contentType', type: 'text/html' } as Mode, 13, /unsupported content type "text\/html"/],
    ['a chunk encoding without StoreAPI equivalent', { kind: 'streamed', frames: [{ queryIndex: 0, chunkedSeries: [{ labels: lbl('__name__', 'm'), chunks: [{ minTimeMs: 1, maxTimeMs: 2, type: 4, data: new Uint8Array(3) }] }] }] } as Mode, 13, /chunk encoding 4/],
  ])('%s is a StoreError', async (_name, m, code, msg) => {
    mode = m;
    const err = await run(newStore(), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).grpcCode).toBe(code);
    expect((err as Error).message).toMatch(msg);
  });

  test('an unreachable Prometheus is UNAVAILABLE', async () => {
    const err = await run(newStore(`http://127.0.0.1:${await freePort()}`), {}).catch((e: unknown) => e);
    expect((err as StoreError).grpcCode).toBe(14);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  test('label calls go through the HTTP API with one match[] selector and clamped start', async () => {
    const sig = AbortSignal.timeout(5000);
    const names = await newStore().labelNames({ start: 0, end: 1_700_000_000_123, matchers: [{ type: 0, name: 'region', value: 'eu' }, { type: 2, name: 'job', value: 'a"b' }] }, sig);
    expect(names.names).toEqual(['__name__', 'job', 'region', 'replica']);
    expect(decodeURIComponent(labelCalls[0]!)).toBe('/api/v1/labels?match[]={job=~"a\\"b"}&start=1&end=1700000000.123');
    const vals = await newStore().labelValues({ label: 'job', start: 5000, end: 6000, limit: 1 }, sig);
    expect(vals.values).toEqual(['a']);
    expect(labelCalls[1]).toBe('/api/v1/label/job/values?start=5&end=6');
    expect((await newStore().labelValues({ label: 'region', start: 0, end: 1 }, sig)).values).toEqual(['eu']);
    expect((await newStore().info()).labelSets.map(String)).toEqual([ext.toString()]);
  });
});
