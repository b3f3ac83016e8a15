/**
 * multipart/form-data (RFC 7578) as Go's mime/multipart reads it for Request.ParseMultipartForm,
 * limited to what the API needs: the text fields, in order. File parts (a `filename` parameter)
 * are skipped. Line breaks may be CRLF or, as Go tolerates, LF. Anything malformed (no opening
 * boundary, a part without its closing delimiter, headers without their blank line, more than
 * maxParts parts) makes the whole body unusable, as ReadForm's error does in Go.
 */

const maxParts = 1000;

/** FormField is one text field of a multipart body: [name, value]. */
export type FormField = readonly [string, string];

/**
 * multipartBoundary returns the `boundary` parameter of a `multipart/form-data` Content-Type, or
 * undefined when it has none (or an invalid one: empty or longer than 70 characters).
 */
export function multipartBoundary(contentType: string): string | undefined {
  const semi = contentType.indexOf(';');
  if (semi < 0) return undefined;
  const params = parseParams(contentType.slice(semi));
  const b = params?.get('boundary');
  if (b === undefined || b === '' || b.length > 70) return undefined;
  return b;
}

/** parseMultipartForm returns the text fields of body, or undefined when body is malformed. */
export function parseMultipartForm(body: Uint8Array, boundary: string): FormField[] | undefined {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  // Find the first boundary line, skipping any preamble.
  let pos = 0;
  let nl = '\r\n';
  for (;;) {
    const at = buf.indexOf(dash, pos);
    if (at < 0) return undefined;
    if (at === 0 || buf[at - 1] === 0x0a) {
      const line = boundaryLine(buf, at + dash.length);
      if (line !== undefined) {
        if (line.final) return [];
        nl = line.lf ? '\n' : '\r\n';
        pos = line.next;
        break;
      }
    }
    pos = at + 1;
  }
  const delim = Buffer.from(`${nl}--${boundary}`, 'latin1');
  const fields: FormField[] = [];
  for (let parts = 0; ; parts++) {
    if (parts >= maxParts) return undefined;
    const head = parseHeaders(buf, pos);
    if (head === undefined) return undefined;
    // The content ends at the next delimiter followed by `--`, whitespace or a line break.
    let end = head.next;
    let line: { final: boolean; next: number } | undefined;
    for (;;) {
      const at = buf.indexOf(delim, end);
      if (at < 0) return undefined;
      line = boundaryLine(buf, at + delim.length);
      if (line !== undefined) {
        end = at;
        break;
      }
      end = at + 1;
    }
    const field = formField(head.headers, buf.subarray(head.next, end));
    if (field !== undefined) fields.push(field);
    if (line.final) return fields;
    pos = line.next;
  }
}

/**
 * boundaryLine checks what follows a `--boundary` at i: `--` (the final delimiter), or optional
 * spaces/tabs and a line break. Returns where the next line starts, or undefined if it is not a
 * boundary line.
 */
function boundaryLine(buf: Buffer, i: number): { final: boolean; lf: boolean; next: number } | undefined {
  if (buf[i] === 0x2d && buf[i + 1] === 0x2d) return { final: true, lf: false, next: i + 2 };
  while (buf[i] === 0x20 || buf[i] === 0x09) i++;
  if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return { final: false, lf: false, next: i + 2 };
  if (buf[i] === 0x0a) return { final: false, lf: true, next: i + 1 };
  return undefined;
}

/** parseHeaders reads MIME header lines from pos up to the blank line; names are lower-cased. */
function parseHeaders(buf: Buffer, pos: number): { headers: Map<string, string>; next: number } | undefined {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (;;) {
    const eol = buf.indexOf(0x0a, pos);
    if (eol < 0) return undefined;
    const line = buf.toString('latin1', pos, eol > pos && buf[eol - 1] === 0x0d ? eol - 1 : eol);
    pos = eol + 1;
    if (line === '') return { headers, next: pos };
    if ((line[0] === ' ' || line[0] === '\t') && last !== undefined) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    last = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
  }
}

/** formField turns a part into a text field, or undefined for files and parts without a name. */
function formField(headers: Map<string, string>, content: Buffer): FormField | undefined {
  const cd = headers.get('content-disposition');
  if (cd === undefined) return undefined;
  const semi = cd.indexOf(';');
  const disposition = (semi < 0 ? cd : cd.slice(0, semi)).trim().toLowerCase();
  if (disposition !== 'form-data') return undefined;
  const params = semi < 0 ? new Map<string, string>() : parseParams(cd.slice(semi));
  if (params === undefined) return undefined;
  const name = params.get('name');
  if (name === undefined || name === '' || params.has('filename')) return undefined;
  const cte = headers.get('content-transfer-encoding')?.toLowerCase();
  const bytes = cte === 'quoted-printable' ? decodeQuotedPrintable(content) : content;
  return [name, bytes.toString('utf8')];
}

const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * parseParams parses `; key=value` parameters (RFC 2045: token or quoted-string values, keys
 * case-insensitive; RFC 2231 `key*=charset'lang'percent-encoded`). Undefined when malformed or a
 * key repeats, as Go's mime.ParseMediaType.
 */
function parseParams(s: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let i = 0;
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) return out;
    if (s[i] !== ';') return undefined;
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) return out; // a trailing semicolon is tolerated
    let key = '';
    while (i < s.length && tokenChar.test(s[i]!)) key += s[i++];
    if (key === '' || s[i] !== '=') return undefined;
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        const c = s[i++]!;
        if (c === '"') break;
        if (c === '\\' && i < s.length) value += s[i++];
        else value += c;
      }
    } else {
      while (i < s.length && tokenChar.test(s[i]!)) value += s[i++];
      if (value === '') return undefined;
    }
    key = key.toLowerCase();
    if (key.endsWith('*')) {
      const decoded = decode2231(value);
      if (decoded === undefined) continue;
      key = key.slice(0, -1);
      value = decoded;
    }
    if (out.has(key)) return undefined;
    out.set(key, value);
  }
}

/** decode2231 decodes `utf-8''%E2%82%AC` (or us-ascii); undefined for other charsets. */
function decode2231(v: string): string | undefined {
  const parts = v.split("'");
  if (parts.length !== 3) return undefined;
  const charset = parts[0]!.toLowerCase();
  if (charset !== 'utf-8' && charset !== 'us-ascii') return undefined;
  try {
    return decodeURIComponent(parts[2]!);
  } catch {
    return undefined;
  }
}

const hex = /^[0-9A-Fa-f]{2}$/;

/** decodeQuotedPrintable decodes `=XX` escapes and removes soft line breaks (`=` at a line end). */
function decodeQuotedPrintable(b: Buffer): Buffer {
  const s = b.toString('latin1');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x3d) {
      out.push(c);
      continue;
    }
    if (s[i + 1] === '\r' && s[i + 2] === '\n') i += 2;
    else if (s[i + 1] === '\n') i += 1;
    else if (hex.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c);
  }
  return Buffer.from(out);
}
