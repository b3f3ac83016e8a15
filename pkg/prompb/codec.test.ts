import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  decodeChunkedReadResponse,
  decodeReadRequest,
  decodeReadResponse,
  encodeChunkedReadResponse,
  encodeReadRequest,
  encodeReadResponse,
  PrompbError,
  snappyBlockDecode,
  snappyBlockEncode,
  type ChunkedReadResponse,
  type ReadRequest,
} from './index.js';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(protoDir, target));
root.loadSync('prompb/remote.proto', { keepCase: false });
const PReadRequest = root.lookupType('prometheus.ReadRequest');
const PReadResponse = root.lookupType('prometheus.ReadResponse');
const PChunked = root.lookupType('prometheus.ChunkedReadResponse');

const toObj = (t: protobuf.Type, b: Uint8Array) =>
  t.toObject(t.decode(b), { longs: String, enums: Number, bytes: Array, defaults: true, arrays: true });

// Reference int64 values: exact numbers, plus the clamped extremes.
const i64 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53) + 1));
const str = fc.string({ unit: 'grapheme', maxLength: 12 });

const readRequestArb: fc.Arbitrary<ReadRequest> = fc.record({
  queries: fc.array(
    fc.record({
      startTimestampMs: i64,
      endTimestampMs: i64,
      matchers: fc.array(fc.record({ type: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>, name: str, value: str }), { maxLength: 4 }),
      hints: fc.record({ stepMs: i64, func: str, startMs: i64, endMs: i64, grouping: fc.array(str, { maxLength: 3 }), by: fc.boolean(), rangeMs: i64 }),
    }),
    { maxLength: 3 },
  ),
  acceptedResponseTypes: fc.array(fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>, { maxLength: 3 }),
});

describe('remote read SAMPLES response', () => {
  test('a stale marker sample survives encode and decode bit for bit', () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, 0x7ff00000);
    dv.setUint32(4, 2);
    const stale = dv.getFloat64(0);
    const enc = encodeReadResponse({ results: [{ timeseries: [{ labels: [{ name: '__name__', value: 'x' }], samples: [{ timestamp: 1000, value: 1 }, { timestamp: 2000, value: stale }], histogramCount: 0 }] }] });
    const got = decodeReadResponse(enc).results[0]!.timeseries[0]!.samples.map((s) => {
      dv.setFloat64(0, s.value);
      return [s.timestamp, dv.getUint32(0).toString(16), dv.getUint32(4)];
    });
    expect(got).toEqual([
      [1000, '3ff00000', 0],
      [2000, '7ff00000', 2],
    ]);
  });
});

describe('ReadRequest', () => {
  test('our encoding decodes identically with protobufjs, and round-trips', () => {
    fc.assert(
      fc.property(readRequestArb, (req) => {
        const b = encodeReadRequest(req);
        const ref = toObj(PReadRequest, b) as { queries: { startTimestampMs: string; endTimestampMs: string; matchers: unknown[]; hints: Record<string, unknown> }[]; acceptedResponseTypes: number[] };
        expect(ref.acceptedResponseTypes).toEqual(req.acceptedResponseTypes);
        expect(ref.queries.length).toBe(req.queries.length);
        req.queries.forEach((q, i) => {
          const rq = ref.queries[i]!;
          expect(rq.startTimestampMs).toBe(String(q.startTimestampMs));
          expect(rq.endTimestampMs).toBe(String(q.endTimestampMs));
          expect(rq.matchers).toEqual(q.matchers);
          expect(rq.hints).toEqual({ ...q.hints, stepMs: String(q.hints!.stepMs), startMs: String(q.hints!.startMs), endMs: String(q.hints!.endMs), rangeMs: String(q.hints!.rangeMs) });
        });
        expect(decodeReadRequest(b)).toEqual(req);
      }),
      { numRuns: 200 },
    );
  });

  test('decodes protobufjs encoding (including unpacked enums)', () => {
    fc.assert(
      fc.property(readRequestArb, (req) => {
        const msg = PReadRequest.fromObject({
          queries: req.queries.map((q) => ({ ...q, startTimestampMs: String(q.startTimestampMs), endTimestampMs: String(q.endTimestampMs), hints: { ...q.hints, stepMs: String(q.hints!.stepMs), startMs: String(q.hints!.startMs), endMs: String(q.hints!.endMs), rangeMs: String(q.hints!.rangeMs) } })),
          acceptedResponseTypes: req.acceptedResponseTypes,
        });
        expect(decodeReadRequest(PReadRequest.encode(msg).finish())).toEqual(req);
      }),
      { numRuns: 100 },
    );
    // unpacked form: field 2 as two separate varints
    expect(decodeReadRequest(new Uint8Array([0x10, 0x01, 0x10, 0x00])).acceptedResponseTypes).toEqual([1, 0]);
  });

  test('MinInt64 / MaxInt64 timestamps survive (clamped at ±2^63)', () => {
    const req: ReadRequest = { queries: [{ startTimestampMs: -(2 ** 63), endTimestampMs: 2 ** 63, matchers: [] }], acceptedResponseTypes: [1] };
    const b = encodeReadRequest(req);
    const ref = toObj(PReadRequest, b) as { queries: { startTimestampMs: string; endTimestampMs: string }[] };
    expect(ref.queries[0]!.startTimestampMs).toBe('-9223372036854775808');
    expect(ref.queries[0]!.endTimestampMs).toBe('9223372036854775807');
    const back = decodeReadRequest(b).queries[0]!;
    expect(back.startTimestampMs).toBe(-(2 ** 63));
    expect(back.endTimestampMs).toBe(2 ** 63);
  });

  test('truncated input names the offset', () => {
    const b = encodeReadRequest({ queries: [{ startTimestampMs: 1, endTimestampMs: 2, matchers: [{ type: 0, name: 'job', value: 'x' }] }], acceptedResponseTypes: [] });
    expect(() => decodeReadRequest(b.subarray(0, b.length - 2))).toThrow(/at offset \d+/);
    try {
      decodeReadRequest(b.subarray(0, b.length - 2));
    } catch (err) {
      expect(err).toBeInstanceOf(PrompbError);
      expect((err as PrompbError).code).toBe('TESSERA_PROMPB_DECODE');
    }
  });

  test('snappy block round trip of a request is what a Go client would send', () => {
    const raw = encodeReadRequest({ queries: [{ startTimestampMs: 1000, endTimestampMs: 2000, matchers: [{ type: 2, name: '__name__', value: 'up|down' }] }], acceptedResponseTypes: [1, 0] });
    const c = snappyBlockEncode(raw);
    // block format starts with the uvarint decoded length (no stream identifier chunk)
    expect(c[0]).toBe(raw.length);
    expect(snappyBlockDecode(c)).toEqual(raw);
    expect(() => snappyBlockDecode(new Uint8Array([0x05, 0xff, 0xff]))).toThrow(PrompbError);
  });
});

describe('ReadResponse (SAMPLES)', () => {
  test('matches protobufjs in both directions', () => {
    const res = {
      results: [
        {
          timeseries: [
            { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'p' }], samples: [{ value: 1, timestamp: 1000 }, { value: -0.5, timestamp: 1015 }, { value: NaN, timestamp: 1030 }], histogramCount: 0 },
            { labels: [{ name: 'a', value: 'é✓' }], samples: [], histogramCount: 0 },
          ],
        },
        { timeseries: [] },
      ],
    };
    const b = encodeReadResponse(res);
    const ref = toObj(PReadResponse, b) as { results: { timeseries: { labels: unknown[]; samples: { value: number; timestamp: string }[] }[] }[] };
    expect(ref.results[0]!.timeseries[0]!.samples.map((s) => [s.value, Number(s.timestamp)])).toEqual([[1, 1000], [-0.5, 1015], [NaN, 1030]]);
    expect(ref.results[0]!.timeseries[1]!.labels).toEqual([{ name: 'a', value: 'é✓' }]);
    expect(decodeReadResponse(b)).toEqual(res);
    // protobufjs-encoded, with a histogram that we count but skip
    const msg = PReadResponse.fromObject({ results: [{ timeseries: [{ labels: [{ name: 'x', value: 'y' }], samples: [{ value: 2, timestamp: '5' }], histograms: [{ countInt: '3', sum: 1.5, schema: -2, timestamp: '7' }] }] }] });
    const dec = decodeReadResponse(PReadResponse.encode(msg).finish());
    expect(dec.results[0]!.timeseries[0]).toEqual({ labels: [{ name: 'x', value: 'y' }], samples: [{ value: 2, timestamp: 5 }], histogramCount: 1 });
  });
});

describe('ChunkedReadResponse', () => {
  test('matches protobufjs and chunk data are zero-copy views', () => {
    fc.assert(
      fc.property(
        fc.record({
          chunkedSeries: fc.array(
            fc.record({
              labels: fc.array(fc.record({ name: str, value: str }), { maxLength: 4 }),
              chunks: fc.array(fc.record({ minTimeMs: i64, maxTimeMs: i64, type: fc.integer({ min: 0, max: 6 }), data: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 }),
            }),
            { maxLength: 3 },
          ),
          queryIndex: fc.nat(),
        }),
        (res: ChunkedReadResponse) => {
          const b = encodeChunkedReadResponse(res);
          const ref = toObj(PChunked, b) as { chunkedSeries: { labels: unknown[]; chunks: { minTimeMs: string; maxTimeMs: string; type: number; data: number[] }[] }[]; queryIndex: string };
          expect(Number(ref.queryIndex)).toBe(res.queryIndex);
          expect(ref.chunkedSeries.map((s) => ({ labels: s.labels, chunks: s.chunks.map((c) => ({ minTimeMs: Number(c.minTimeMs), maxTimeMs: Number(c.maxTimeMs), type: c.type, data: new Uint8Array(c.data) })) }))).toEqual(res.chunkedSeries);
          const copy = b.slice();
          const dec = decodeChunkedReadResponse(copy);
          expect(dec).toEqual(res);
          for (const s of dec.chunkedSeries) for (const c of s.chunks) if (c.data.length > 0) expect(c.data.buffer).toBe(copy.buffer);
        },
      ),
      { numRuns: 200 },
    );
  });
});
