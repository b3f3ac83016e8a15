import { connect as h2connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { InMemoryBucket } from '../objstore/index.js';
import type { Aggr, PartialResponseStrategy, SeriesRequest, SeriesResponse } from '../storepb/index.js';
import { writeTestBlock } from '../testutil/index.js';
import { BucketStore } from './bucket/bucket-store.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import { infoService, storeService } from './grpc-services.js';
import { rng } from '../datagen/index.js';

/**
 * Fuzz of the StoreAPI gRPC port (issue 13 acceptance): random bytes, HTTP/2 garbage, truncated and
 * malformed gRPC frames and protobuf messages, sent to a StoreGrpcServer over a BucketStore, with a
 * fixed seed and a fixed number of inputs. The server must stay up and answer valid Info and Series
 * calls after every round; an unhandled rejection or exception fails the run (vitest reports it).
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 1_313_131);

const rnd = rng(SEED);
const int = (n: number): number => Math.floor(rnd() * n);
const bytes = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const PATHS = [storeService.Series.path, storeService.LabelNames.path, storeService.LabelValues.path, storeService.Info.path, infoService.Info.path, '/thanos.Store/Nope', '/grpc.health.v1.Health/Check', '/'];
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

const validReq: SeriesRequest = { minTime: 0, maxTime: 1e6, matchers: [{ type: 0, name: '__name__', value: 'up' }, { type: 2, name: 'instance', value: 'h.*' }], aggregates: [0, 1], maxResolutionWindow: 0 };
const validBytes = storeService.Series.requestSerialize(validReq);

/** A gRPC length-prefixed frame; declared overrides the length field. */
function frame(payload: Buffer, opts: { compressed?: boolean; declared?: number } = {}): Buffer {
  const h = Buffer.alloc(5);
  h[0] = opts.compressed === true ? 1 : 0;
  h.writeUInt32BE(opts.declared ?? payload.length, 1);
  return Buffer.concat([h, payload]);
}

/** Bit flips, truncation, insertion and duplication of a valid message. */
function mutate(b: Buffer): Buffer {
  let out = Buffer.from(b);
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) {
    switch (int(5)) {
      case 0:
        if (out.length > 0) out[int(out.length)]! ^= 1 << int(8);
        break;
      case 1:
        out = out.subarray(0, int(out.length + 1));
        break;
      case 2: {
        const at = int(out.length + 1);
        out = Buffer.concat([out.subarray(0, at), bytes(1 + int(8)), out.subarray(at)]);
        break;
      }
      case 3:
        out = Buffer.concat([out, out.subarray(int(out.length + 1))]);
        break;
      default:
        if (out.length > 0) out[int(out.length)] = pick([0x00, 0x7f, 0x80, 0xff]);
    }
  }
  return out;
}

const STRINGS = ['', 'up', '__name__', 'instance', 'replica', '.*', '.+', 'h.*', '(a|', '\\', '\u00ff\ud800', 'x'.repeat(5000), '(((a*)*)*)*b', '[^\\x00-\\x{10FFFF}]'];
const TIMES = [0, -1, 1e6, -9223372036854775808, 9223372036854775807, 8.64e15, Number.MAX_SAFE_INTEGER];

/** A well-formed SeriesRequest (or LabelValues/LabelNames request) with random, often absurd, values. */
function oddRequest(path: string): Buffer {
  const matchers = Array.from({ length: int(4) }, () => ({ type: int(4) as 0 | 1 | 2 | 3, name: pick(STRINGS), value: pick(STRINGS) }));
  const [a, b] = [pick(TIMES), pick(TIMES)];
  try {
    if (path === storeService.LabelValues.path) return storeService.LabelValues.requestSerialize({ label: pick(STRINGS), start: a, end: b, matchers, limit: int(3) });
    if (path === storeService.LabelNames.path) return storeService.LabelNames.requestSerialize({ start: a, end: b, matchers, limit: int(3) });
    return storeService.Series.requestSerialize({
      minTime: a,
      maxTime: b,
      matchers,
      maxResolutionWindow: pick([0, -1, 300_000, 9223372036854775807]),
      aggregates: Array.from({ length: int(4) }, () => int(8) as Aggr),
      partialResponseStrategy: int(3) as PartialResponseStrategy,
      skipChunks: rnd() < 0.3,
      withoutReplicaLabels: rnd() < 0.5 ? ['replica'] : [pick(STRINGS)],
      limit: pick([0, 1, -1, 1e9]),
      responseBatchSize: pick([0, 1, 2, 1e9]),
    });
  } catch {
    return mutate(validBytes);
  }
}

function body(path: string): { body: Buffer; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': rnd() < 0.9 ? 'application/grpc' : pick(['text/plain', 'application/grpc+json', '']), te: 'trailers' };
  if (rnd() < 0.1) headers['grpc-encoding'] = pick(['gzip', 'deflate', 'snappy', 'zstd', '\u00ff']);
  if (rnd() < 0.1) headers['grpc-timeout'] = pick(['1m', '0n', '99999999H', 'x', '-1S']);
  switch (int(10)) {
    case 0:
      return { body: bytes(int(2048)), headers };
    case 1:
      return { body: frame(bytes(int(512))), headers };
    case 2:
      return { body: frame(mutate(validBytes)), headers };
    case 3:
      return { body: frame(validBytes, { declared: validBytes.length + 1 + int(1 << 20) }), headers };
    case 4:
      return { body: frame(bytes(16), { declared: 0x7fffffff - int(100) }), headers };
    case 5:
      return { body: frame(bytes(int(256)), { compressed: true }), headers };
    case 6:
      return { body: Buffer.concat([frame(validBytes), frame(mutate(validBytes)), bytes(int(8))]), headers };
    case 7:
    case 8:
      return { body: frame(oddRequest(path)), headers };
    default:
      return { body: Buffer.alloc(0), headers };
  }
}

/** Sends one request and waits until the stream is closed (answered, reset or timed out). */
function h2request(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    const path = pick(PATHS);
    const { body: b, headers } = body(path);
    let s;
    try {
      s = session.request({ [h2.HTTP2_HEADER_METHOD]: 'POST', [h2.HTTP2_HEADER_PATH]: path, ...headers });
    } catch {
      resolve();
      return;
    }
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    const tally = (h: Record<string, unknown>) => {
      const st = h['grpc-status'];
      if (typeof st === 'string') statuses.set(`${path} ${st}`, (statuses.get(`${path} ${st}`) ?? 0) + 1);
    };
    s.on('response', tally);
    s.on('trailers', tally);
    s.on('close', () => resolve());
    s.setTimeout(3000, () => s.close(h2.NGHTTP2_CANCEL));
    if (rnd() < 0.2) {
      // Half a request, then a reset.
      s.write(b.subarray(0, int(b.length + 1)));
      s.close(h2.NGHTTP2_CANCEL);
    } else s.end(b);
  });
}

/** Writes bytes on a raw TCP connection (maybe after the HTTP/2 preface and random frames) and closes it. */
function tcpGarbage(port: number): Promise<void> {
  return new Promise((resolve) => {
    const sock = tcpConnect(port, '127.0.0.1');
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.on('data', () => undefined);
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('connect', () => {
      const parts: Buffer[] = [];
      if (rnd() < 0.6) parts.push(PREFACE);
      const frames = int(6);
      for (let i = 0; i < frames; i++) {
        // Frame header: 24-bit length, type, flags, stream id; payload of random length.
        const len = int(64);
        const h = Buffer.alloc(9);
        h.writeUIntBE(rnd() < 0.8 ? len : int(1 << 24), 0, 3);
        h[3] = int(12);
        h[4] = int(256);
        h.writeUInt32BE(int(16), 5);
        parts.push(h, bytes(len));
      }
      if (parts.length === 0 || rnd() < 0.3) parts.push(bytes(int(4096)));
      sock.end(Buffer.concat(parts));
    });
  });
}

const mk = (inst: string) => ({ labels: Labels.fromStrings('__name__', 'up', 'instance', inst), samples: Array.from({ length: 300 }, (_, i) => [i * 1000, i] as const) });

let server: StoreGrpcServer;
let port: number;
let client: GrpcStoreClient;
const internalErrors: string[] = [];
/** grpc-status values seen on the fuzzed streams. */
const statuses = new Map<string, number>();

beforeAll(async () => {
  const bucket = new InMemoryBucket();
  const meta = await writeTestBlock(bucket, [mk('h1'), mk('h2'), mk('x')], Labels.fromStrings('replica', 'a'));
  const store = new BucketStore({ bucket });
  await store.sync(new Map([[meta.ulid, meta]]));
  server = new StoreGrpcServer(store, { onError: (err, action) => internalErrors.push(`${action}: ${String(err)}`) });
  port = await server.listen('127.0.0.1:0');
  client = new GrpcStoreClient(`127.0.0.1:${port}`);
});

afterAll(async () => {
  client?.close();
  await server?.stop(1000);
});

async function stillServes(): Promise<void> {
  const info = await client.info({ timeoutMs: 5000 });
  expect(info.labelSets.map((l) => l.toString())).toEqual(['{replica="a"}']);
  const frames: SeriesResponse[] = [];
  for await (const b of client.series(validReq, { timeoutMs: 5000 })) frames.push(...b);
  const names = frames.flatMap((f) => (f.kind === 'series' ? [f.series.labels.get('instance')] : []));
  expect(names).toEqual(['h1', 'h2']);
}

describe(`StoreAPI gRPC port under garbage (seed ${SEED})`, () => {
  test('raw TCP bytes and HTTP/2 frame garbage', async () => {
    await stillServes();
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 15 }, () => tcpGarbage(port)));
      await stillServes();
    }
  });

  test('malformed, truncated and oversized gRPC requests on HTTP/2 streams', async () => {
    for (let round = 0; round < 10; round++) {
      const session = h2connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      try {
        for (let i = 0; i < 8; i++) await Promise.all(Array.from({ length: 8 }, () => h2request(session)));
      } finally {
        session.destroy();
      }
      await stillServes();
    }
    expect(internalErrors).toEqual([]);
    // The inputs reached the handlers: some were decoded and answered, some refused.
    const seen = (path: string, ok: boolean) => [...statuses.keys()].some((k) => k.startsWith(`${path} `) && (k.endsWith(' 0') === ok));
    for (const p of [storeService.Series.path, storeService.LabelValues.path, storeService.LabelNames.path]) {
      expect(seen(p, true), `${p} answered`).toBe(true);
      expect(seen(p, false), `${p} refused`).toBe(true);
    }
  });
});
