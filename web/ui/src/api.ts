/** ApiResponse is the Prometheus HTTP API envelope. */
export interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

/** apiCall POSTs a form to the querier's API and returns the decoded envelope (also for errors). */
export async function apiCall<T>(base: string, path: string, params: Record<string, string>, signal?: AbortSignal): Promise<ApiResponse<T>> {
  const init: RequestInit = { method: 'POST', body: new URLSearchParams(params) };
  if (signal !== undefined) init.signal = signal;
  return decode<T>(await fetch(`${base}/api/v1/${path}`, init));
}

/** apiGet GETs an API path that takes no parameters (e.g. stores). */
export async function apiGet<T>(base: string, path: string): Promise<ApiResponse<T>> {
  return decode<T>(await fetch(`${base}/api/v1/${path}`));
}

async function decode<T>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as ApiResponse<T>;
  } catch {
    return { status: 'error', errorType: `HTTP ${res.status}`, error: text.slice(0, 500) };
  }
}
