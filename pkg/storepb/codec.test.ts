import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import {
  type AggrChunk,
  type InfoResponse,
  type LabelMatcher,
  type LabelValuesRequest,
  type SeriesRequest,
  type SeriesResponse,
  type StoreChunk,
  type StoreSeries,
  decodeInfoResponse,
  decodeLabelNamesRequest,
  decodeLabelValuesRequest,
  decodeLabelValuesResponse,
  decodeLegacyInfoResponse,
  decodeSeriesRequest,
  decodeSeriesResponse,
  encodeInfoResponse,
  encodeLabelNamesRequest,
  encodeLabelValuesRequest,
  encodeLabelValuesResponse,
  encodeLegacyInfoResponse,
  encodeSeriesRequest,
  encodeSeriesResponse,
  preEncodedAggrChunk,
  seriesResponseSize,
  ProtoWriter,
  ProtoReader,
  int64Size,
} from './index.js';

// The reference is protobufjs loading our .proto files: whatever we encode must decode there to
// the same message, and whatever protobufjs encodes must decode here to the same message.

const protoDir = join(fileURLToPath(import.meta.url), '../../../proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : join(protoDir, target));
root.loadSync(['store/storepb/rpc.proto', 'info/infopb/rpc.proto', 'store/hintspb/hints.proto']);
const T = (name: string) => root.lookupType(name);
const toObjOpts: protobuf.IConversionOptions = { longs: String, bytes: String, enums: Number, defaults: true, arrays: true, oneofs: true };

/** Canonical form of bytes under a protobufjs type: decode and convert to a plain object. */
function canon(type: string, bytes: Uint8Array): unknown {
  const t = T(type);
  return t.toObject(t.decode(bytes), toObjOpts);
}
function pbEncode(type: string, obj: object): Uint8Array {
  const t = T(type);
  return t.encode(t.fromObject(obj)).finish();
}

const u64 = (hi: number, lo: number) => ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
const labelsObj = (ls: Labels) => ls.toArray().map((l) => ({ name: l.name, value: l.value }));
const chunkObj = (c: StoreChunk) => ({ type: c.type, data: Buffer.from(c.data).toString('base64'), hash: u64(c.hashHi, c.hashLo) });
const aggrObj = (a: AggrChunk) => {
  const o: Record<string, unknown> = { minTime: String(a.minTime), maxTime: String(a.maxTime) };
  for (const k of ['raw', 'count', 'sum', 'min', 'max', 'counter'] as const) if (a[k] !== undefined) o[k] = chunkObj(a[k]!);
  return o;
};
const seriesObj = (s: StoreSeries) => ({ labels: labelsObj(s.labels), chunks: s.chunks.map(aggrObj) });
function respObj(r: SeriesResponse): object {
  switch (r.kind) {
    case 'series':
      return { series: seriesObj(r.series) };
    case 'warning':
      return { warning: r.warning };
    case 'hints':
      return { hints: { type_url: r.hints.typeUrl, value: Buffer.from(r.hints.value).toString('base64') } };
    case 'batch':
      return { batch: { series: r.batch.map(seriesObj) } };
    case 'unknown':
      return {};
  }
}
const matcherObj = (m: LabelMatcher) => ({ type: m.type, name: m.name, value: m.value });

// Arbitraries. int64s cover negatives and values beyond 32 bits but stay exact as numbers.
const int64 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 32, -(2 ** 32)));
const str = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('', 'é', '日本', '😀x'));
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
const labels = fc.uniqueArray(fc.record({ name, value: str.filter((s) => s !== '') }), { selector: (l) => l.name, maxLength: 6 }).map((ps) => Labels.fromPairs(ps));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const chunk: fc.Arbitrary<StoreChunk> = fc.record({
  type: fc.constantFrom(0, 1, 2) as fc.Arbitrary<StoreChunk['type']>,
  data: fc.uint8Array({ maxLength: 40 }),
  hashHi: u32,
  hashLo: u32,
});
const aggr: fc.Arbitrary<AggrChunk> = fc.record(
  { minTime: int64, maxTime: int64, raw: chunk, count: chunk, sum: chunk, min: chunk, max: chunk, counter: chunk },
  { requiredKeys: ['minTime', 'maxTime'] },
);
const series: fc.Arbitrary<StoreSeries> = fc.record({ labels, chunks: fc.array(aggr, { maxLength: 4 }) });
const seriesResponse: fc.Arbitrary<SeriesResponse> = fc.oneof(
  series.map((s) => ({ kind: 'series' as const, series: s })),
  str.map((w) => ({ kind: 'warning' as const, warning: w })),
  fc.record({ typeUrl: str, value: fc.uint8Array({ maxLength: 10 }) }).map((h) => ({ kind: 'hints' as const, hints: h })),
  fc.array(series, { maxLength: 3 }).map((b) => ({ kind: 'batch' as const, batch: b })),
);
const matcher: fc.Arbitrary<LabelMatcher> = fc.record({ type: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>, name: str, value: str });

describe('SeriesResponse codec against protobufjs', () => {
  test('our encoding decodes in protobufjs to the same message, and back', () => {
    fc.assert(
      fc.property(seriesResponse, (resp) => {
        const ours = encodeSeriesResponse(resp);
        expect(ours.length).toBe(seriesResponseSize(resp));
        const ref = pbEncode('thanos.SeriesResponse', respObj(resp));
        expect(canon('thanos.SeriesResponse', ours)).toEqual(canon('thanos.SeriesResponse', ref));
        // protobufjs bytes through our decoder give back the same message.
        const back = decodeSeriesResponse(ref);
        expect(canon('thanos.SeriesResponse', pbEncode('thanos.SeriesResponse', respObj(back)))).toEqual(canon('thanos.SeriesResponse', ref));
      }),
      { numRuns: 300 },
    );
  });

  test('our encoding is byte-identical to protobufjs for a series frame (field order, packed form)', () => {
    const s: StoreSeries = {
      labels: Labels.fromStrings('__name__', 'up', 'job', 'nødé'),
      chunks: [{ minTime: -5, maxTime: 1_700_000_000_000, raw: { type: 0, data: Uint8Array.of(1, 2, 3), hashHi: 0xdeadbeef, hashLo: 1 } }],
    };
    const ours = encodeSeriesResponse({ kind: 'series', series: s });
    const ref = pbEncode('thanos.SeriesResponse', respObj({ kind: 'series', series: s }));
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(ref).toString('hex'));
  });

  test('pre-encoded AggrChunks encode byte-identically, with their data as views of the encoded body', () => {
    fc.assert(
      fc.property(fc.array(series, { maxLength: 3 }), (batch) => {
        const pre = batch.map((s) => ({ labels: s.labels, chunks: s.chunks.map(preEncodedAggrChunk) }));
        const plain = encodeSeriesResponse({ kind: 'batch', batch });
        const ours = encodeSeriesResponse({ kind: 'batch', batch: pre });
        expect(seriesResponseSize({ kind: 'batch', batch: pre })).toBe(plain.length);
        expect(Buffer.from(ours).equals(Buffer.from(plain))).toBe(true);
        for (let i = 0; i < batch.length; i++) {
          // Same fields (deep equality does not see `encoded`), data backed by the encoded body.
          expect(pre[i]!.chunks).toEqual(batch[i]!.chunks);
          for (const a of pre[i]!.chunks) {
            expect(a.encoded).toBeInstanceOf(Uint8Array);
            for (const k of ['raw', 'count', 'sum', 'min', 'max', 'counter'] as const) {
              const d = a[k]?.data;
              if (d !== undefined && d.length > 0) expect(d.buffer).toBe(a.encoded!.buffer);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('decoded chunk data are views of the input buffer (no copy)', () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    const buf = encodeSeriesResponse({ kind: 'series', series: { labels: Labels.fromStrings('a', 'b'), chunks: [{ minTime: 1, maxTime: 2, raw: { type: 0, data, hashHi: 0, hashLo: 0 } }] } });
    const r = decodeSeriesResponse(buf);
    if (r.kind !== 'series') throw new Error('expected a series frame');
    const got = r.series.chunks[0]!.raw!.data;
    expect(got.buffer).toBe(buf.buffer);
    expect([...got]).toEqual([...data]);
  });

  test('MaxInt64 and MinInt64 round-trip through numbers', () => {
    const ref = pbEncode('thanos.AggrChunk', { minTime: '-9223372036854775808', maxTime: '9223372036854775807' });
    const r = new ProtoReader(ref);
    r.uint32();
    const min = r.int64();
    r.uint32();
    const max = r.int64();
    expect(min).toBe(-(2 ** 63));
    expect(max).toBe(2 ** 63);
    const w = new ProtoWriter();
    w.tag(1, 0).int64(min).tag(2, 0).int64(max);
    expect(Buffer.from(w.finish()).toString('hex')).toBe(Buffer.from(ref).toString('hex'));
    expect(int64Size(2 ** 63)).toBe(9);
    expect(int64Size(-1)).toBe(10);
  });

  test('unknown fields are skipped and an empty frame is "unknown"', () => {
    const w = new ProtoWriter();
    w.tag(99, 2).string('future').tag(98, 0).int64(7).tag(97, 5).rawBytes(Uint8Array.of(1, 2, 3, 4)).tag(96, 1).rawBytes(new Uint8Array(8));
    expect(decodeSeriesResponse(w.finish())).toEqual({ kind: 'unknown' });
  });

  test('truncated input is rejected with the offset', () => {
    const buf = encodeSeriesResponse({ kind: 'warning', warning: 'hello' });
    expect(() => decodeSeriesResponse(buf.subarray(0, buf.length - 1))).toThrow(/offset/);
  });

  test('unsorted labels from the wire are sorted', () => {
    const ref = pbEncode('thanos.SeriesResponse', { series: { labels: [{ name: 'b', value: '1' }, { name: 'a', value: '2' }] } });
    const r = decodeSeriesResponse(ref);
    expect(r.kind === 'series' && r.series.labels.toString()).toBe('{a="2", b="1"}');
  });
});

const seriesRequest: fc.Arbitrary<SeriesRequest> = fc.record(
  {
    minTime: int64,
    maxTime: int64,
    matchers: fc.array(matcher, { maxLength: 4 }),
    maxResolutionWindow: int64,
    aggregates: fc.array(fc.constantFrom(0, 1, 2, 3, 4, 5), { maxLength: 4 }) as fc.Arbitrary<SeriesRequest['aggregates'] & object>,
    partialResponseDisabled: fc.boolean(),
    partialResponseStrategy: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
    skipChunks: fc.boolean(),
    hints: fc.record({ typeUrl: str, value: fc.uint8Array({ maxLength: 8 }) }),
    step: int64,
    range: int64,
    queryHints: fc.record(
      {
        stepMillis: int64,
        func: fc.record({ name: str }),
        grouping: fc.record({ by: fc.boolean(), labels: fc.array(str, { maxLength: 3 }) }),
        range: fc.record({ millis: int64 }),
        projectionLabels: fc.array(str, { maxLength: 3 }),
        projectionInclude: fc.boolean(),
        seriesHashLabelName: str,
      },
      { requiredKeys: [] },
    ),
    shardInfo: fc.record({ shardIndex: int64, totalShards: int64, by: fc.boolean(), labels: fc.array(str, { maxLength: 3 }) }),
    withoutReplicaLabels: fc.array(str, { maxLength: 3 }),
    limit: int64,
    responseBatchSize: int64,
    replicaLabelsHint: fc.array(str, { maxLength: 3 }),
  },
  { requiredKeys: ['minTime', 'maxTime', 'matchers'] },
);

function seriesRequestObj(r: SeriesRequest): object {
  const q = r.queryHints;
  return {
    minTime: String(r.minTime),
    maxTime: String(r.maxTime),
    matchers: r.matchers.map(matcherObj),
    maxResolutionWindow: String(r.maxResolutionWindow ?? 0),
    aggregates: r.aggregates ?? [],
    partialResponseDisabled: r.partialResponseDisabled ?? false,
    partialResponseStrategy: r.partialResponseStrategy ?? 0,
    skipChunks: r.skipChunks ?? false,
    ...(r.hints ? { hints: { type_url: r.hints.typeUrl, value: Buffer.from(r.hints.value).toString('base64') } } : {}),
    step: String(r.step ?? 0),
    range: String(r.range ?? 0),
    ...(q
      ? {
          queryHints: {
            stepMillis: String(q.stepMillis ?? 0),
            ...(q.func ? { func: q.func } : {}),
            ...(q.grouping ? { grouping: q.grouping } : {}),
            ...(q.range ? { range: { millis: String(q.range.millis) } } : {}),
            projectionLabels: q.projectionLabels ?? [],
            projectionInclude: q.projectionInclude ?? false,
            seriesHashLabelName: q.seriesHashLabelName ?? '',
          },
        }
      : {}),
    ...(r.shardInfo ? { shardInfo: { ...r.shardInfo, shardIndex: String(r.shardInfo.shardIndex), totalShards: String(r.shardInfo.totalShards) } } : {}),
    withoutReplicaLabels: r.withoutReplicaLabels ?? [],
    limit: String(r.limit ?? 0),
    responseBatchSize: String(r.responseBatchSize ?? 0),
    replicaLabelsHint: r.replicaLabelsHint ?? [],
  };
}

describe('request codecs against protobufjs', () => {
  test('SeriesRequest both ways', () => {
    fc.assert(
      fc.property(seriesRequest, (req) => {
        const ref = pbEncode('thanos.SeriesRequest', seriesRequestObj(req));
        expect(canon('thanos.SeriesRequest', encodeSeriesRequest(req))).toEqual(canon('thanos.SeriesRequest', ref));
        expect(canon('thanos.SeriesRequest', pbEncode('thanos.SeriesRequest', seriesRequestObj(decodeSeriesRequest(ref))))).toEqual(canon('thanos.SeriesRequest', ref));
      }),
      { numRuns: 200 },
    );
  });

  test('unpacked repeated aggregates are accepted', () => {
    const w = new ProtoWriter();
    w.tag(5, 0).uint32(2).tag(5, 0).uint32(5);
    expect(decodeSeriesRequest(w.finish()).aggregates).toEqual([2, 5]);
  });

  const labelValuesRequest: fc.Arbitrary<LabelValuesRequest> = fc.record({
    label: str,
    partialResponseDisabled: fc.boolean(),
    partialResponseStrategy: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
    start: int64,
    end: int64,
    matchers: fc.array(matcher, { maxLength: 3 }),
    withoutReplicaLabels: fc.array(str, { maxLength: 3 }),
    limit: int64,
  });
  const lvObj = (r: LabelValuesRequest, withLabel: boolean) => ({
    ...(withLabel ? { label: r.label } : {}),
    partialResponseDisabled: r.partialResponseDisabled,
    partialResponseStrategy: r.partialResponseStrategy,
    start: String(r.start),
    end: String(r.end),
    matchers: (r.matchers ?? []).map(matcherObj),
    withoutReplicaLabels: r.withoutReplicaLabels,
    limit: String(r.limit ?? 0),
  });

  test('LabelValuesRequest and LabelNamesRequest both ways', () => {
    fc.assert(
      fc.property(labelValuesRequest, (req) => {
        const refV = pbEncode('thanos.LabelValuesRequest', lvObj(req, true));
        expect(canon('thanos.LabelValuesRequest', encodeLabelValuesRequest(req))).toEqual(canon('thanos.LabelValuesRequest', refV));
        expect(lvObj(decodeLabelValuesRequest(refV) as LabelValuesRequest, true)).toEqual(lvObj(req, true));
        const refN = pbEncode('thanos.LabelNamesRequest', lvObj(req, false));
        expect(canon('thanos.LabelNamesRequest', encodeLabelNamesRequest(req))).toEqual(canon('thanos.LabelNamesRequest', refN));
        expect(lvObj({ ...decodeLabelNamesRequest(refN), label: '' }, false)).toEqual(lvObj(req, false));
      }),
      { numRuns: 150 },
    );
  });

  test('LabelValuesResponse both ways', () => {
    fc.assert(
      fc.property(fc.array(str, { maxLength: 5 }), fc.array(str, { maxLength: 2 }), (values, warnings) => {
        const ref = pbEncode('thanos.LabelValuesResponse', { values, warnings });
        expect(canon('thanos.LabelValuesResponse', encodeLabelValuesResponse({ values, warnings }))).toEqual(canon('thanos.LabelValuesResponse', ref));
        expect(decodeLabelValuesResponse(ref)).toEqual({ values, warnings, hints: undefined });
      }),
    );
  });
});

describe('Info codecs against protobufjs', () => {
  const info: fc.Arbitrary<InfoResponse> = fc.record(
    {
      labelSets: fc.array(labels, { maxLength: 3 }),
      componentType: str,
      store: fc.record(
        {
          minTime: int64,
          maxTime: int64,
          supportsSharding: fc.boolean(),
          supportsWithoutReplicaLabels: fc.boolean(),
          tsdbInfos: fc.array(fc.record({ labels, minTime: int64, maxTime: int64 }), { maxLength: 2 }),
          supportsProjections: fc.boolean(),
        },
        { requiredKeys: ['minTime', 'maxTime'] },
      ),
      rules: fc.boolean(),
      metricMetadata: fc.boolean(),
      targets: fc.boolean(),
      exemplars: fc.record({ minTime: int64, maxTime: int64 }),
      query: fc.boolean(),
      status: fc.boolean(),
    },
    { requiredKeys: ['labelSets', 'componentType'] },
  );
  const infoObj = (r: InfoResponse) => ({
    labelSets: r.labelSets.map((ls) => ({ labels: labelsObj(ls) })),
    ComponentType: r.componentType,
    ...(r.store
      ? {
          store: {
            minTime: String(r.store.minTime),
            maxTime: String(r.store.maxTime),
            supportsSharding: r.store.supportsSharding ?? false,
            supportsWithoutReplicaLabels: r.store.supportsWithoutReplicaLabels ?? false,
            tsdbInfos: (r.store.tsdbInfos ?? []).map((t) => ({ labels: { labels: labelsObj(t.labels) }, minTime: String(t.minTime), maxTime: String(t.maxTime) })),
            supportsProjections: r.store.supportsProjections ?? false,
          },
        }
      : {}),
    ...(r.rules ? { rules: {} } : {}),
    ...(r.metricMetadata ? { metricMetadata: {} } : {}),
    ...(r.targets ? { targets: {} } : {}),
    ...(r.exemplars ? { exemplars: { minTime: String(r.exemplars.minTime), maxTime: String(r.exemplars.maxTime) } } : {}),
    ...(r.query ? { query: {} } : {}),
    ...(r.status ? { status: {} } : {}),
  });

  test('thanos.info.InfoResponse both ways', () => {
    fc.assert(
      fc.property(info, (res) => {
        const ref = pbEncode('thanos.info.InfoResponse', infoObj(res));
        expect(canon('thanos.info.InfoResponse', encodeInfoResponse(res))).toEqual(canon('thanos.info.InfoResponse', ref));
        expect(canon('thanos.info.InfoResponse', pbEncode('thanos.info.InfoResponse', infoObj(decodeInfoResponse(ref))))).toEqual(canon('thanos.info.InfoResponse', ref));
      }),
      { numRuns: 150 },
    );
  });

  test('legacy thanos.InfoResponse both ways', () => {
    const res = { labels: Labels.fromStrings('a', '1'), minTime: -3, maxTime: 2 ** 63, storeType: 3 as const, labelSets: [Labels.fromStrings('a', '1', 'b', '2')] };
    const obj = { labels: [{ name: 'a', value: '1' }], minTime: '-3', maxTime: '9223372036854775807', storeType: 3, labelSets: [{ labels: labelsObj(res.labelSets[0]!) }] };
    const ref = pbEncode('thanos.InfoResponse', obj);
    expect(Buffer.from(encodeLegacyInfoResponse(res)).toString('hex')).toBe(Buffer.from(ref).toString('hex'));
    const back = decodeLegacyInfoResponse(ref);
    expect(back.labels.toString()).toBe('{a="1"}');
    expect(back.maxTime).toBe(2 ** 63);
    expect(back.storeType).toBe(3);
  });
});
