import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

/**
 * Form holds a request's parameters the way Go's http.Request.Form does: values from a
 * form-encoded POST body come first, then those of the URL query. get() returns the first value
 * (so a body value wins over the URL), getAll() the union in that order.
 */
export class Form {
  readonly #body: URLSearchParams | undefined;
  readonly #url: URLSearchParams;

  constructor(url: URLSearchParams, body?: URLSearchParams) {
    this.#url = url;
    this.#body = body;
  }

  /** get returns the first value of name, or "" when absent (Go's FormValue). */
  get(name: string): string {
    return this.#body?.get(name) ?? this.#url.get(name) ?? '';
  }

  /** getAll returns all values of name: body values, then URL values. */
  getAll(name: string): string[] {
    const b = this.#body?.getAll(name) ?? [];
    const u = this.#url.getAll(name);
    return b.length === 0 ? u : b.concat(u);
  }

  /** has reports whether name is present with any value. */
  has(name: string): boolean {
    return (this.#body?.has(name) ?? false) || this.#url.has(name);
  }
}

/**
 * readForm parses the URL query and, for a POST with `application/x-www-form-urlencoded`, the
 * body (at most maxBytes). Other bodies (JSON, ...) are ignored, as Prometheus does.
 */
export async function readForm(req: IncomingMessage, maxBytes: number): Promise<Form> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const url = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.method !== 'POST' || ct !== 'application/x-www-form-urlencoded') return new Form(url);
  // A body parser mounted before the router (express.urlencoded) has consumed the stream already.
  const parsed = (req as { body?: unknown }).body;
  if (typeof parsed === 'object' && parsed !== null && req.readableEnded) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(parsed)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, String(x));
    return new Form(url, body);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBytes) throw new ApiError('bad_data', `error parsing form values: request body larger than ${maxBytes} bytes`);
    chunks.push(c);
  }
  return new Form(url, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
