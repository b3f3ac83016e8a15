import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BasicAuth } from './basic-auth.js';
import type { WebConfig, WebTls } from './web-config.js';

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
 *
 * With a web config (--http.config) it serves HTTPS with the config's TLS settings (a client
 * certificate the client auth type refuses ends the connection), asks for basic auth (401
 * `Unauthorized` with `WWW-Authenticate: Basic` unless a user's bcrypt hash matches), and sets the
 * configured response headers, as Prometheus's exporter-toolkit does.
 */
export function createHttpServer(listener?: RequestListener, web?: WebConfig): Server {
  if (web !== undefined && listener === undefined && web.users.size > 0) throw new Error('createHttpServer: basic auth needs the request listener at creation');
  const state: GuardState | undefined = web !== undefined ? guardState(web) : undefined;
  const handler = state !== undefined && listener !== undefined ? guarded(listener, state) : listener;
  const tls = web?.tls;
  const server: Server = tls !== undefined ? createHttpsServer({ ...tls.options, maxHeaderSize: maxHeaderBytes }, handler) : createServer({ maxHeaderSize: maxHeaderBytes }, handler);
  if (tls !== undefined && state !== undefined) server.on('secureConnection', (socket: TLSSocket) => checkClientCert(socket, tls));
  if (state !== undefined && web?.reload !== undefined) watchWebConfig(server, state);
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

/** GuardState is the web config in force (replaced when the file changes). */
interface GuardState {
  web: WebConfig;
  auth: BasicAuth;
  headers: [string, string][];
}

function guardState(web: WebConfig): GuardState {
  return { web, auth: new BasicAuth(web.users), headers: Object.entries(web.headers) };
}

/**
 * watchWebConfig re-reads the web config every second: new users and headers apply to the next
 * request, new certificates and CAs to the next connection. A change of client_auth_type or TLS
 * on/off needs a restart; an invalid file keeps the config in force.
 */
function watchWebConfig(server: Server, state: GuardState): void {
  let busy = false;
  const timer = setInterval(() => {
    const reload = state.web.reload;
    if (busy || reload === undefined) return;
    busy = true;
    reload()
      .then((next) => {
        if (next === state.web) return;
        const tls = next.tls;
        if (tls !== undefined && state.web.tls !== undefined && 'setSecureContext' in server) {
          (server as unknown as { setSecureContext(o: object): void }).setSecureContext(tls.options);
        }
        Object.assign(state, guardState(next));
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, 1000);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

/** guarded sets the configured headers and checks basic auth before the listener sees a request. */
function guarded(listener: RequestListener, state: GuardState): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const { auth, headers } = state;
    for (const [k, v] of headers) res.setHeader(k, v);
    if (!auth.enabled) {
      listener(req, res);
      return;
    }
    auth.check(req.headers.authorization).then(
      (ok) => {
        if (ok) {
          listener(req, res);
          return;
        }
        res.writeHead(401, { 'WWW-Authenticate': 'Basic', 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end('Unauthorized\n');
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`check basic auth: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
}

/** subjectAltNames lists the values of a certificate's `subjectaltname` ("DNS:a, IP Address:b"). */
function subjectAltNames(s: string | undefined): string[] {
  if (s === undefined || s === '') return [];
  return s.split(/,\s*/).map((e) => e.slice(e.indexOf(':') + 1));
}

/** checkClientCert enforces what Node's requestCert/rejectUnauthorized cannot say alone. */
function checkClientCert(socket: TLSSocket, tls: WebTls): void {
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return;
  const cert = socket.getPeerCertificate();
  const given = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  let ok = true;
  if (tls.clientAuth === 'RequireAnyClientCert') ok = given;
  else if (tls.clientAuth === 'VerifyClientCertIfGiven') ok = !given || socket.authorized;
  else if (tls.clientAuth === 'RequireAndVerifyClientCert') {
    ok = given && socket.authorized;
    if (ok && tls.clientAllowedSans.length > 0) {
      const sans = subjectAltNames(cert.subjectaltname);
      ok = sans.some((s) => tls.clientAllowedSans.includes(s));
    }
  }
  if (!ok) socket.destroy();
}
