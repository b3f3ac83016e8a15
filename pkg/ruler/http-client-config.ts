import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { HttpRequestFunc, HttpRequestInit } from '../rules/index.js';
import { RulerError, RulerErrorCode } from './errors.js';

/** HttpClientTls is an http_config's tls_config (Thanos clientconfig.TLSConfig). */
export interface HttpClientTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

/** HttpClientConfig is Thanos's http_config (clientconfig.HTTPClientConfig) as the ruler supports it. */
export interface HttpClientConfig {
  readonly basicAuth?: { readonly username: string; readonly password?: string; readonly passwordFile?: string };
  readonly bearerToken?: string;
  readonly bearerTokenFile?: string;
  readonly proxyUrl?: URL;
  readonly tls?: HttpClientTls;
}

function bad(where: string, msg: string): RulerError {
  return new RulerError(RulerErrorCode.HttpClientConfig, `${where}: ${msg}`);
}

function mapOf(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(where, 'want a map');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, where: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(where, `${k} must be a string`);
  return v;
}

function known(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(where, `unknown field "${k}"`);
}

/**
 * parseHttpClientConfig reads an `http_config` map (strict: unknown fields are errors, as Thanos's
 * yaml.UnmarshalStrict): basic_auth (username, password or password_file), bearer_token or
 * bearer_token_file, proxy_url (http://), tls_config (ca_file, cert_file, key_file, server_name,
 * insecure_skip_verify). transport_config is refused (not supported).
 */
export function parseHttpClientConfig(v: unknown, where: string): HttpClientConfig {
  const o = mapOf(v, where);
  known(o, ['basic_auth', 'bearer_token', 'bearer_token_file', 'proxy_url', 'tls_config', 'transport_config'], where);
  if (o.transport_config !== undefined && o.transport_config !== null) throw bad(where, 'transport_config is not supported');
  const out: { -readonly [K in keyof HttpClientConfig]: HttpClientConfig[K] } = {};
  const ba = mapOf(o.basic_auth, `${where}: basic_auth`);
  if (Object.keys(ba).length > 0) {
    known(ba, ['username', 'password', 'password_file'], `${where}: basic_auth`);
    const username = str(ba, 'username', `${where}: basic_auth`) ?? '';
    const password = str(ba, 'password', `${where}: basic_auth`);
    const passwordFile = str(ba, 'password_file', `${where}: basic_auth`);
    if (password !== undefined && passwordFile !== undefined) throw bad(where, 'at most one of basic_auth password & password_file must be configured');
    out.basicAuth = { username, ...(password === undefined ? {} : { password }), ...(passwordFile === undefined ? {} : { passwordFile }) };
  }
  const token = str(o, 'bearer_token', where);
  const tokenFile = str(o, 'bearer_token_file', where);
  if (token !== undefined && tokenFile !== undefined) throw bad(where, 'at most one of bearer_token & bearer_token_file must be configured');
  if (out.basicAuth !== undefined && (token !== undefined || tokenFile !== undefined)) throw bad(where, 'at most one of basic_auth, bearer_token & bearer_token_file must be configured');
  if (token !== undefined) out.bearerToken = token;
  if (tokenFile !== undefined) out.bearerTokenFile = tokenFile;
  const proxy = str(o, 'proxy_url', where);
  if (proxy !== undefined) {
    let u: URL;
    try {
      u = new URL(proxy);
    } catch {
      throw bad(where, `proxy_url "${proxy}" is not a URL`);
    }
    if (u.protocol !== 'http:') throw bad(where, `proxy_url "${proxy}": only http:// proxies are supported`);
    out.proxyUrl = u;
  }
  const t = mapOf(o.tls_config, `${where}: tls_config`);
  if (Object.keys(t).length > 0) {
    const w = `${where}: tls_config`;
    known(t, ['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify'], w);
    const certFile = str(t, 'cert_file', w);
    const keyFile = str(t, 'key_file', w);
    if (certFile !== undefined && keyFile === undefined) throw bad(w, `client cert file "${certFile}" specified without client key file`);
    if (keyFile !== undefined && certFile === undefined) throw bad(w, `client key file "${keyFile}" specified without client cert file`);
    const caFile = str(t, 'ca_file', w);
    const serverName = str(t, 'server_name', w);
    const isv = t.insecure_skip_verify ?? false;
    if (typeof isv !== 'boolean') throw bad(w, 'insecure_skip_verify must be true or false');
    out.tls = { ...(caFile === undefined ? {} : { caFile }), ...(certFile === undefined ? {} : { certFile }), ...(keyFile === undefined ? {} : { keyFile }), ...(serverName === undefined ? {} : { serverName }), insecureSkipVerify: isv };
  }
  return out;
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RulerError(RulerErrorCode.HttpClientConfig, `tls_config: read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function readSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new RulerError(RulerErrorCode.HttpClientConfig, `read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * httpClient returns the HttpRequestFunc of an http_config: TLS files are read now (an error names
 * the file); password_file and bearer_token_file are read on every request, so rotated secrets are
 * picked up, as Prometheus's client does. With proxy_url, http targets are requested through the
 * proxy and https targets tunnelled with CONNECT.
 */
export function httpClient(cfg: HttpClientConfig): HttpRequestFunc {
  const tlsOpts = {
    ...(cfg.tls?.caFile === undefined ? {} : { ca: readPem(cfg.tls.caFile, 'ca_file') }),
    ...(cfg.tls?.certFile === undefined ? {} : { cert: readPem(cfg.tls.certFile, 'cert_file') }),
    ...(cfg.tls?.keyFile === undefined ? {} : { key: readPem(cfg.tls.keyFile, 'key_file') }),
    rejectUnauthorized: !(cfg.tls?.insecureSkipVerify ?? false),
  };
  const serverName = cfg.tls?.serverName;
  const httpsAgent = new HttpsAgent({ ...tlsOpts, keepAlive: true, ...(serverName === undefined ? {} : { servername: serverName }) });
  const httpAgent = new HttpAgent({ keepAlive: true });

  async function authorization(): Promise<string | undefined> {
    if (cfg.basicAuth !== undefined) {
      const pw = cfg.basicAuth.passwordFile !== undefined ? await readSecret(cfg.basicAuth.passwordFile) : (cfg.basicAuth.password ?? '');
      return `Basic ${Buffer.from(`${cfg.basicAuth.username}:${pw}`).toString('base64')}`;
    }
    if (cfg.bearerTokenFile !== undefined) return `Bearer ${await readSecret(cfg.bearerTokenFile)}`;
    if (cfg.bearerToken !== undefined) return `Bearer ${cfg.bearerToken}`;
    return undefined;
  }

  function tunnel(proxy: URL, host: string, port: string, signal: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${host}:${port}`, headers: { Host: `${host}:${port}` }, signal, agent: false });
      req.once('connect', (res: IncomingMessage, socket: Socket) => {
        if (res.statusCode === 200) resolve(socket);
        else {
          socket.destroy();
          reject(new Error(`proxy ${proxy.host} refused CONNECT ${host}:${port}: HTTP ${res.statusCode ?? 0}`));
        }
      });
      req.once('error', reject);
      req.end();
    });
  }

  return async (url: string, init: HttpRequestInit) => {
    const u = new URL(url);
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    const headers: Record<string, string> = { ...init.headers };
    const auth = await authorization();
    if (auth !== undefined) headers['Authorization'] = auth;
    if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body));
    const https = u.protocol === 'https:';
    const port = u.port || (https ? '443' : '80');
    let options: RequestOptions;
    if (cfg.proxyUrl !== undefined && !https) {
      // a plain http request to the proxy with the absolute URL as its target
      options = { host: cfg.proxyUrl.hostname, port: cfg.proxyUrl.port || 80, path: u.href, method: init.method, headers: { ...headers, Host: u.host }, agent: httpAgent };
    } else if (cfg.proxyUrl !== undefined) {
      const socket = await tunnel(cfg.proxyUrl, hostname, port, init.signal);
      const tlsSocket = tlsConnect({ ...tlsOpts, socket, servername: serverName ?? hostname });
      options = { host: hostname, port, path: u.pathname + u.search, method: init.method, headers: { ...headers, Connection: 'close' }, createConnection: () => tlsSocket };
    } else {
      options = { host: hostname, port, path: u.pathname + u.search, method: init.method, headers, agent: https ? httpsAgent : httpAgent };
    }
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (https && cfg.proxyUrl === undefined ? httpsRequest : httpRequest)({ ...options, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(init.body);
    });
  };
}
