import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { defaultTripperConfig, type DownstreamTripperConfig } from './downstream-tripper-config.js';

/** DownstreamResponse is a downstream answer read whole. */
export interface DownstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** DownstreamStream is a downstream answer whose body is still to be read (or relayed). */
export interface DownstreamStream {
  readonly status: number;
  readonly headers: Headers;
  readonly body: IncomingMessage;
}

/** DownstreamOptions configure Downstream. */
export interface DownstreamOptions {
  /** url is the downstream querier's base URL (--query-frontend.downstream-url), path prefix kept. */
  readonly url: string;
  /** maxTries is --query-range.max-retries-per-request: attempts per request (at least 1). */
  readonly maxTries: number;
  readonly onRetry?: (err: string) => void;
  /** tripper is --query-frontend.downstream-tripper-config (connection pool, timeouts, TLS). */
  readonly tripper?: DownstreamTripperConfig;
}

function toHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.append(k, x);
    else out.append(k, v);
  }
  return out;
}

/** readAll reads a response body whole. */
export async function readAll(body: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * Downstream sends requests to the querier behind the frontend, over http or https (with the
 * tripper config's TLS: CA, client certificate, server name, insecure_skip_verify) on a
 * keep-alive connection pool. A request that fails to connect or answers 5xx is tried again, up
 * to maxTries in all; 4xx answers are final (the query itself is wrong). The last failure is
 * returned (5xx) or thrown (network error). `open` hands the body over unread, so a large answer
 * can be relayed without holding it in memory.
 */
export class Downstream {
  readonly #base: URL;
  readonly #baseText: string;
  readonly #opts: DownstreamOptions;
  readonly #cfg: DownstreamTripperConfig;
  readonly #agent: HttpAgent;

  constructor(opts: DownstreamOptions) {
    this.#opts = opts;
    const u = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.url) ? opts.url : `http://${opts.url}`;
    this.#baseText = u.replace(/\/+$/, '');
    this.#base = new URL(this.#baseText);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') throw new Error(`downstream URL ${opts.url}: scheme must be http or https`);
    const cfg = opts.tripper ?? defaultTripperConfig;
    this.#cfg = cfg;
    const perHost = cfg.maxIdleConnsPerHost > 0 ? cfg.maxIdleConnsPerHost : 2;
    const agentOpts = {
      keepAlive: true,
      // A free (idle) socket is closed after this; busy sockets only emit 'timeout', unheeded.
      timeout: cfg.idleConnTimeoutMs,
      maxFreeSockets: cfg.maxIdleConns > 0 ? Math.min(cfg.maxIdleConns, perHost) : perHost,
      ...(cfg.maxConnsPerHost > 0 ? { maxSockets: cfg.maxConnsPerHost } : {}),
    };
    if (this.#base.protocol === 'https:') {
      const t = cfg.tls;
      this.#agent = new HttpsAgent({
        ...agentOpts,
        ...(t?.ca !== undefined ? { ca: t.ca } : {}),
        ...(t?.cert !== undefined ? { cert: t.cert } : {}),
        ...(t?.key !== undefined ? { key: t.key } : {}),
        ...(t?.serverName !== undefined ? { servername: t.serverName } : {}),
        rejectUnauthorized: !(t?.insecureSkipVerify ?? false),
      });
    } else {
      this.#agent = new HttpAgent(agentOpts);
    }
  }

  get baseUrl(): string {
    return this.#baseText;
  }

  /** close ends the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }

  #once(method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer | undefined): Promise<DownstreamStream> {
    const url = new URL(this.#baseText + pathAndQuery);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const hasBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
    return new Promise<DownstreamStream>((resolve, reject) => {
      const req = send(url, {
        method,
        agent: this.#agent,
        headers: { ...headers, ...(hasBody ? { 'content-length': String(body.length) } : {}) },
        ...(this.#cfg.tls?.serverName !== undefined ? { servername: this.#cfg.tls.serverName } : {}),
      });
      let headerTimer: NodeJS.Timeout | undefined;
      if (this.#cfg.responseHeaderTimeoutMs > 0) {
        headerTimer = setTimeout(() => req.destroy(new Error(`timeout awaiting response headers after ${this.#cfg.responseHeaderTimeoutMs} ms`)), this.#cfg.responseHeaderTimeoutMs);
      }
      req.on('socket', (socket) => {
        const tls = socket as TLSSocket;
        if (url.protocol !== 'https:' || !socket.connecting) return;
        const t = setTimeout(() => req.destroy(new Error(`TLS handshake timeout after ${this.#cfg.tlsHandshakeTimeoutMs} ms`)), this.#cfg.tlsHandshakeTimeoutMs);
        tls.once('secureConnect', () => clearTimeout(t));
        tls.once('close', () => clearTimeout(t));
      });
      req.on('response', (res) => {
        clearTimeout(headerTimer);
        resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.headers), body: res });
      });
      req.on('error', (err) => {
        clearTimeout(headerTimer);
        reject(err);
      });
      req.end(hasBody ? body : undefined);
    });
  }

  /** open sends the request (with retries) and returns the answer with its body unread. */
  async open(method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer): Promise<DownstreamStream> {
    const tries = Math.max(1, this.#opts.maxTries);
    let lastErr: unknown;
    for (let i = 0; i < tries; i++) {
      if (i > 0) this.#opts.onRetry?.(lastErr instanceof Error ? lastErr.message : String(lastErr));
      try {
        const res = await this.#once(method, pathAndQuery, headers, body);
        if (res.status < 500 || i === tries - 1) return res;
        res.body.resume();
        lastErr = new Error(`downstream answered ${res.status}`);
      } catch (err) {
        lastErr = err;
        if (i === tries - 1) throw err;
      }
    }
    throw lastErr;
  }

  /**
   * request sends the request and reads the answer whole; retries cover reading the body too (a
   * connection cut mid-answer is tried again), maxTries attempts in all.
   */
  async request(method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer): Promise<DownstreamResponse> {
    const tries = Math.max(1, this.#opts.maxTries);
    let lastErr: unknown;
    for (let i = 0; i < tries; i++) {
      if (i > 0) this.#opts.onRetry?.(lastErr instanceof Error ? lastErr.message : String(lastErr));
      try {
        const res = await this.#once(method, pathAndQuery, headers, body);
        const buf = await readAll(res.body);
        if (res.status < 500 || i === tries - 1) return { status: res.status, headers: res.headers, body: buf };
        lastErr = new Error(`downstream answered ${res.status}`);
      } catch (err) {
        lastErr = err;
        if (i === tries - 1) throw err;
      }
    }
    throw lastErr;
  }
}
