import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { BlocksInfo, closeHttp, createBucketWebApp, createHttpServer, type BucketBlocksView, type MarkAction, type WebConfig } from '../api/index.js';
import { nopLogger, type Logger } from '../block/index.js';
import type { BucketLease } from './bucket-lease.js';
import type { Compactor, PassResult } from './compactor.js';

/** Options of a CompactService. */
export interface CompactServiceOptions {
  readonly compactor: Compactor;
  readonly lease: BucketLease;
  /** wait keeps running a pass every intervalMs (and serves HTTP); otherwise one pass, then stop. */
  readonly wait: boolean;
  readonly intervalMs: number;
  /** cleanupIntervalMs runs cleanup between passes when waiting (0 = only at the end of a pass). */
  readonly cleanupIntervalMs?: number;
  /** httpHost/httpPort serve /metrics, /-/healthy and /-/ready while waiting. */
  readonly httpHost?: string;
  readonly httpPort?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** webConfig: TLS, basic auth and headers of the HTTP server (--http.config). */
  readonly webConfig?: WebConfig;
  /**
   * blocksView, when set, is the bucket's block view served at /api/v1/blocks and in the bucket UI
   * while waiting (refreshed on its own interval, --block-viewer.global.sync-block-interval).
   */
  readonly blocksView?: BucketBlocksView;
  /** mark serves POST /api/v1/blocks/mark (left out with --disable-admin-operations). */
  readonly mark?: (id: string, action: MarkAction, detail: string) => Promise<void>;
  /** routePrefix / externalPrefix of the HTTP endpoints and UI links (--web.route-prefix, --web.external-prefix). */
  readonly routePrefix?: string;
  readonly externalPrefix?: string;
  /** httpGracePeriodMs is how long requests in flight get to finish at shutdown (--http-grace-period; default 2 min). */
  readonly httpGracePeriodMs?: number;
}

/**
 * CompactService runs the compactor the way `tessera compact` does: take the bucket lease (wait
 * for it with `wait`, else fail at once naming the holder), then one pass, or a pass every
 * interval serving /metrics, /-/ready (ready once the lease is held), /api/v1/blocks and the
 * bucket UI.
 * A failed pass is logged and retried at the next interval; the lease is renewed in the
 * background and released at the end.
 */
export class CompactService {
  readonly #o: CompactServiceOptions;
  readonly #logger: Logger;
  #http: Server | undefined;
  #ready = false;
  /** httpPort is the bound HTTP port once serving. */
  httpPort = 0;

  constructor(opts: CompactServiceOptions) {
    this.#o = opts;
    this.#logger = opts.logger ?? nopLogger;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /**
   * run runs until done (one pass without wait) or until signal aborts. Resolves with the result
   * of the last pass; rejects when the lease is held by someone else (without wait) or the single
   * pass fails.
   */
  async run(signal: AbortSignal): Promise<PassResult | undefined> {
    const { lease, compactor } = this.#o;
    if (this.#o.wait) await this.#startHttp();
    try {
      await lease.acquire({ wait: this.#o.wait, signal });
      this.#ready = true;
      if (!this.#o.wait) return await compactor.runOnce(signal);
      let last: PassResult | undefined;
      while (!signal.aborted) {
        if (!lease.held()) await lease.acquire({ wait: true, signal });
        try {
          last = await compactor.runOnce(signal);
          this.#logger.info('compaction pass done', { compactions: last.compactions, marked: last.markedForDeletion, deleted: last.deleted, quarantined: last.quarantined.length, failedGroups: last.failedGroups.length });
        } catch (err) {
          if (signal.aborted) break;
          compactor.metrics.retries.inc();
          this.#logger.error('compaction pass failed; retrying at the next interval', { err });
        }
        await this.#idle(signal);
      }
      return last;
    } catch (err) {
      if (signal.aborted) return undefined;
      throw err;
    } finally {
      await lease.release();
      await this.#stopHttp();
    }
  }

  /** Waits one interval, running cleanup every cleanup interval meanwhile. */
  async #idle(signal: AbortSignal): Promise<void> {
    const end = Date.now() + this.#o.intervalMs;
    const every = this.#o.cleanupIntervalMs ?? 0;
    // Cleanup runs every cleanup interval while idle (and at the end of every pass).
    try {
      while (!signal.aborted && Date.now() < end) {
        const step = every > 0 ? Math.min(every, end - Date.now()) : end - Date.now();
        await sleep(Math.max(0, step), undefined, { signal });
        if (every > 0 && Date.now() < end && this.#o.lease.held()) {
          await this.#o.compactor.cleanup(signal).catch((err: unknown) => this.#logger.warn('cleanup between passes', { err }));
        }
      }
    } catch {
      // Aborted.
    }
  }

  async #startHttp(): Promise<void> {
    const o = this.#o;
    const view = o.blocksView;
    const app = createBucketWebApp({
      global: view !== undefined ? view.info : new BlocksInfo(),
      name: 'Tessera Compactor',
      ready: () => this.#ready,
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.mark !== undefined ? { mark: o.mark } : {}),
      ...(o.routePrefix !== undefined ? { routePrefix: o.routePrefix } : {}),
      ...(o.externalPrefix !== undefined ? { externalPrefix: o.externalPrefix } : {}),
    });
    // The view refreshes in the background: the first refresh must not hold up the compaction.
    void view?.start();
    const srv = createHttpServer(app, this.#o.webConfig);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.#o.httpPort ?? 10902, this.#o.httpHost ?? '0.0.0.0', () => {
        srv.off('error', reject);
        resolve();
      });
    });
    this.#http = srv;
    this.httpPort = (srv.address() as AddressInfo).port;
    this.#logger.info('listening for HTTP', { address: `${this.#o.httpHost ?? '0.0.0.0'}:${this.httpPort}` });
  }

  async #stopHttp(): Promise<void> {
    await this.#o.blocksView?.stop();
    const srv = this.#http;
    this.#http = undefined;
    if (srv === undefined) return;
    // No new connections; idle ones close now, requests in flight get the grace period.
    await closeHttp(srv, this.#o.httpGracePeriodMs ?? 120_000);
  }
}
