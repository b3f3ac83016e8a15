import { ProtoReader, WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';
import type { Label, QueryResult, ReadResponse, Sample, TimeSeries } from './types.js';

/**
 * encodeReadResponse serialises a SAMPLES ReadResponse (uncompressed). Histograms are not
 * encoded (TimeSeries carries only float samples here).
 */
export function encodeReadResponse(res: ReadResponse, w: ProtoWriter = new ProtoWriter()): Uint8Array {
  for (const qr of res.results) {
    w.tag(1, WireType.Bytes).fork();
    for (const ts of qr.timeseries) {
      w.tag(1, WireType.Bytes).fork();
      writeLabels(w, 1, ts.labels);
      for (const s of ts.samples) {
        w.tag(2, WireType.Bytes).fork();
        if (s.value !== 0 || Object.is(s.value, -0)) w.tag(1, WireType.Fixed64).double(s.value);
        if (s.timestamp !== 0) w.tag(2, WireType.Varint).int64(s.timestamp);
        w.join();
      }
      w.join();
    }
    w.join();
  }
  return w.finish();
}

/** writeLabels writes a repeated Label field. */
export function writeLabels(w: ProtoWriter, field: number, labels: readonly Label[]): void {
  for (const l of labels) {
    w.tag(field, WireType.Bytes).fork();
    if (l.name !== '') w.tag(1, WireType.Bytes).string(l.name);
    if (l.value !== '') w.tag(2, WireType.Bytes).string(l.value);
    w.join();
  }
}

/** readLabel decodes one Label message. */
export function readLabel(r: ProtoReader): Label {
  let name = '';
  let value = '';
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Bytes, 'name');
        name = r.string();
        break;
      case 2:
        r.expect(wt, WireType.Bytes, 'value');
        value = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return { name, value };
}

/**
 * decodeReadResponse parses an (uncompressed) SAMPLES ReadResponse. Native histograms and
 * exemplars are skipped (counted in TimeSeries.histogramCount).
 */
export function decodeReadResponse(buf: Uint8Array): ReadResponse {
  const r = new ProtoReader(buf, 'ReadResponse');
  const res: ReadResponse = { results: [] };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    if (key >>> 3 === 1) {
      r.expect(wt, WireType.Bytes, 'results');
      res.results.push(readQueryResult(r.sub('QueryResult')));
    } else {
      r.skip(wt);
    }
  }
  return res;
}

function readQueryResult(r: ProtoReader): QueryResult {
  const qr: QueryResult = { timeseries: [] };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    if (key >>> 3 === 1) {
      r.expect(wt, WireType.Bytes, 'timeseries');
      qr.timeseries.push(readTimeSeries(r.sub('TimeSeries')));
    } else {
      r.skip(wt);
    }
  }
  return qr;
}

function readTimeSeries(r: ProtoReader): TimeSeries {
  const ts: TimeSeries = { labels: [], samples: [], histogramCount: 0 };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Bytes, 'labels');
        ts.labels.push(readLabel(r.sub('Label')));
        break;
      case 2:
        r.expect(wt, WireType.Bytes, 'samples');
        ts.samples.push(readSample(r.sub('Sample')));
        break;
      case 4:
        ts.histogramCount++;
        r.skip(wt);
        break;
      default:
        r.skip(wt);
    }
  }
  return ts;
}

function readSample(r: ProtoReader): Sample {
  const s: Sample = { value: 0, timestamp: 0 };
  while (!r.done()) {
    const key = r.uint32();
    const wt = key & 7;
    switch (key >>> 3) {
      case 1:
        r.expect(wt, WireType.Fixed64, 'value');
        s.value = r.double();
        break;
      case 2:
        r.expect(wt, WireType.Varint, 'timestamp');
        s.timestamp = r.int64();
        break;
      default:
        r.skip(wt);
    }
  }
  return s;
}
