import { XorChunk } from '../chunkenc/index.js';
import { Labels, LabelsBuilder, type Matcher } from '../labels/index.js';
import {
  ChunkEncoding,
  PrompbError,
  ResponseType,
  readChunkedReadResponses,
  snappyBlockDecode,
  decodeReadResponse,
  MaxDecodedSize,
  type LabelMatcherType,
  type Label,
  type TimeSeries,
} from '../prompb/index.js';
import {
  GrpcCode,
  SeriesFrameWriter,
  StoreError,
  abortReason,
  matchExternalLabels,
  sendSeries,
  sortLimit,
  toMatchers,
  toStoreError,
  type SeriesSink,
  type StoreServer,
} from '../store/index.js';
import type {
  AggrChunk,
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  SeriesRequest,
  StoreSeries,
} from '../storepb/index.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { SidecarError, SidecarErrorCode } from './errors.js';
import { nopLogger, type Logger } from './logger.js';
import type { PrometheusClient } from './prometheus-client.js';

const MAX_INT64 = 9223372036854775807;
/** Samples per re-encoded chunk for SAMPLES answers (Thanos's MaxSamplesPerChunk). */
const MAX_SAMPLES_PER_CHUNK = 120;
const streamedContentType = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

/** PrometheusStoreOptions configures a PrometheusStore. */
export interface PrometheusStoreOptions {
  readonly client: PrometheusClient;
  /** externalLabels returns Prometheus's current external labels (refreshed by the sidecar). */
  readonly externalLabels: () => Labels;
  /** minTime returns the oldest timestamp served (Prometheus's lowest timestamp, or --min-time). */
  readonly minTime: () => number;
  /** maxFrameBytes limits one remote-read frame (default 5e7, as Prometheus's reader). */
  readonly maxFrameBytes?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/**
 * PrometheusStore serves the StoreAPI on top of a Prometheus server, like Thanos's sidecar:
 * Series goes through remote read asking for STREAMED_XOR_CHUNKS (raw TSDB chunks passed on
 * without re-encoding; remote-read type − 1 = StoreAPI type), with SAMPLES accepted as a fallback
 * (re-encoded into XOR chunks of 120 samples). Label calls use the HTTP API.
 *
 * External labels: request matchers on external-label names are evaluated against them (no match
 * → empty answer) and removed before querying Prometheus; every series gets the external labels,
 * which win over same-named labels stored in the TSDB. The result is buffered and sorted by the
 * final label sets (with `without_replica_labels` removed), as the StoreAPI requires.
 *
 * Prometheus being down, not ready or timing out is a StoreError with gRPC code UNAVAILABLE;
 * nothing is cached, so the store recovers as soon as Prometheus answers again.
 */
export class PrometheusStore implements StoreServer {
  readonly #client: PrometheusClient;
  readonly #ext: () => Labels;
  readonly #minTime: () => number;
  readonly #maxFrameBytes: number;
  readonly #logger: Logger;
  readonly #framesRead: Histogram;
  readonly #reencoded: Counter;

  constructor(opts: PrometheusStoreOptions) {
    this.#client = opts.client;
    this.#ext = opts.externalLabels;
    this.#minTime = opts.minTime;
    this.#maxFrameBytes = opts.maxFrameBytes ?? 50_000_000;
    this.#logger = opts.logger ?? nopLogger;
    const registers = [opts.registry ?? new Registry()];
    this.#framesRead = new Histogram({ name: 'prometheus_store_received_frames', help: 'Number of frames received per streamed response.', buckets: [10, 100, 1000, 10000, 100000], registers });
    this.#reencoded = new Counter({ name: 'tessera_prometheus_store_sampled_responses_total', help: 'Remote-read answers that came as SAMPLES and were re-encoded into chunks.', registers });
  }

  info(): Promise<InfoResponse> {
    const ext = this.#ext();
    const minTime = this.#minTime();
    return Promise.resolve({
      labelSets: ext.isEmpty() ? [] : [ext],
      componentType: 'sidecar',
      store: {
        minTime,
        maxTime: MAX_INT64,
        supportsSharding: false,
        supportsWithoutReplicaLabels: true,
        tsdbInfos: [{ labels: ext, minTime, maxTime: MAX_INT64 }],
      },
    });
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    const ext = this.#ext();
    const matchers = matchExternalLabels(toMatchers(req.matchers), ext);
    if (matchers === undefined) return;
    if (matchers.length === 0) throw new StoreError(GrpcCode.InvalidArgument, 'no matchers specified (excluding external labels)');
    // Don't ask for more than Prometheus has (this includes the --min-time limit).
    const minTime = Math.max(req.minTime, this.#minTime());
    if (minTime > req.maxTime) return;
    const drop = (req.withoutReplicaLabels ?? []).filter((n) => ext.has(n));
    const extOut = drop.length === 0 ? ext : ext.without(drop);
    try {
      // /api/v1/series refuses selectors whose matchers all match the empty string; remote read
      // takes them, so such label-only requests go through remote read and drop the chunks.
      const labelsOnly = req.skipChunks === true && !matchers.every((m) => m.matchesEmpty());
      let out = labelsOnly ? await this.#seriesLabelsOnly(matchers, minTime, req.maxTime, extOut, drop, signal) : await this.#seriesRemoteRead(req, matchers, minTime, extOut, drop, signal);
      if (req.skipChunks === true && !labelsOnly) out = out.map((s) => ({ labels: s.labels, chunks: [] }));
      // External labels can change the order Prometheus sent (a prefix label set gets a label
      // appended), so sort by the final label sets. Stable: equal sets keep their order.
      out.sort((a, b) => Labels.compare(a.labels, b.labels));
      const w = new SeriesFrameWriter(sink, req.responseBatchSize ?? 0);
      await sendSeries(w, out, req.limit, signal);
    } catch (err) {
      throw mapError(err, 'query Prometheus');
    }
  }

  async #seriesLabelsOnly(matchers: Matcher[], start: number, end: number, ext: Labels, drop: readonly string[], signal: AbortSignal): Promise<StoreSeries[]> {
    const sets = await this.#client.series(matchers, { start, end }, signal);
    const b = new LabelsBuilder();
    return sets.map((ls) => ({ labels: withExternal(b, ls, ext, drop), chunks: [] }));
  }

  async #seriesRemoteRead(req: SeriesRequest, matchers: Matcher[], start: number, ext: Labels, drop: readonly string[], signal: AbortSignal): Promise<StoreSeries[]> {
    const qh = req.queryHints;
    const res = await this.#client.remoteRead(
      {
        queries: [
          {
            startTimestampMs: start,
            endTimestampMs: req.maxTime,
            matchers: matchers.map((m) => ({ type: m.type as LabelMatcherType, name: m.name, value: m.value })),
            hints: {
              stepMs: qh?.stepMillis ?? 0,
              func: qh?.func?.name ?? '',
              startMs: start,
              endMs: req.maxTime,
              grouping: [...(qh?.grouping?.labels ?? [])],
              by: qh?.grouping?.by ?? false,
              rangeMs: qh?.range?.millis ?? 0,
            },
          },
        ],
        acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES],
      },
      signal,
    );
    const ct = res.headers.get('content-type') ?? '';
    if (ct.startsWith('application/x-protobuf')) {
      this.#reencoded.inc();
      const body = new Uint8Array(await res.arrayBuffer());
      return this.#fromSamples(decodeReadResponse(snappyBlockDecode(body, MaxDecodedSize)).results, ext, drop);
    }
    if (!ct.startsWith(streamedContentType)) {
      await res.body?.cancel();
      throw new SidecarError(SidecarErrorCode.PrometheusRequest, `remote read at ${this.#client.url}: unsupported content type "${ct}"`);
    }
    if (res.body === null) return [];
    const out: StoreSeries[] = [];
    const b = new LabelsBuilder();
    let frames = 0;
    let last: { promLabels: Label[]; series: { labels: Labels; chunks: AggrChunk[] } } | undefined;
    try {
      for await (const frame of readChunkedReadResponses(res.body as AsyncIterable<Uint8Array>, { maxFrameBytes: this.#maxFrameBytes })) {
        frames++;
        for (const cs of frame.chunkedSeries) {
          // A series too large for one frame continues in the next frame(s) with the same labels.
          let cur = last !== undefined && sameLabels(last.promLabels, cs.labels) ? last.series : undefined;
          if (cur === undefined) {
            cur = { labels: withExternal(b, Labels.fromPairs(cs.labels), ext, drop), chunks: [] };
            out.push(cur);
            last = { promLabels: cs.labels, series: cur };
          }
          for (const c of cs.chunks) {
            if (c.type < ChunkEncoding.XOR || c.type > ChunkEncoding.FLOAT_HISTOGRAM) {
              throw new SidecarError(SidecarErrorCode.PrometheusRequest, `remote read at ${this.#client.url}: chunk encoding ${c.type} of series ${cur.labels.toString()} has no StoreAPI equivalent`);
            }
            cur.chunks.push({ minTime: c.minTimeMs, maxTime: c.maxTimeMs, raw: { type: (c.type - 1) as 0 | 1 | 2, data: c.data, hashHi: 0, hashLo: 0 } });
          }
        }
        if ((frames & 0x3f) === 0 && signal.aborted) throw abortReason(signal);
      }
    } finally {
      this.#framesRead.observe(frames);
    }
    this.#logger.debug('handled streamed remote-read response', { frames, series: out.length });
    return out;
  }

  #fromSamples(results: { timeseries: TimeSeries[] }[], ext: Labels, drop: readonly string[]): StoreSeries[] {
    if (results.length !== 1) throw new SidecarError(SidecarErrorCode.PrometheusRequest, `remote read at ${this.#client.url}: ${results.length} results for one query`);
    const b = new LabelsBuilder();
    const out: StoreSeries[] = [];
    for (const ts of results[0]!.timeseries) {
      if (ts.histogramCount > 0) throw new SidecarError(SidecarErrorCode.PrometheusRequest, `remote read at ${this.#client.url}: native histograms in a SAMPLES response are not supported`);
      if (ts.samples.length === 0) continue; // Prometheus can send empty series (thanos#381)
      const chunks: AggrChunk[] = [];
      for (let i = 0; i < ts.samples.length; i += MAX_SAMPLES_PER_CHUNK) {
        const part = ts.samples.slice(i, i + MAX_SAMPLES_PER_CHUNK);
        const chk = new XorChunk();
        const app = chk.appender();
        for (const s of part) app.append(s.timestamp, s.value);
        chunks.push({ minTime: part[0]!.timestamp, maxTime: part[part.length - 1]!.timestamp, raw: { type: 0, data: chk.bytes(), hashHi: 0, hashLo: 0 } });
      }
      out.push({ labels: withExternal(b, Labels.fromPairs(ts.labels), ext, drop), chunks });
    }
    return out;
  }

  async labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> {
    const ext = this.#ext();
    const matchers = matchExternalLabels(toMatchers(req.matchers), ext);
    if (matchers === undefined) return { names: [], warnings: [] };
    try {
      const vals = await this.#client.labelNames(matchers, range(req.start, req.end, this.#minTime()), signal);
      const names = new Set(vals);
      if (vals.length > 0) ext.forEach((n) => names.add(n));
      for (const d of req.withoutReplicaLabels ?? []) if (ext.has(d)) names.delete(d);
      return { names: sortLimit([...names], req.limit), warnings: [] };
    } catch (err) {
      throw mapError(err, 'get label names from Prometheus');
    }
  }

  async labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> {
    if (req.label === '') throw new StoreError(GrpcCode.InvalidArgument, 'label name parameter cannot be empty');
    const ext = this.#ext();
    const matchers = matchExternalLabels(toMatchers(req.matchers), ext);
    if (matchers === undefined) return { values: [], warnings: [] };
    try {
      if (ext.has(req.label)) {
        if ((req.withoutReplicaLabels ?? []).includes(req.label)) return { values: [], warnings: [] };
        if (matchers.length > 0) {
          // The external value only counts when the other matchers select something.
          const names = await this.#client.labelNames(matchers, range(req.start, req.end, this.#minTime()), signal);
          if (names.length === 0) return { values: [], warnings: [] };
        }
        return { values: [ext.get(req.label)], warnings: [] };
      }
      const vals = await this.#client.labelValues(req.label, matchers, range(req.start, req.end, this.#minTime()), signal);
      return { values: sortLimit(vals, req.limit), warnings: [] };
    } catch (err) {
      throw mapError(err, `get values of label ${req.label} from Prometheus`);
    }
  }
}

function range(start: number, end: number, minTime: number): { start: number; end: number } {
  return { start: Math.max(start, minTime), end };
}

function sameLabels(a: readonly Label[], b: readonly Label[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

/**
 * withExternal returns ls with ext added (external labels win over same-named stored labels) and
 * the `drop` labels (replica labels the request asked to remove) deleted.
 */
function withExternal(b: LabelsBuilder, ls: Labels, ext: Labels, drop: readonly string[]): Labels {
  if (ext.isEmpty() && drop.length === 0) return ls;
  b.reset(ls);
  ext.forEach((n, v) => b.set(n, v));
  // Prometheus's remote read already merges its external labels in, so removed replica labels
  // must be deleted from the series too, not just left out of `ext`.
  if (drop.length > 0) b.del(...drop);
  return b.labels();
}


function mapError(err: unknown, action: string): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof SidecarError && err.code === SidecarErrorCode.PrometheusUnavailable) {
    return new StoreError(GrpcCode.Unavailable, `${action}: Prometheus is unavailable: ${err.message}`, { cause: err });
  }
  if (err instanceof PrompbError) return new StoreError(GrpcCode.Internal, `${action}: broken remote-read response: ${err.message}`, { cause: err });
  return toStoreError(err, action);
}
