import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * maxHeaderBytes is the request line plus headers a server accepts: Go's http.DefaultMaxHeaderBytes
 * (1 MiB) plus the 4096 bytes of slack Go's server allows, so GETs that Prometheus and Thanos
 * answer (1,000 `match[]`, long queries from Grafana) are not refused with 431 (Node's default
 * is 16 KiB).
 */
export const maxHeaderBytes = (1 << 20) + 4096;

/**
 * createHttpServer creates every component's HTTP server: Go's header limit (maxHeaderBytes) and
 * Go's answers to requests that cannot be parsed (431 `Request Header Fields Too Large`, 408 on a
 * request timeout, else 400 `Bad Request`; plain text, connection closed) instead of Node's empty bodies.
 */
export function createHttpServer(listener?: RequestListener): Server {
  const server = createServer({ maxHeaderSize: maxHeaderBytes }, listener);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
  });
  return server;
}
