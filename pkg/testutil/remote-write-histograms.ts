import { zigzag } from '../encoding/index.js';
import { CounterResetHint, type FloatHistogram, type Span } from '../histogram/index.js';
import { ProtoWriter, snappyBlockEncode } from '../prompb/index.js';

/** HistogramSeries is one series to remote-write: its metric name and its samples in time order. */
export type HistogramSeries = readonly [name: string, samples: readonly { readonly t: number; readonly h: FloatHistogram }[]];

/**
 * remoteWriteHistograms remote-writes integer native histograms (prompb.Histogram with count_int,
 * delta-encoded bucket counts and, for gauges, the GAUGE reset hint) to the Prometheus at baseUrl
 * (`/api/v1/write`, remote write 1.0, snappy) and returns its response: Prometheus 2.42 with
 * `--web.enable-remote-write-receiver --enable-feature=native-histograms` answers 204. Bucket
 * counts of h are absolute and must be integers.
 */
export function remoteWriteHistograms(baseUrl: string, series: readonly HistogramSeries[]): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/write`, {
    method: 'POST',
    body: snappyBlockEncode(writeRequest(series)),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
}

function writeRequest(series: readonly HistogramSeries[]): Uint8Array {
  const w = new ProtoWriter();
  const spans = (field: number, spans: readonly Span[]): void => {
    for (const s of spans) w.tag(field, 2).fork().tag(1, 0).uint32(zigzag(s.offset)).tag(2, 0).uint32(s.length).join();
  };
  const deltas = (field: number, counts: readonly number[]): void => {
    let prev = 0;
    for (const x of counts) {
      w.tag(field, 0).uint32(zigzag(x - prev));
      prev = x;
    }
  };
  for (const [name, samples] of series) {
    w.tag(1, 2).fork(); // timeseries
    w.tag(1, 2).fork().tag(1, 2).string('__name__').tag(2, 2).string(name).join();
    for (const { t, h } of samples) {
      w.tag(4, 2).fork(); // histograms
      w.tag(1, 0).uint32(h.count);
      w.tag(3, 1).double(h.sum);
      w.tag(4, 0).uint32(zigzag(h.schema));
      w.tag(5, 1).double(h.zeroThreshold);
      w.tag(6, 0).uint32(h.zeroCount);
      spans(8, h.negativeSpans);
      deltas(9, h.negativeBuckets);
      spans(11, h.positiveSpans);
      deltas(12, h.positiveBuckets);
      if (h.counterResetHint === CounterResetHint.Gauge) w.tag(14, 0).uint32(3);
      w.tag(15, 0).int64(t);
      w.join();
    }
    w.join();
  }
  return w.finish().slice();
}
