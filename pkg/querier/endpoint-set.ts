import type { Labels } from '../labels/index.js';
import type { ProxyTarget, StoreClient } from '../store/index.js';
import type { InfoResponse, RuleGroupProto, RulesRequest } from '../storepb/index.js';
import type { StoreCallOptions } from '../store/index.js';

/** EndpointClient is a StoreAPI client that can be closed (a gRPC channel). */
export interface EndpointClient extends StoreClient {
  close(): void;
  /**
   * resetBackoff, when the client has it, ends any reconnect backoff so that the next call
   * connects at once (see GrpcStoreClient.resetBackoff).
   */
  resetBackoff?(): unknown;
  /** rules calls Thanos's Rules API (thanos.Rules/Rules) when the client speaks it. */
  rules?(req: RulesRequest, opts?: StoreCallOptions): Promise<{ groups: RuleGroupProto[]; warnings: string[] }>;
}

/** EndpointStatus is what the querier knows about one endpoint (shown in /api/v1/stores-like views). */
export interface EndpointStatus {
  readonly address: string;
  readonly healthy: boolean;
  readonly componentType: string;
  readonly labelSets: readonly Labels[];
  readonly minTime: number;
  readonly maxTime: number;
  readonly lastCheckMs: number;
  readonly lastError: string | undefined;
}

/** EndpointSetOptions configure an EndpointSet. */
export interface EndpointSetOptions {
  /** addresses returns the current endpoint addresses (from EndpointDiscovery). */
  readonly addresses: () => readonly string[];
  /** newClient opens a client for an address. */
  readonly newClient: (address: string) => EndpointClient;
  /** infoTimeoutMs bounds each Info call (Thanos --endpoint.info-timeout, 5s). */
  readonly infoTimeoutMs?: number;
  /**
   * unhealthyTimeoutMs: an endpoint whose Info has failed for this long is no longer listed by
   * status() (Thanos --store.unhealthy-timeout, 5m: it only clears the /stores page). Queries
   * leave an endpoint out as soon as its last Info check failed, whatever this is.
   */
  readonly unhealthyTimeoutMs?: number;
  readonly now?: () => number;
  readonly onChange?: (address: string, healthy: boolean, err?: Error) => void;
}

interface Entry {
  client: EndpointClient;
  info: InfoResponse | undefined;
  healthy: boolean;
  lastCheck: number;
  lastSuccess: number;
  firstFailure: number | undefined;
  lastError: string | undefined;
}

/**
 * EndpointSet keeps one client per discovered endpoint, polls each with Info, and offers the
 * current ProxyTargets. As in Thanos, an endpoint is a query target only while its last Info call
 * succeeded: one that never answered is never queried, one whose check fails is left out of
 * queries from then on and comes back after its next successful check. The unhealthy timeout only
 * bounds how long a failing endpoint stays listed by status().
 */
export class EndpointSet {
  readonly #opts: EndpointSetOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #updating: Promise<void> | undefined;

  constructor(opts: EndpointSetOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** update reconciles the clients with the current addresses and polls every endpoint's Info once. */
  update(): Promise<void> {
    this.#updating ??= this.#update().finally(() => (this.#updating = undefined));
    return this.#updating;
  }

  async #update(): Promise<void> {
    const want = new Set(this.#opts.addresses());
    for (const [addr, e] of this.#entries) {
      if (!want.has(addr)) {
        e.client.close();
        this.#entries.delete(addr);
      }
    }
    for (const addr of want) {
      if (!this.#entries.has(addr)) {
        this.#entries.set(addr, {
          client: this.#opts.newClient(addr),
          info: undefined,
          healthy: false,
          lastCheck: 0,
          lastSuccess: 0,
          firstFailure: undefined,
          lastError: undefined,
        });
      }
    }
    await Promise.all([...this.#entries].map(([addr, e]) => this.#poll(addr, e)));
  }

  async #poll(addr: string, e: Entry): Promise<void> {
    const now = this.#now();
    e.lastCheck = now;
    // An endpoint that failed its last check (e.g. a restarted store) is probed with a fresh
    // connection, not after gRPC's growing reconnect backoff: once it is back, the next check
    // (at most one interval later) finds it and queries use it again.
    // A healthy endpoint whose check fails gets one retry on a fresh connection too: its channel
    // may still be in backoff from a restart between two checks, and the failed check would
    // otherwise leave it out of queries for a whole interval.
    if (!e.healthy) e.client.resetBackoff?.();
    const info = () => e.client.info({ timeoutMs: this.#opts.infoTimeoutMs ?? 5000 });
    try {
      e.info = await info().catch((err: unknown) => {
        if (!e.healthy || e.client.resetBackoff === undefined) throw err;
        e.client.resetBackoff();
        return info();
      });
      if (!e.healthy) this.#opts.onChange?.(addr, true);
      e.healthy = true;
      e.lastSuccess = now;
      e.firstFailure = undefined;
      e.lastError = undefined;
    } catch (err) {
      if (e.healthy || e.firstFailure === undefined) this.#opts.onChange?.(addr, false, err as Error);
      e.healthy = false;
      e.firstFailure ??= now;
      e.lastError = (err as Error).message;
    }
  }

  /** start polls now and then every intervalMs until stop(). */
  async start(intervalMs = 5000): Promise<void> {
    await this.update();
    this.#timer = setInterval(() => void this.update(), intervalMs).unref();
  }

  /** stop ends polling and closes every client. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const e of this.#entries.values()) e.client.close();
    this.#entries.clear();
  }

  /** targets returns the endpoints the proxy should consider for a query. */
  targets(): ProxyTarget[] {
    const out: ProxyTarget[] = [];
    for (const e of this.#entries.values()) {
      if (!e.healthy || e.info === undefined) continue; // last Info check failed, or none yet
      const store = e.info.store;
      if (store === undefined) continue; // not a StoreAPI (e.g. rules only)
      out.push({
        client: e.client,
        labelSets: e.info.labelSets,
        minTime: store.minTime,
        maxTime: store.maxTime,
        supportsWithoutReplicaLabels: store.supportsWithoutReplicaLabels ?? false,
      });
    }
    return out;
  }

  /**
   * rulesClients returns the clients of endpoints that advertise the Rules API in Info (`rules`)
   * and whose last Info check succeeded.
   */
  rulesClients(): EndpointClient[] {
    const out: EndpointClient[] = [];
    for (const e of this.#entries.values()) {
      if (!e.healthy || e.info?.rules !== true || e.client.rules === undefined) continue;
      out.push(e.client);
    }
    return out;
  }

  /**
   * status describes every endpoint, except one whose Info has failed for longer than the
   * unhealthy timeout (Thanos drops those from its /stores page).
   */
  status(): EndpointStatus[] {
    const now = this.#now();
    const dropAfter = this.#opts.unhealthyTimeoutMs ?? 5 * 60_000;
    return [...this.#entries]
      .filter(([, e]) => e.healthy || e.firstFailure === undefined || now - e.firstFailure <= dropAfter)
      .map(([address, e]) => ({
      address,
      healthy: e.healthy,
      componentType: e.info?.componentType ?? '',
      labelSets: e.info?.labelSets ?? [],
      minTime: e.info?.store?.minTime ?? 0,
      maxTime: e.info?.store?.maxTime ?? 0,
      lastCheckMs: e.lastCheck,
      lastError: e.lastError,
    }));
  }

  /** ready reports whether at least one endpoint has answered Info. */
  ready(): boolean {
    for (const e of this.#entries.values()) if (e.healthy) return true;
    return false;
  }
}
