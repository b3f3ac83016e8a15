import type {
  AggrChunk,
  InfoResponse,
  LabelNamesRequest,
  LabelNamesResponse,
  LabelValuesRequest,
  LabelValuesResponse,
  SeriesRequest,
  SeriesResponse,
  StoreSeries,
} from '../storepb/index.js';
import type { SeriesSink, StoreServer } from './store-api.js';
import { GrpcCode, StoreError } from './store-error.js';

/**
 * SeriesLimits bound one Series request (0 or absent = unlimited), like Thanos's
 * --store.limits.request-series / request-samples and the store gateway's byte limits.
 */
export interface SeriesLimits {
  /** maxSeries is the number of distinct series a request may return. */
  readonly maxSeries?: number;
  /** maxSamples is the number of samples in the returned chunks (read from the chunk headers). */
  readonly maxSamples?: number;
  /** maxBytes is the number of chunk data and label bytes a request may return. */
  readonly maxBytes?: number;
}

/**
 * chunkSamples returns the number of samples of an AggrChunk: XOR and histogram chunks start
 * with a big-endian uint16 sample count. For downsampled chunks the first present aggregate counts.
 */
export function chunkSamples(c: AggrChunk): number {
  const ch = c.raw ?? c.count ?? c.sum ?? c.min ?? c.max ?? c.counter;
  if (ch === undefined || ch.data.length < 2) return 0;
  return (ch.data[0]! << 8) | ch.data[1]!;
}

function seriesBytes(s: StoreSeries): number {
  let n = 0;
  const kv = s.labels.flat();
  for (const x of kv) n += x.length;
  for (const c of s.chunks) {
    for (const ch of [c.raw, c.count, c.sum, c.min, c.max, c.counter]) if (ch !== undefined) n += ch.data.length;
  }
  return n;
}

/**
 * SeriesLimiter counts what a Series call sends and throws a ResourceExhausted StoreError naming
 * the limit as soon as one is exceeded.
 */
export class SeriesLimiter {
  readonly #limits: SeriesLimits;
  #series = 0;
  #samples = 0;
  #bytes = 0;
  #last: StoreSeries | undefined;

  constructor(limits: SeriesLimits) {
    this.#limits = limits;
  }

  /** add accounts for one series (a continuation of the previous series counts no new series). */
  add(s: StoreSeries): void {
    const l = this.#limits;
    if (this.#last === undefined || !this.#last.labels.equals(s.labels)) this.#series++;
    this.#last = s;
    if (l.maxSeries && this.#series > l.maxSeries) {
      throw new StoreError(GrpcCode.ResourceExhausted, `exceeded series limit: limit ${l.maxSeries} series per request`);
    }
    if (l.maxSamples) {
      for (const c of s.chunks) this.#samples += chunkSamples(c);
      if (this.#samples > l.maxSamples) {
        throw new StoreError(GrpcCode.ResourceExhausted, `exceeded samples limit: limit ${l.maxSamples} samples per request (at ${this.#samples})`);
      }
    }
    if (l.maxBytes) {
      this.#bytes += seriesBytes(s);
      if (this.#bytes > l.maxBytes) {
        throw new StoreError(GrpcCode.ResourceExhausted, `exceeded bytes limit: limit ${l.maxBytes} bytes per request (at ${this.#bytes})`);
      }
    }
  }

  /** addFrame accounts for the series of one frame. */
  addFrame(resp: SeriesResponse): void {
    if (resp.kind === 'series') this.add(resp.series);
    else if (resp.kind === 'batch') for (const s of resp.batch) this.add(s);
  }
}

/** withLimits wraps a StoreServer so that each Series request is bounded by limits. */
export function withLimits(server: StoreServer, limits: SeriesLimits): StoreServer {
  if (!limits.maxSeries && !limits.maxSamples && !limits.maxBytes) return server;
  return {
    info: (signal?: AbortSignal): Promise<InfoResponse> => server.info(signal),
    labelNames: (req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> => server.labelNames(req, signal),
    labelValues: (req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> => server.labelValues(req, signal),
    series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
      const limiter = new SeriesLimiter(limits);
      return server.series(
        req,
        {
          send(resp) {
            limiter.addFrame(resp);
            return sink.send(resp);
          },
        },
        signal,
      );
    },
  };
}
