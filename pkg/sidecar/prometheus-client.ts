import { parse as parseYaml } from 'yaml';
import { Labels, type Matcher } from '../labels/index.js';
import { encodeReadRequest, snappyBlockEncode, type ReadRequest } from '../prompb/index.js';
import { SidecarError, SidecarErrorCode } from './errors.js';

/** PrometheusClientOptions configures a PrometheusClient. */
export interface PrometheusClientOptions {
  /** url is Prometheus's base URL, e.g. http://localhost:9090 (a path prefix is kept). */
  readonly url: string;
  /** timeoutMs bounds every request except the body of a remote read (default 30 s). */
  readonly timeoutMs?: number;
  /** fetch replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
  /** userAgent is sent with every request. */
  readonly userAgent?: string;
}

/** BuildInfo is the data of /api/v1/status/buildinfo. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly goVersion: string;
}

/** TimeRange bounds a label or series query (ms, inclusive); omitted ends are open. */
export interface TimeRange {
  readonly start?: number;
  readonly end?: number;
}

// Prometheus's API treats these as "no bound" (time.Unix(math.MinInt64/1000+62135596801, 0) etc.).
const promMinSec = -62135596801;
const promMaxSec = 253402300799;

/**
 * PrometheusClient calls the Prometheus HTTP endpoints the sidecar needs. Every call takes an
 * optional AbortSignal and is bounded by the client's timeout. Connection failures, timeouts and
 * 503 answers are SidecarErrors with code PrometheusUnavailable (retryable); other error
 * statuses and malformed bodies have code PrometheusRequest.
 */
export class PrometheusClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;

  constructor(opts: PrometheusClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fetch = opts.fetch ?? fetch;
    this.#userAgent = opts.userAgent ?? 'tessera-sidecar';
  }

  async #request(path: string, init: { method: string; signal: AbortSignal | undefined }, what: string, timeoutMs = this.#timeoutMs): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const url = this.url + path;
    let res: Response;
    try {
      res = await this.#fetch(url, { method: init.method, signal, headers: { 'User-Agent': this.#userAgent } });
    } catch (err) {
      if (init.signal?.aborted === true) throw init.signal.reason ?? err;
      const why = timeout.aborted ? `timed out after ${timeoutMs} ms` : describeFetchError(err);
      throw new SidecarError(SidecarErrorCode.PrometheusUnavailable, `${what} at ${url}: ${why}`, { cause: err });
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 512).trim();
      const code = res.status === 503 || res.status === 502 || res.status === 504 ? SidecarErrorCode.PrometheusUnavailable : SidecarErrorCode.PrometheusRequest;
      throw new SidecarError(code, `${what} at ${url}: HTTP ${res.status}${text ? `: ${text}` : ''}`);
    }
    return res;
  }

  async #getJSON<T>(path: string, what: string, signal?: AbortSignal): Promise<T> {
    const res = await this.#request(path, { method: 'GET', signal }, what);
    let body: { status?: string; data?: unknown; error?: string };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new SidecarError(SidecarErrorCode.PrometheusRequest, `${what} at ${this.url}${path}: response is not JSON`, { cause: err });
    }
    if (body.status !== 'success') {
      throw new SidecarError(SidecarErrorCode.PrometheusRequest, `${what} at ${this.url}${path}: status ${String(body.status)}: ${String(body.error)}`);
    }
    return body.data as T;
  }

  /** rules returns the `data` of GET /api/v1/rules with the given query parameters (type, rule_name[], ...). */
  rules(params: URLSearchParams, signal?: AbortSignal): Promise<unknown> {
    const q = params.toString();
    return this.#getJSON<unknown>(`/api/v1/rules${q === '' ? '' : `?${q}`}`, 'get Prometheus rules', signal);
  }

  /** isReady reports whether GET /-/ready answers 200; it never throws for an unreachable server. */
  async isReady(signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await this.#request('/-/ready', { method: 'GET', signal }, 'check readiness', Math.min(this.#timeoutMs, 5000));
      await res.arrayBuffer();
      return true;
    } catch (err) {
      if (signal?.aborted === true) throw err;
      return false;
    }
  }

  /** externalLabels reads global.external_labels from /api/v1/status/config (empty when unset). */
  async externalLabels(signal?: AbortSignal): Promise<Labels> {
    const data = await this.#getJSON<{ yaml?: string }>('/api/v1/status/config', 'get Prometheus config', signal);
    let cfg: unknown;
    try {
      cfg = parseYaml(data.yaml ?? '');
    } catch (err) {
      throw new SidecarError(SidecarErrorCode.PrometheusRequest, `parse the YAML of ${this.url}/api/v1/status/config`, { cause: err });
    }
    const ext = (cfg as { global?: { external_labels?: unknown } } | null)?.global?.external_labels;
    if (ext === undefined || ext === null) return Labels.EMPTY;
    if (typeof ext !== 'object') throw new SidecarError(SidecarErrorCode.PrometheusRequest, `global.external_labels of ${this.url} is not a map`);
    const rec: Record<string, string> = {};
    for (const [k, v] of Object.entries(ext as Record<string, unknown>)) rec[k] = String(v);
    return Labels.fromRecord(rec);
  }

  /**
   * flags returns /api/v1/status/flags (flag name → string value), or undefined when the
   * endpoint does not exist (404, very old Prometheus).
   */
  async flags(signal?: AbortSignal): Promise<Record<string, string> | undefined> {
    try {
      return await this.#getJSON<Record<string, string>>('/api/v1/status/flags', 'get Prometheus flags', signal);
    } catch (err) {
      if (err instanceof SidecarError && / HTTP 404/.test(err.message)) return undefined;
      throw err;
    }
  }

  /** buildInfo returns /api/v1/status/buildinfo. */
  async buildInfo(signal?: AbortSignal): Promise<BuildInfo> {
    const d = await this.#getJSON<{ version?: string; revision?: string; goVersion?: string }>('/api/v1/status/buildinfo', 'get Prometheus build info', signal);
    return { version: d.version ?? '', revision: d.revision ?? '', goVersion: d.goVersion ?? '' };
  }

  /**
   * lowestTimestamp returns prometheus_tsdb_lowest_timestamp_seconds × 1000 from /metrics (the
   * oldest sample Prometheus holds, head included), or undefined when there is no data yet.
   */
  async lowestTimestamp(signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.#request('/metrics', { method: 'GET', signal }, 'get Prometheus metrics');
    const text = await res.text();
    const m = /^prometheus_tsdb_lowest_timestamp_seconds(?:\{\})? (\S+)/m.exec(text);
    if (m === null) return undefined;
    const v = Number(m[1]);
    // MaxInt64 seconds-ish means "no data yet".
    if (!Number.isFinite(v) || v >= 9.2e15) return undefined;
    return v * 1000;
  }

  /** labelNames calls /api/v1/labels with the matchers combined into one match[] selector. */
  async labelNames(matchers: readonly Matcher[], range: TimeRange, signal?: AbortSignal, limit?: number): Promise<string[]> {
    const q = query(matchers, range, limit);
    return this.#getJSON<string[]>(`/api/v1/labels${q}`, 'get label names', signal);
  }

  /** labelValues calls /api/v1/label/<name>/values. */
  async labelValues(name: string, matchers: readonly Matcher[], range: TimeRange, signal?: AbortSignal, limit?: number): Promise<string[]> {
    const q = query(matchers, range, limit);
    return this.#getJSON<string[]>(`/api/v1/label/${encodeURIComponent(name)}/values${q}`, `get values of label ${name}`, signal);
  }

  /** series calls /api/v1/series and returns the label sets. */
  async series(matchers: readonly Matcher[], range: TimeRange, signal?: AbortSignal, limit?: number): Promise<Labels[]> {
    const q = query(matchers, range, limit);
    const data = await this.#getJSON<Record<string, string>[]>(`/api/v1/series${q}`, 'get series', signal);
    return data.map((r) => Labels.fromRecord(r));
  }

  /**
   * remoteRead POSTs a snappy-compressed ReadRequest to /api/v1/read and returns the response
   * once its headers arrived. The caller consumes (or cancels) the body and checks the
   * Content-Type to tell SAMPLES from STREAMED_XOR_CHUNKS answers. The client timeout covers
   * only the time to the response headers; the body is bounded by `signal`.
   */
  async remoteRead(req: ReadRequest, signal?: AbortSignal): Promise<Response> {
    const body = snappyBlockEncode(encodeReadRequest(req));
    const headerTimeout = new AbortController();
    const timer = setTimeout(() => headerTimeout.abort(new Error(`no response headers after ${this.#timeoutMs} ms`)), this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, headerTimeout.signal]) : headerTimeout.signal;
    try {
      const url = `${this.url}/api/v1/read`;
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: 'POST',
          body,
          signal: combined,
          headers: {
            'Content-Encoding': 'snappy',
            'Accept-Encoding': 'snappy',
            'Content-Type': 'application/x-stream-protobuf',
            'X-Prometheus-Remote-Read-Version': '0.1.0',
            'User-Agent': this.#userAgent,
          },
        });
      } catch (err) {
        if (signal?.aborted === true) throw signal.reason ?? err;
        const why = headerTimeout.signal.aborted ? `timed out after ${this.#timeoutMs} ms` : describeFetchError(err);
        throw new SidecarError(SidecarErrorCode.PrometheusUnavailable, `remote read at ${url}: ${why}`, { cause: err });
      }
      if (!res.ok) {
        const text = (await res.text().catch(() => '')).slice(0, 512).trim();
        const code = res.status === 503 || res.status === 502 || res.status === 504 ? SidecarErrorCode.PrometheusUnavailable : SidecarErrorCode.PrometheusRequest;
        throw new SidecarError(code, `remote read at ${url}: HTTP ${res.status}${text ? `: ${text}` : ''}`);
      }
      return res;
    } finally {
      clearTimeout(timer);
    }
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return (err as Error).message;
}

/** formatPromTime prints ms as Unix seconds with millisecond fraction, clamped to Prometheus's bounds. */
export function formatPromTime(ms: number): string {
  const sec = ms / 1000;
  if (sec <= promMinSec) return String(promMinSec);
  if (sec >= promMaxSec) return String(promMaxSec);
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(3);
}

function query(matchers: readonly Matcher[], range: TimeRange, limit: number | undefined): string {
  const p = new URLSearchParams();
  if (matchers.length > 0) p.append('match[]', `{${matchers.map((m) => m.toString()).join(',')}}`);
  if (range.start !== undefined) p.append('start', formatPromTime(range.start));
  if (range.end !== undefined) p.append('end', formatPromTime(range.end));
  if (limit !== undefined && limit > 0) p.append('limit', String(limit));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
