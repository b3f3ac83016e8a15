/** HttpRequestInit is what the ruler's HTTP clients send (a subset of fetch's RequestInit). */
export interface HttpRequestInit {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/** HttpRequestFunc performs one request and returns the status and body text. */
export type HttpRequestFunc = (url: string, init: HttpRequestInit) => Promise<{ status: number; text: string }>;

/** fetchRequest is HttpRequestFunc over the global fetch (no client configuration). */
export const fetchRequest: HttpRequestFunc = async (url, init) => {
  const res = await fetch(url, { method: init.method, headers: init.headers, signal: init.signal, ...(init.body === undefined ? {} : { body: init.body }) });
  return { status: res.status, text: await res.text() };
};

/**
 * HttpTarget is one HTTP endpoint (Alertmanager or query API): its base URL (path prefix
 * included) and the client to reach it with (authentication, TLS, proxy from an http_config);
 * timeoutMs overrides the caller's default.
 */
export interface HttpTarget {
  readonly url: string;
  readonly request?: HttpRequestFunc;
  readonly timeoutMs?: number;
}

/** toHttpTarget turns a plain base URL (or host:port, as http) into an HttpTarget. */
export function toHttpTarget(t: string | HttpTarget): HttpTarget {
  if (typeof t !== 'string') return t;
  return { url: /^https?:\/\//.test(t) ? t : `http://${t}` };
}
