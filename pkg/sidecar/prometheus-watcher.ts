import { Labels } from '../labels/index.js';
import { Gauge, Registry } from 'prom-client';
import { SidecarError, SidecarErrorCode } from './errors.js';
import { nopLogger, type Logger } from './logger.js';
import { parsePromDuration } from './prom-duration.js';
import type { PrometheusClient } from './prometheus-client.js';

const MIN_INT64 = -9223372036854775808;

/** PrometheusWatcherOptions configures a PrometheusWatcher. */
export interface PrometheusWatcherOptions {
  readonly client: PrometheusClient;
  /** minTime is the `--min-time` floor in ms (default: none). */
  readonly minTime?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** BlockFlags are the TSDB flags of Prometheus the shipper depends on (ms; undefined = unknown). */
export interface BlockFlags {
  readonly minBlockDuration: number | undefined;
  readonly maxBlockDuration: number | undefined;
  readonly retention: string | undefined;
  readonly tsdbPath: string | undefined;
}

/**
 * PrometheusWatcher keeps what the sidecar knows about its Prometheus up to date: external labels
 * (from /api/v1/status/config), the oldest timestamp served (from /metrics, floored by --min-time)
 * and whether Prometheus answered the last heartbeat. Reads are synchronous snapshots; `refresh`
 * is the heartbeat. A failed heartbeat keeps the last known labels and marks Prometheus down.
 */
export class PrometheusWatcher {
  readonly #client: PrometheusClient;
  readonly #minTimeFloor: number;
  readonly #logger: Logger;
  #ext: Labels = Labels.EMPTY;
  #lowest: number | undefined;
  #up = false;
  #loaded = false;
  readonly #upGauge: Gauge;

  constructor(opts: PrometheusWatcherOptions) {
    this.#client = opts.client;
    this.#minTimeFloor = opts.minTime ?? MIN_INT64;
    this.#logger = opts.logger ?? nopLogger;
    this.#upGauge = new Gauge({ name: 'thanos_sidecar_prometheus_up', help: 'Boolean indicator whether the sidecar can reach its Prometheus peer.', registers: [opts.registry ?? new Registry()] });
  }

  /** externalLabels returns the last external labels read from Prometheus. */
  externalLabels(): Labels {
    return this.#ext;
  }

  /** minTime is max(lowest timestamp in Prometheus, --min-time); MinInt64 floor when Prometheus has no data. */
  minTime(): number {
    return Math.max(this.#lowest ?? MIN_INT64, this.#minTimeFloor);
  }

  /** isUp reports whether the last heartbeat reached Prometheus. */
  isUp(): boolean {
    return this.#up;
  }

  /** loaded reports whether external labels were read at least once. */
  loaded(): boolean {
    return this.#loaded;
  }

  /**
   * refresh reads external labels and the lowest timestamp. It throws when Prometheus cannot be
   * reached, and with code Config when Prometheus has no external labels.
   */
  async refresh(signal?: AbortSignal): Promise<void> {
    try {
      const ext = await this.#client.externalLabels(signal);
      const lowest = await this.#client.lowestTimestamp(signal);
      if (!ext.equals(this.#ext) && this.#loaded) this.#logger.warn('Prometheus external labels changed', { from: this.#ext.toString(), to: ext.toString() });
      this.#ext = ext;
      this.#lowest = lowest;
      this.#loaded = true;
      this.#setUp(true);
    } catch (err) {
      this.#setUp(false);
      throw err;
    }
    if (this.#ext.isEmpty()) {
      throw new SidecarError(SidecarErrorCode.Config, `no external labels configured on Prometheus at ${this.#client.url}; uniquely identifying external labels must be configured (global.external_labels)`);
    }
  }

  #setUp(up: boolean): void {
    if (up !== this.#up) this.#logger.info(up ? 'Prometheus is reachable' : 'Prometheus is unreachable');
    this.#up = up;
    this.#upGauge.set(up ? 1 : 0);
  }

  /**
   * waitReady retries refresh every retryMs until it succeeds (Prometheus reachable, ready and with
   * external labels) or timeoutMs passes, then throws the last error.
   */
  async waitReady(timeoutMs: number, signal?: AbortSignal, retryMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      try {
        if (!(await this.#client.isReady(signal))) throw new SidecarError(SidecarErrorCode.PrometheusUnavailable, `Prometheus at ${this.#client.url} is not ready`);
        await this.refresh(signal);
        return;
      } catch (err) {
        if (Date.now() + retryMs > deadline) throw err;
        this.#logger.info('waiting for Prometheus', { err });
        await sleep(retryMs, signal);
      }
    }
  }

  /** blockFlags reads the TSDB flags from /api/v1/status/flags (undefined for a Prometheus without the endpoint). */
  async blockFlags(signal?: AbortSignal): Promise<BlockFlags | undefined> {
    const f = await this.#client.flags(signal);
    if (f === undefined) return undefined;
    const dur = (k: string): number | undefined => (f[k] === undefined ? undefined : parsePromDuration(f[k]));
    return {
      minBlockDuration: dur('storage.tsdb.min-block-duration'),
      maxBlockDuration: dur('storage.tsdb.max-block-duration'),
      retention: f['storage.tsdb.retention.time'] ?? f['storage.tsdb.retention'],
      tsdbPath: f['storage.tsdb.path'],
    };
  }

  /** run refreshes every intervalMs until signal aborts; failures are logged, never thrown. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(intervalMs, signal).catch(() => {});
      if (signal.aborted) return;
      try {
        await this.refresh(signal);
      } catch (err) {
        if (!signal.aborted) this.#logger.warn('heartbeat to Prometheus', { err });
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
