import type { AlertmanagerAlert } from './alertmanager-payload.js';
import { fetchRequest, toHttpTarget, type HttpTarget } from './http-target.js';

/** AlertmanagerSenderOptions configure where and how alerts are posted. */
export interface AlertmanagerSenderOptions {
  /**
   * Alertmanager base URLs including any path prefix (`http://am:9093`, `http://am/prefix`), or
   * targets with their own HTTP client and timeout; a function gives the current list (discovery).
   */
  readonly urls: readonly (string | HttpTarget)[] | (() => readonly (string | HttpTarget)[]);
  /** per-request timeout, ms (Thanos --alertmanagers.send-timeout, 10s). */
  readonly timeoutMs?: number;
  /** alerts per POST (Thanos 100, Prometheus 64/256). */
  readonly batchSize?: number;
  /** queued alerts kept at most; the oldest are dropped beyond it (10 000). */
  readonly capacity?: number;
  readonly userAgent?: string;
  /** first and longest wait between retries of a batch no Alertmanager accepted, ms. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** waits ms or until the signal aborts (injectable for tests). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onError?: (url: string, err: Error) => void;
}

/** AlertmanagerSenderStats count what happened to queued alerts. */
export interface AlertmanagerSenderStats {
  sent: number;
  dropped: number;
  failedPosts: number;
  retries: number;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * AlertmanagerSender queues alerts and POSTs them in batches to `/api/v2/alerts` of every
 * Alertmanager in parallel. A batch counts as delivered when at least one Alertmanager answers
 * 2xx (as Thanos and Prometheus < 3.10); when none does, the batch is retried with exponential
 * backoff while new alerts keep queueing behind it.
 */
export class AlertmanagerSender {
  readonly stats: AlertmanagerSenderStats = { sent: 0, dropped: 0, failedPosts: 0, retries: 0 };
  private queue: AlertmanagerAlert[] = [];
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: AlertmanagerSenderOptions) {}

  /** send queues alerts for delivery and returns at once. */
  send(alerts: readonly AlertmanagerAlert[]): void {
    if (this.abort.signal.aborted || alerts.length === 0) return;
    this.queue.push(...alerts);
    const cap = this.opts.capacity ?? 10_000;
    if (this.queue.length > cap) {
      this.stats.dropped += this.queue.length - cap;
      this.queue = this.queue.slice(this.queue.length - cap);
    }
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0 && !this.abort.signal.aborted) this.send([]);
      else for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** idle resolves once the queue is empty and nothing is in flight. */
  idle(): Promise<void> {
    if (this.running === undefined && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** close stops sending; queued alerts are dropped. */
  close(): void {
    this.abort.abort();
    this.queue = [];
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async loop(): Promise<void> {
    const sleep = this.opts.sleep ?? defaultSleep;
    let backoff = this.opts.minBackoffMs ?? 100;
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const batch = this.queue.slice(0, this.opts.batchSize ?? 100);
      if (await this.post(batch)) {
        // The batch may have been trimmed by overflow while in flight: drop what is still queued of it.
        const n = batch.filter((a) => this.queue.includes(a)).length;
        this.queue.splice(0, n);
        this.stats.sent += batch.length;
        backoff = this.opts.minBackoffMs ?? 100;
      } else {
        this.stats.retries++;
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 10_000);
      }
    }
  }

  private async post(batch: readonly AlertmanagerAlert[]): Promise<boolean> {
    const body = JSON.stringify(batch);
    const urls = typeof this.opts.urls === 'function' ? this.opts.urls() : this.opts.urls;
    const results = await Promise.all(
      urls.map(async (target) => {
        const t = toHttpTarget(target);
        const url = `${t.url.replace(/\/+$/, '')}/api/v2/alerts`;
        try {
          const res = await (t.request ?? fetchRequest)(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'User-Agent': this.opts.userAgent ?? 'Tessera' },
            body,
            signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(t.timeoutMs ?? this.opts.timeoutMs ?? 10_000)]),
          });
          const text = res.text;
          if (res.status < 200 || res.status >= 300) throw new Error(`POST ${url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
          return true;
        } catch (err) {
          this.stats.failedPosts++;
          this.opts.onError?.(url, err as Error);
          return false;
        }
      }),
    );
    return results.some((ok) => ok);
  }
}
