/** DownstreamResponse is a downstream answer read whole. */
export interface DownstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** DownstreamOptions configure Downstream. */
export interface DownstreamOptions {
  /** url is the downstream querier's base URL (--query-frontend.downstream-url), path prefix kept. */
  readonly url: string;
  /** maxTries is --query-range.max-retries-per-request: attempts per request (at least 1). */
  readonly maxTries: number;
  readonly onRetry?: (err: string) => void;
}

/**
 * Downstream sends requests to the querier behind the frontend. A request that fails to connect
 * or answers 5xx is tried again, up to maxTries in all; 4xx answers are final (the query itself
 * is wrong). The last failure is returned (5xx) or thrown (network error).
 */
export class Downstream {
  readonly #base: string;
  readonly #opts: DownstreamOptions;

  constructor(opts: DownstreamOptions) {
    this.#opts = opts;
    const u = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.url) ? opts.url : `http://${opts.url}`;
    this.#base = u.replace(/\/+$/, '');
  }

  get baseUrl(): string {
    return this.#base;
  }

  async request(method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer): Promise<DownstreamResponse> {
    const tries = Math.max(1, this.#opts.maxTries);
    let lastErr: unknown;
    for (let i = 0; i < tries; i++) {
      if (i > 0) this.#opts.onRetry?.(lastErr instanceof Error ? lastErr.message : String(lastErr));
      try {
        const res = await fetch(this.#base + pathAndQuery, {
          method,
          headers,
          redirect: 'manual',
          ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}),
        });
        const buf = Buffer.from(await res.arrayBuffer());
        const out = { status: res.status, headers: res.headers, body: buf };
        if (res.status < 500 || i === tries - 1) return out;
        lastErr = new Error(`downstream answered ${res.status}`);
      } catch (err) {
        lastErr = err;
        if (i === tries - 1) throw err;
      }
    }
    throw lastErr;
  }
}
