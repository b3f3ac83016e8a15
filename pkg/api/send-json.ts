import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, createGzip, gzip, type ZlibOptions } from 'node:zlib';
import { jsonPieceSize } from './result-json.js';

const gzipAsync = promisify<string, ZlibOptions, Buffer>(gzip);

/**
 * GZIP is the compression of API responses: level 1 (best speed). Query results are repetitive
 * JSON that level 1 already shrinks several-fold, while the default level 6 cost the querier a few
 * percent of its CPU per dashboard query (the client then decompresses the same text).
 */
const GZIP: ZlibOptions = { level: constants.Z_BEST_SPEED };

/**
 * sendJson answers with `status` and the JSON text that `pieces` yields, gzipped when the client
 * accepts it. A body that fits in one piece (pieceSize) goes out in one write with a
 * Content-Length; a larger one is streamed (chunked transfer encoding): pieces are gathered to
 * about pieceSize and each is written once the socket (or gzip stream) has drained, so neither
 * the whole text nor an unbounded backlog of writes is held. Everything that decides the status
 * must be known before calling: once the first piece is written the status cannot change, so an
 * error thrown by `pieces` after that closes the connection (the client sees a truncated body,
 * never a well-formed wrong answer) and is rethrown. If the client goes away the rest is skipped.
 */
export async function sendJson(req: IncomingMessage, res: ServerResponse, status: number, pieces: Iterable<string>, pieceSize: number = jsonPieceSize): Promise<void> {
  const it = pieces[Symbol.iterator]();
  let buf = '';
  let r = it.next();
  while (!r.done && buf.length < pieceSize) {
    buf += r.value;
    r = it.next();
  }
  const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  if (r.done) {
    if (gz) {
      const z = await gzipAsync(buf, GZIP);
      res.setHeader('Content-Encoding', 'gzip');
      res.end(z);
    } else res.end(buf);
    return;
  }

  let closed = res.destroyed;
  res.once('close', () => {
    closed = true;
  });
  let sink: Writable = res;
  if (gz) {
    res.setHeader('Content-Encoding', 'gzip');
    const z = createGzip(GZIP);
    z.on('error', (err) => res.destroy(err));
    z.pipe(res);
    sink = z;
  }
  try {
    for (;;) {
      if (buf.length >= pieceSize || (r.done && buf !== '')) {
        const ok = sink.write(buf);
        buf = '';
        if (!ok && !closed) await drained(sink, res);
        if (closed) return;
      }
      if (r.done) break;
      buf += r.value;
      r = it.next();
    }
    sink.end();
  } catch (err) {
    if (sink !== res) sink.destroy();
    res.destroy();
    throw err;
  } finally {
    if (closed && sink !== res) sink.destroy();
  }
}

/** drained resolves when sink can take more, or when the response is closed. */
function drained(sink: Writable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sink.off('drain', done);
      res.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    res.on('close', done);
  });
}
