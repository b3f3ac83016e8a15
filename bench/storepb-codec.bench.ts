import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { Labels } from '../pkg/labels/index.js';
import { GrpcStoreClient, StoreGrpcServer, type StoreServer } from '../pkg/store/index.js';
import { decodeSeriesResponse, encodeSeriesResponse, type SeriesResponse } from '../pkg/storepb/index.js';
import { timeIt, type BenchResult } from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** 1,000 SeriesResponse frames (6 labels, 4 chunks of 160 bytes): hand-written codec vs protobufjs. */
async function codec(): Promise<BenchResult[]> {
  const frames: SeriesResponse[] = [];
  for (let s = 0; s < 1000; s++) {
    const chunks = Array.from({ length: 4 }, (_, c) => ({
      minTime: 1_767_225_600_000 + c * 7_200_000,
      maxTime: 1_767_225_600_000 + (c + 1) * 7_200_000 - 1,
      raw: { type: 0 as const, data: new Uint8Array(160).fill(s & 0xff), hashHi: 0, hashLo: 0 },
    }));
    frames.push({ kind: 'series', series: { labels: Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', `host-${s}:9100`, 'job', 'node', 'mode', 'idle', 'cpu', String(s % 64), 'region', 'eu-west'), chunks } });
  }
  const root = new protobuf.Root();
  root.resolvePath = (_o, t) => (t.startsWith('google/') ? t : join(here, '../proto', t));
  root.loadSync('store/storepb/rpc.proto');
  const T = root.lookupType('thanos.SeriesResponse');
  const pbObjs = frames.map((f) => {
    if (f.kind !== 'series') throw new Error('series frames only');
    return T.fromObject({ series: { labels: f.series.labels.toArray(), chunks: f.series.chunks.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, raw: { type: 0, data: c.raw!.data } })) } });
  });
  const encoded = frames.map((f) => encodeSeriesResponse(f));
  const bytes = encoded.reduce((n, b) => n + b.length, 0);
  const encOurs = await timeIt(() => frames.map((f) => encodeSeriesResponse(f)));
  const encPb = await timeIt(() => pbObjs.map((o) => T.encode(o).finish()));
  const decOurs = await timeIt(() => encoded.map((b) => decodeSeriesResponse(b)));
  const decPb = await timeIt(() => encoded.map((b) => T.decode(b)));
  const mbps = (us: number) => bytes / us; // bytes per µs = MB/s
  return [
    { name: 'encode 1000 series frames, hand-written', value: encOurs, unit: `µs (${mbps(encOurs).toFixed(0)} MB/s)` },
    { name: 'encode 1000 series frames, protobufjs', value: encPb, unit: `µs (${mbps(encPb).toFixed(0)} MB/s)` },
    { name: 'decode 1000 series frames, hand-written (zero-copy chunks)', value: decOurs, unit: `µs (${mbps(decOurs).toFixed(0)} MB/s)` },
    { name: 'decode 1000 series frames, protobufjs', value: decPb, unit: `µs (${mbps(decPb).toFixed(0)} MB/s)` },
  ];
}

/** 20,000 series (1 chunk of 160 bytes) streamed over loopback gRPC, batch size 64. */
async function grpcStream(): Promise<BenchResult[]> {
  const n = 20_000;
  const series = Array.from({ length: n }, (_, i) => ({
    labels: Labels.fromStrings('__name__', 'm', 'i', String(i).padStart(6, '0'), 'job', 'bench'),
    chunks: [{ minTime: 0, maxTime: 1, raw: { type: 0 as const, data: new Uint8Array(160), hashHi: 0, hashLo: 0 } }],
  }));
  const store: StoreServer = {
    info: () => Promise.resolve({ labelSets: [], componentType: 'debug' }),
    labelNames: () => Promise.resolve({ names: [], warnings: [] }),
    labelValues: () => Promise.resolve({ values: [], warnings: [] }),
    async series(req, sink) {
      const batch = req.responseBatchSize ?? 0;
      for (let i = 0; i < n; i += Math.max(1, batch)) {
        const p = batch > 1 ? sink.send({ kind: 'batch', batch: series.slice(i, i + batch) }) : sink.send({ kind: 'series', series: series[i]! });
        if (p !== undefined) await p;
      }
    },
  };
  const server = new StoreGrpcServer(store);
  const port = await server.listen('127.0.0.1:0');
  const client = new GrpcStoreClient(`127.0.0.1:${port}`);
  const results: BenchResult[] = [];
  try {
    for (const bs of [1, 64]) {
      const us = await timeIt(async () => {
        let got = 0;
        for await (const b of client.series({ minTime: 0, maxTime: 1, matchers: [], responseBatchSize: bs })) {
          for (const f of b) got += f.kind === 'batch' ? f.batch.length : 1;
        }
        if (got !== n) throw new Error(`got ${got} series`);
      }, 1000);
      results.push({ name: `gRPC Series, 20k series, response_batch_size ${bs}`, value: n / (us / 1e6), unit: 'series/s' });
    }
  } finally {
    client.close();
    await server.stop(1000);
  }
  return results;
}

export async function run(): Promise<BenchResult[]> {
  return [...(await codec()), ...(await grpcStream())];
}
