import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { multipartBoundary, parseMultipartForm } from './multipart.js';

const parse = (body: string, boundary: string) => parseMultipartForm(Buffer.from(body, 'utf8'), boundary);

describe('multipartBoundary', () => {
  test.each([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['multipart/form-data; BOUNDARY="a b:c"', 'a b:c'],
    ['multipart/form-data;boundary="q\\"x"', 'q"x'],
    ['multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxk', '----WebKitFormBoundary7MA4YWxk'],
  ])('%s', (ct, want) => {
    expect(multipartBoundary(ct)).toBe(want);
  });

  test.each(['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary="unterminated', `multipart/form-data; boundary=${'x'.repeat(71)}`, 'multipart/form-data; boundary=a; boundary=b'])(
    'none in %s',
    (ct) => {
      expect(multipartBoundary(ct)).toBeUndefined();
    },
  );
});

describe('parseMultipartForm', () => {
  test('CRLF body as curl and browsers send it, with preamble and epilogue', () => {
    const body = 'preamble\r\n--XyZ\r\nContent-Disposition: form-data; name="query"\r\n\r\nsum(rate(x[5m]))\r\n--XyZ\r\ncontent-disposition: form-data; name=time\r\nContent-Type: text/plain\r\n\r\n100\r\n--XyZ--\r\nepilogue';
    expect(parse(body, 'XyZ')).toEqual([
      ['query', 'sum(rate(x[5m]))'],
      ['time', '100'],
    ]);
  });

  test('LF-only line breaks (Go accepts them)', () => {
    expect(parse('--b\nContent-Disposition: form-data; name="a"\n\n1\n--b\nContent-Disposition: form-data; name="a"\n\n2\n--b--\n', 'b')).toEqual([
      ['a', '1'],
      ['a', '2'],
    ]);
  });

  test('values may hold line breaks and boundary-like text that is not a delimiter', () => {
    const v = 'line1\r\nline2\r\n--bnd-not-really\r\n--bndx\r\n-- bnd';
    expect(parse(`--bnd\r\nContent-Disposition: form-data; name="q"\r\n\r\n${v}\r\n--bnd--`, 'bnd')).toEqual([['q', v]]);
  });

  test('transport padding after a delimiter, empty values, UTF-8 values', () => {
    expect(parse('--b  \t\r\nContent-Disposition: form-data; name="e"\r\n\r\n\r\n--b \r\nContent-Disposition: form-data; name="u"\r\n\r\n€ü\r\n--b--', 'b')).toEqual([
      ['e', ''],
      ['u', '€ü'],
    ]);
  });

  test('quoted names with escapes, unquoted tokens, RFC 2231 names, case-insensitive keys', () => {
    const part = (cd: string, v: string) => `--b\r\nContent-Disposition: ${cd}\r\n\r\n${v}\r\n`;
    const body = part('form-data; name="match[]"', 'up') + part('form-data; NAME="a \\"q\\" b"', '1') + part('form-data; name*=UTF-8\'\'%E2%82%AC', '2') + part('Form-Data; name=tok', '3') + '--b--';
    expect(parse(body, 'b')).toEqual([
      ['match[]', 'up'],
      ['a "q" b', '1'],
      ['€', '2'],
      ['tok', '3'],
    ]);
  });

  test('files, parts without a name, other dispositions and bad parameters are skipped', () => {
    const part = (head: string, v: string) => `--b\r\n${head}\r\n\r\n${v}\r\n`;
    const body =
      part('Content-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain', 'file body') +
      part('Content-Disposition: form-data', 'no name') +
      part('Content-Disposition: attachment; name="a"', 'attachment') +
      part('Content-Disposition: form-data; name="dup"; name="dup2"', 'duplicate param') +
      part('Content-Type: text/plain', 'no disposition') +
      part('Content-Disposition: form-data; name="ok"', 'kept') +
      '--b--';
    expect(parse(body, 'b')).toEqual([['ok', 'kept']]);
  });

  test('quoted-printable parts are decoded; folded header lines are joined', () => {
    const body = '--b\r\nContent-Disposition: form-data;\r\n name="q"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nrate(x=5B5m=5D)=\r\n + 1\r\n--b--';
    expect(parse(body, 'b')).toEqual([['q', 'rate(x[5m]) + 1']]);
  });

  test('an empty form; a delimiter inside a preamble line is not one', () => {
    expect(parse('--b--\r\n', 'b')).toEqual([]);
    expect(parse('x--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--b--', 'b')).toEqual([]);
  });

  test.each([
    ['no boundary at all', 'just text'],
    ['no closing delimiter', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'],
    ['headers without their blank line', '--b\r\nContent-Disposition: form-data; name="a"'],
    ['a header line without a colon', '--b\r\nnot a header\r\n\r\nv\r\n--b--'],
  ])('malformed: %s', (_what, body) => {
    expect(parse(body, 'b')).toBeUndefined();
  });

  test('more than 1,000 parts is refused (Go’s limit)', () => {
    const part = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n';
    expect(parse(`${part.repeat(1000)}--b--`, 'b')).toHaveLength(1000);
    expect(parse(`${part.repeat(1001)}--b--`, 'b')).toBeUndefined();
  });

  test('round trip: what FormData encodes is what we read back', async () => {
    const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/["\r\n\\]/.test(s));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(name, fc.string({ maxLength: 40 })), { maxLength: 8 }), async (fields) => {
        const fd = new FormData();
        for (const [k, v] of fields) fd.append(k, v);
        const req = new Request('http://x/', { method: 'POST', body: fd });
        const boundary = multipartBoundary(req.headers.get('content-type') ?? '');
        expect(boundary).toBeDefined();
        const got = parseMultipartForm(new Uint8Array(await req.arrayBuffer()), boundary!);
        // FormData normalises line breaks in values to CRLF (HTML's form encoding).
        expect(got).toEqual(fields.map(([k, v]) => [k, v.replace(/\r\n|\r|\n/g, '\r\n')]));
      }),
      { numRuns: 200 },
    );
  });
});
