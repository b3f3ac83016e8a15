import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { DataGenError } from './datagen-error.js';
import { logNormalCdf } from './log-normal-cdf.js';
import { rng } from './rng.js';

/** DataSetOptions describe one generated data set; every field has a default. */
export interface DataSetOptions {
  /** hosts monitored (about 75 series each; default 20). */
  readonly hosts?: number;
  /** hours of data (default 4; fractions allowed). */
  readonly hours?: number;
  /** intervalSec is the scrape interval in seconds (default 15). */
  readonly intervalSec?: number;
  /** startSec is the first scrape time in unix seconds (default 1767225600, 2026-01-01T00:00Z, 2h aligned). */
  readonly startSec?: number;
  /**
   * replica of an HA pair (default 'a'). Every replica has the same series and values; replica 'a'
   * scrapes on exact interval multiples, any other replica 250–649 ms later and misses the
   * 10 minutes starting halfway through the data set.
   */
  readonly replica?: string;
  /** seed of the PRNG (default 42). */
  readonly seed?: number;
  /**
   * nativeHistograms adds an integer native histogram (schema 2) per HTTP handler, fed by the same
   * observations as the classic histogram (default false: OpenMetrics text cannot carry them).
   */
  readonly nativeHistograms?: boolean;
}

/** MetricType is the OpenMetrics type of a generated metric family. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** FloatSeries is one generated float series: `values[i]` is its value at scrape step i. */
export interface FloatSeries {
  readonly labels: Labels;
  readonly values: Float64Array;
}

/**
 * NativeHistogramSeries is one generated integer native histogram series with a single positive
 * span of `length` buckets starting at bucket index `offset`: `buckets[i * length + k]` is the
 * absolute count of bucket k at step i.
 */
export interface NativeHistogramSeries {
  readonly labels: Labels;
  readonly schema: number;
  readonly offset: number;
  readonly length: number;
  readonly buckets: Float64Array;
  readonly count: Float64Array;
  readonly sum: Float64Array;
}

/** FamilyGroup is the part of one metric family generated for one host. */
export interface FamilyGroup {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** floats in the family's output order (for histograms: every bucket, then _count and _sum). */
  readonly floats: readonly FloatSeries[];
  /** histograms is empty unless nativeHistograms is set. */
  readonly histograms: readonly NativeHistogramSeries[];
}

const DEFAULT_START_SEC = 1_767_225_600;
const NATIVE_SCHEMA = 2;
const MODES = ['user', 'system', 'idle', 'iowait'];
const CPUS = 4;
const HANDLERS = [
  { path: '/api/v1/query', median: 0.08 },
  { path: '/api/v1/query_range', median: 0.3 },
  { path: '/api/v1/series', median: 0.02 },
];
const CODES = ['200', '400', '500'];
const LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LE_TEXT = [...LE.map(String), '+Inf'];
const SIGMA = 1.1;

interface HostState {
  readonly index: number;
  readonly instance: string;
  readonly r: () => number;
}

/**
 * DataSet is a deterministic, realistic monitoring data set shaped like node_exporter plus an HTTP
 * service: CPU counters, memory and load gauges, network counters that reset when an interface
 * restarts, request counters and a classic latency histogram (optionally also a native one) whose
 * process restarts now and then (counter resets). Values are generated for every scrape step on
 * every replica, so replicas agree wherever both scraped; `timestamps` says when this replica
 * scraped (NaN where it missed a scrape).
 */
export class DataSet {
  readonly hosts: number;
  readonly intervalSec: number;
  readonly startSec: number;
  readonly replica: string;
  readonly seed: number;
  readonly nativeHistograms: boolean;
  /** steps is the number of scrape steps of the data set. */
  readonly steps: number;
  /** timestamps[i] is this replica's scrape time of step i in ms, NaN where it missed the scrape. */
  readonly timestamps: Float64Array;
  /** gap is the [fromMs, toMs) window of nominal scrape times this replica missed, if any. */
  readonly gap: { readonly fromMs: number; readonly toMs: number } | undefined;
  readonly #resetEvery: number;

  constructor(opts: DataSetOptions = {}) {
    this.hosts = opts.hosts ?? 20;
    const hours = opts.hours ?? 4;
    this.intervalSec = opts.intervalSec ?? 15;
    this.startSec = opts.startSec ?? DEFAULT_START_SEC;
    this.replica = opts.replica ?? 'a';
    this.seed = opts.seed ?? 42;
    this.nativeHistograms = opts.nativeHistograms ?? false;
    if (!Number.isInteger(this.hosts) || this.hosts < 1) throw new DataGenError(`generate data set: hosts ${this.hosts} is not a positive integer`);
    if (!Number.isInteger(this.intervalSec) || this.intervalSec < 1) throw new DataGenError(`generate data set: interval ${this.intervalSec}s is not a positive whole number of seconds`);
    if (!(hours > 0) || !Number.isFinite(hours)) throw new DataGenError(`generate data set: hours ${hours} is not positive`);
    if (!Number.isInteger(this.startSec)) throw new DataGenError(`generate data set: start ${this.startSec} is not whole unix seconds`);
    if (!Number.isInteger(this.seed)) throw new DataGenError(`generate data set: seed ${this.seed} is not an integer`);
    if (this.replica === '') throw new DataGenError('generate data set: empty replica name');
    this.steps = Math.floor((hours * 3600) / this.intervalSec + 1e-9); // hours may come from a ms difference
    if (this.steps < 1) throw new DataGenError(`generate data set: ${hours} hours hold no scrape at a ${this.intervalSec}s interval`);
    // A process restart every 90 minutes (at least every other step), staggered by host.
    this.#resetEvery = Math.max(2, Math.round(5400 / this.intervalSec));

    const shifted = this.replica !== 'a';
    const gapFrom = Math.floor(this.steps * 0.5);
    const gapTo = gapFrom + Math.floor(600 / this.intervalSec);
    const startMs = this.startSec * 1000;
    const step = this.intervalSec * 1000;
    this.gap = shifted ? { fromMs: startMs + gapFrom * step, toMs: startMs + gapTo * step } : undefined;
    this.timestamps = new Float64Array(this.steps);
    for (let i = 0; i < this.steps; i++) {
      if (shifted && i >= gapFrom && i < gapTo) this.timestamps[i] = NaN;
      else this.timestamps[i] = startMs + i * step + (shifted ? 250 + ((i * 37) % 400) : 0);
    }
  }

  /** startMs is the nominal time of step 0. */
  get startMs(): number {
    return this.startSec * 1000;
  }

  /** endMs is the nominal end of the data set (exclusive): the time step `steps` would have. */
  get endMs(): number {
    return (this.startSec + this.steps * this.intervalSec) * 1000;
  }

  /** lastNominalMs is the nominal time of the last step (replica 'a' scrapes exactly then). */
  get lastNominalMs(): number {
    return (this.startSec + (this.steps - 1) * this.intervalSec) * 1000;
  }

  /**
   * families generates the data set family by family, host by host (each call starts over and
   * yields the same values). Holds one group's values in memory at a time.
   */
  *families(): Generator<FamilyGroup> {
    const hosts: HostState[] = Array.from({ length: this.hosts }, (_, h) => ({
      index: h,
      instance: `host-${String(h).padStart(4, '0')}:9100`,
      r: rng(this.seed * 7919 + h),
    }));
    const families: [string, MetricType, string, (host: HostState) => Pick<FamilyGroup, 'floats' | 'histograms'>][] = [
      ['node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.', (host) => this.#cpu(host)],
      ['node_memory_MemAvailable_bytes', 'gauge', 'Memory information field MemAvailable_bytes.', (host) => this.#memory(host)],
      ['node_load1', 'gauge', '1m load average.', (host) => this.#load(host)],
      ['node_network_receive_bytes_total', 'counter', 'Network device statistic receive_bytes.', (host) => this.#network(host)],
      ['up', 'gauge', 'Whether the target was reachable.', (host) => ({ floats: [this.#series({ __name__: 'up', instance: host.instance, job: 'node' }, () => 1)], histograms: [] })],
      ['http_requests_total', 'counter', 'HTTP requests served, by handler and status code.', (host) => this.#requests(host)],
      ['http_request_duration_seconds', 'histogram', 'HTTP request latencies.', (host) => this.#latency(host)],
    ];
    for (const [name, type, help, gen] of families) {
      for (const host of hosts) yield { name, type, help, ...gen(host) };
    }
  }

  /**
   * histogramAt fills h with step i of a native histogram series (h is overwritten, its arrays
   * reused) and returns it.
   */
  histogramAt(s: NativeHistogramSeries, i: number, h: FloatHistogram = new FloatHistogram()): FloatHistogram {
    h.schema = s.schema;
    h.zeroThreshold = 2 ** -128;
    h.zeroCount = 0;
    h.count = s.count[i]!;
    h.sum = s.sum[i]!;
    const span = h.positiveSpans[0];
    if (h.positiveSpans.length === 1 && span !== undefined) {
      span.offset = s.offset;
      span.length = s.length;
    } else h.positiveSpans = [{ offset: s.offset, length: s.length }];
    h.positiveBuckets.length = s.length;
    for (let k = 0; k < s.length; k++) h.positiveBuckets[k] = s.buckets[i * s.length + k]!;
    h.negativeSpans.length = 0;
    h.negativeBuckets.length = 0;
    h.customValues.length = 0;
    return h;
  }

  #restart(host: HostState, i: number, salt: number): boolean {
    return i > 0 && (i + host.index * 131 + salt) % this.#resetEvery === 0;
  }

  #series(labels: Record<string, string>, value: (i: number) => number): FloatSeries {
    const values = new Float64Array(this.steps);
    for (let i = 0; i < this.steps; i++) values[i] = value(i);
    return { labels: Labels.fromRecord(labels), values };
  }

  /** Generates several series step-major (they share the host's PRNG in that order). */
  #stepMajor(labels: Record<string, string>[], next: (i: number, k: number) => number): FloatSeries[] {
    const values = labels.map(() => new Float64Array(this.steps));
    for (let i = 0; i < this.steps; i++) for (let k = 0; k < labels.length; k++) values[k]![i] = next(i, k);
    return labels.map((l, k) => ({ labels: Labels.fromRecord(l), values: values[k]! }));
  }

  #cpu(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    const labels: Record<string, string>[] = [];
    for (let c = 0; c < CPUS; c++) for (const mode of MODES) labels.push({ __name__: 'node_cpu_seconds_total', cpu: String(c), instance: host.instance, job: 'node', mode });
    const acc = new Float64Array(labels.length);
    const iv = this.intervalSec;
    const floats = this.#stepMajor(labels, (_i, k) => {
      const rate = MODES[k % MODES.length] === 'idle' ? 0.7 : 0.1;
      acc[k] = acc[k]! + rate * iv * (0.5 + host.r());
      return Math.round(acc[k]! * 100) / 100;
    });
    return { floats, histograms: [] };
  }

  #memory(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    let v = 6e9 + host.r() * 4e9;
    const s = this.#series({ __name__: 'node_memory_MemAvailable_bytes', instance: host.instance, job: 'node' }, () => {
      v = Math.max(1e8, v + (host.r() - 0.5) * 5e7);
      return Math.round(v);
    });
    return { floats: [s], histograms: [] };
  }

  #load(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    const base = 0.5 + host.r() * 2;
    const period = 3600 / this.intervalSec;
    const s = this.#series({ __name__: 'node_load1', instance: host.instance, job: 'node' }, (i) => {
      const v = base * (1 + 0.6 * Math.sin((2 * Math.PI * i) / period)) + host.r() * 0.3;
      return Math.round(v * 100) / 100;
    });
    return { floats: [s], histograms: [] };
  }

  #network(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    const devices = ['eth0', 'lo'];
    const labels = devices.map((device) => ({ __name__: 'node_network_receive_bytes_total', device, instance: host.instance, job: 'node' }));
    const acc = new Float64Array(devices.length);
    const resets = host.index % 5 === 0; // these hosts' interfaces restart now and then
    const floats = this.#stepMajor(labels, (i, k) => {
      if (resets && this.#restart(host, i, 0)) acc[k] = 0;
      acc[k] = acc[k]! + Math.round((k === 0 ? 1e6 : 1e4) * this.intervalSec * (0.5 + host.r()));
      return acc[k]!;
    });
    return { floats, histograms: [] };
  }

  #apiRestarts(host: HostState): (i: number) => boolean {
    const restarts = host.index % 5 === 1; // these hosts' API process restarts now and then
    return (i) => restarts && this.#restart(host, i, 57);
  }

  #requests(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    const labels: Record<string, string>[] = [];
    for (const h of HANDLERS) for (const code of CODES) labels.push({ __name__: 'http_requests_total', code, handler: h.path, instance: host.instance, job: 'api' });
    const acc = new Float64Array(labels.length);
    const restart = this.#apiRestarts(host);
    const floats = this.#stepMajor(labels, (i, k) => {
      if (k === 0 && restart(i)) acc.fill(0);
      const rate = CODES[k % CODES.length] === '200' ? 20 : 0.5;
      acc[k] = acc[k]! + Math.round(rate * this.intervalSec * (0.5 + host.r()));
      return acc[k]!;
    });
    return { floats, histograms: [] };
  }

  #latency(host: HostState): Pick<FamilyGroup, 'floats' | 'histograms'> {
    const floats: FloatSeries[] = [];
    const histograms: NativeHistogramSeries[] = [];
    const restart = this.#apiRestarts(host);
    const name = 'http_request_duration_seconds';
    for (const h of HANDLERS) {
      const base = { handler: h.path, instance: host.instance, job: 'api' };
      const meanLatency = h.median * Math.exp((SIGMA * SIGMA) / 2);
      const classicCdf = LE.map((le) => logNormalCdf(le, h.median, SIGMA));
      // Native buckets (schema 2: bucket k covers (2^((k-1)/4), 2^(k/4)]) where the distribution
      // has mass; observations beyond them are clamped into the first or last bucket.
      const factor = 2 ** (2 ** -NATIVE_SCHEMA);
      let lo = Math.floor(Math.log(h.median) / Math.log(factor));
      while (logNormalCdf(factor ** (lo - 1), h.median, SIGMA) > 1e-4) lo--;
      let hi = lo;
      while (logNormalCdf(factor ** hi, h.median, SIGMA) < 1 - 1e-4) hi++;
      const nb = hi - lo + 1;
      const nativeCdf = Array.from({ length: nb }, (_, k) => (k === nb - 1 ? 1 : logNormalCdf(factor ** (lo + k), h.median, SIGMA)));

      const bucketVals = LE_TEXT.map(() => new Float64Array(this.steps));
      const countVals = new Float64Array(this.steps);
      const sumVals = new Float64Array(this.steps);
      const native = this.nativeHistograms ? new Float64Array(this.steps * nb) : undefined;
      const cum = new Float64Array(LE_TEXT.length);
      const nat = new Float64Array(nb);
      let count = 0;
      let sum = 0;
      for (let i = 0; i < this.steps; i++) {
        if (restart(i)) {
          cum.fill(0);
          nat.fill(0);
          count = 0;
          sum = 0;
        }
        const n = Math.round(20 * this.intervalSec * (0.5 + host.r()));
        count += n;
        sum += n * meanLatency * (0.8 + 0.4 * host.r());
        for (let b = 0; b < LE.length; b++) cum[b] = cum[b]! + Math.floor(n * classicCdf[b]!);
        cum[LE.length] = count;
        for (let b = 0; b < cum.length; b++) bucketVals[b]![i] = cum[b]!;
        countVals[i] = count;
        sumVals[i] = Math.round(sum * 1000) / 1000;
        if (native !== undefined) {
          let prev = 0;
          for (let k = 0; k < nb; k++) {
            const upTo = k === nb - 1 ? n : Math.floor(n * nativeCdf[k]!);
            nat[k] = nat[k]! + (upTo - prev);
            prev = upTo;
            native[i * nb + k] = nat[k]!;
          }
        }
      }
      LE_TEXT.forEach((le, b) => floats.push({ labels: Labels.fromRecord({ __name__: `${name}_bucket`, ...base, le }), values: bucketVals[b]! }));
      floats.push({ labels: Labels.fromRecord({ __name__: `${name}_count`, ...base }), values: countVals });
      floats.push({ labels: Labels.fromRecord({ __name__: `${name}_sum`, ...base }), values: sumVals });
      if (native !== undefined) {
        histograms.push({ labels: Labels.fromRecord({ __name__: name, ...base }), schema: NATIVE_SCHEMA, offset: lo, length: nb, buckets: native, count: countVals, sum: sumVals });
      }
    }
    return { floats, histograms };
  }
}
