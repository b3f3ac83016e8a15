import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';
import { parseMultipartForm, multipartBoundary } from './multipart.js';

/**
 * Form holds a request's parameters the way Go's http.Request.Form does after FormValue: values
 * from a form-encoded POST body come first, then those of the URL query, then the fields of a
 * `multipart/form-data` body (Go's ParseMultipartForm appends them after the URL's). get()
 * returns the first value, getAll() the union in that order.
 */
export class Form {
  readonly #body: URLSearchParams | undefined;
  readonly #url: URLSearchParams;
  readonly #multipart: readonly (readonly [string, string])[];

  constructor(url: URLSearchParams, body?: URLSearchParams, multipart: readonly (readonly [string, string])[] = []) {
    this.#url = url;
    this.#body = body;
    this.#multipart = multipart;
  }

  /** get returns the first value of name, or "" when absent (Go's FormValue). */
  get(name: string): string {
    const v = this.#body?.get(name) ?? this.#url.get(name);
    if (v !== null) return v;
    for (const [k, x] of this.#multipart) if (k === name) return x;
    return '';
  }

  /** getAll returns all values of name: body values, then URL values, then multipart fields. */
  getAll(name: string): string[] {
    const out = this.parsedForm(name);
    for (const [k, x] of this.#multipart) if (k === name) out.push(x);
    return out;
  }

  /**
   * parsedForm returns the values of name without the multipart fields: what Go's
   * `r.Form[name]` holds right after `r.ParseForm()` (Prometheus's /series checks `match[]` so).
   */
  parsedForm(name: string): string[] {
    const b = this.#body?.getAll(name) ?? [];
    const u = this.#url.getAll(name);
    return b.length === 0 ? u : b.concat(u);
  }

  /** has reports whether name is present with any value. */
  has(name: string): boolean {
    return (this.#body?.has(name) ?? false) || this.#url.has(name) || this.#multipart.some(([k]) => k === name);
  }
}

/**
 * readForm parses the URL query and, for a POST, an `application/x-www-form-urlencoded` body or
 * the fields of a `multipart/form-data` body (files are skipped), reading at most maxBytes. Other
 * bodies (JSON, ...) are ignored, as Prometheus does; so is a malformed multipart body (Go's
 * FormValue drops ParseMultipartForm's error and keeps the URL's values).
 */
export async function readForm(req: IncomingMessage, maxBytes: number): Promise<Form> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const url = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (req.method !== 'POST') return new Form(url);
  const contentType = req.headers['content-type'] ?? '';
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  if (ct === 'multipart/form-data') {
    const boundary = multipartBoundary(contentType);
    if (boundary === undefined) return new Form(url);
    const fields = parseMultipartForm(await readBody(req, maxBytes), boundary);
    return new Form(url, undefined, fields ?? []);
  }
  if (ct !== 'application/x-www-form-urlencoded') return new Form(url);
  // A body parser mounted before the router (express.urlencoded) has consumed the stream already.
  const parsed = (req as { body?: unknown }).body;
  if (typeof parsed === 'object' && parsed !== null && req.readableEnded) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(parsed)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, String(x));
    return new Form(url, body);
  }
  return new Form(url, new URLSearchParams((await readBody(req, maxBytes)).toString('utf8')));
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBytes) throw new ApiError('bad_data', `error parsing form values: request body larger than ${maxBytes} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
