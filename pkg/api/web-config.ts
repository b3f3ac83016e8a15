import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { SecureVersion, TlsOptions } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { TesseraError } from '../errors/index.js';

/** WEB_CONFIG_ERROR is the code of errors reading a --http.config file. */
export const WEB_CONFIG_ERROR = 'TESSERA_WEB_CONFIG';

/** ClientAuthType is exporter-toolkit's client_auth_type (Go's tls.ClientAuthType names). */
export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

/** WebTls is the TLS part of a web config, ready for https.createServer. */
export interface WebTls {
  /** options: cert, key, ca, requestCert, rejectUnauthorized, versions, ciphers, curves. */
  readonly options: TlsOptions;
  readonly clientAuth: ClientAuthType;
  /** clientAllowedSans: when non-empty, a client certificate must carry one of these SANs. */
  readonly clientAllowedSans: readonly string[];
}

/**
 * WebConfig is a parsed --http.config file (Prometheus exporter-toolkit format): TLS for the
 * HTTP server, bcrypt-hashed basic auth users, and response headers.
 */
export interface WebConfig {
  readonly tls?: WebTls;
  /** users maps user names to bcrypt hashes (basic_auth_users). */
  readonly users: ReadonlyMap<string, string>;
  /** headers are set on every response (http_server_config.headers). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * reload re-reads the file the config came from (loadWebConfig) when it changed and returns the
   * new config, or this one when it did not; it throws when the changed file is invalid.
   * createHttpServer calls it every second, so certificates, users and headers can be rotated
   * without a restart, as exporter-toolkit re-reads its file.
   */
  readonly reload?: () => Promise<WebConfig>;
}

const CLIENT_AUTH: readonly ClientAuthType[] = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];
const VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };
/** Go's cipher suite names (TLS 1.0–1.2; Go does not let TLS 1.3 suites be chosen) as OpenSSL names. */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
/** The response headers exporter-toolkit lets a web config set, with the values it accepts. */
const HEADERS: Record<string, RegExp | undefined> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': /^nosniff$/i,
  'X-Frame-Options': /^(deny|sameorigin)$/i,
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

function fail(where: string, msg: string, cause?: unknown): never {
  throw new TesseraError(WEB_CONFIG_ERROR, `${where}: ${msg}`, cause === undefined ? undefined : { cause });
}

function obj(v: unknown, where: string, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(where, `${key} is not a mapping`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(where, `unknown field "${k}" in ${key}`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, where: string, section: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(where, `${section}.${k} is not a string`);
  return v;
}

function strList(o: Record<string, unknown>, k: string, where: string, section: string): string[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(where, `${section}.${k} is not a list of strings`);
  return v as string[];
}

/**
 * parseWebConfig parses the YAML of a web config; file paths in it are relative to baseDir (the
 * config file's directory, as exporter-toolkit resolves them) and are read here. Unknown fields
 * are errors, as exporter-toolkit's strict parsing makes them.
 */
export async function parseWebConfig(text: string, where: string, baseDir: string): Promise<WebConfig> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    fail(where, `parse YAML: ${(err as Error).message}`, err);
  }
  const top = obj(doc, where, 'the web config', ['tls_server_config', 'http_server_config', 'basic_auth_users']);

  const users = new Map<string, string>();
  const rawUsers = top['basic_auth_users'];
  if (rawUsers !== undefined && rawUsers !== null) {
    if (typeof rawUsers !== 'object' || Array.isArray(rawUsers)) fail(where, 'basic_auth_users is not a mapping');
    for (const [u, h] of Object.entries(rawUsers as Record<string, unknown>)) {
      if (typeof h !== 'string' || !/^\$2[abxy]?\$\d\d\$.{53}$/.test(h)) fail(where, `basic_auth_users.${u} is not a bcrypt hash`);
      users.set(u, h);
    }
  }

  const server = obj(top['http_server_config'], where, 'http_server_config', ['http2', 'headers']);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(obj(server['headers'], where, 'http_server_config.headers', Object.keys(HEADERS)))) {
    if (typeof value !== 'string') fail(where, `http_server_config.headers.${name} is not a string`);
    const re = HEADERS[name];
    if (re !== undefined && !re.test(value)) fail(where, `invalid value "${value}" for header ${name}`);
    headers[name] = value;
  }

  if (top['tls_server_config'] === undefined || top['tls_server_config'] === null) return { users, headers };
  const t = obj(top['tls_server_config'], where, 'tls_server_config', [
    'cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_ca', 'client_allowed_sans',
    'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences',
  ]);
  const s = (k: string) => str(t, k, where, 'tls_server_config');
  const path = (p: string) => (isAbsolute(p) ? p : join(baseDir, p));
  const load = async (fileKey: string, inlineKey: string, required: boolean): Promise<string | Buffer | undefined> => {
    const file = s(fileKey);
    const inline = s(inlineKey);
    if (file !== '' && inline !== '') fail(where, `tls_server_config: set ${fileKey} or ${inlineKey}, not both`);
    if (inline !== '') return inline;
    if (file === '') {
      if (required) fail(where, `tls_server_config: missing ${fileKey}`);
      return undefined;
    }
    try {
      return await readFile(path(file));
    } catch (err) {
      return fail(where, `read tls_server_config.${fileKey} ${path(file)}: ${(err as Error).message}`, err);
    }
  };
  // Read together, but report the first failure in this order (cert, key, CA), not whichever
  // read happened to fail first.
  const loaded = await Promise.allSettled([load('cert_file', 'cert', true), load('key_file', 'key', true), load('client_ca_file', 'client_ca', false)]);
  for (const r of loaded) if (r.status === 'rejected') throw r.reason;
  const [cert, key, ca] = loaded.map((r) => (r.status === 'fulfilled' ? r.value : undefined));

  const authName = s('client_auth_type') || 'NoClientCert';
  if (!(CLIENT_AUTH as readonly string[]).includes(authName)) fail(where, `invalid client_auth_type "${authName}"`);
  const clientAuth = authName as ClientAuthType;
  if (ca !== undefined && clientAuth === 'NoClientCert') fail(where, 'client CA is set but client_auth_type is NoClientCert');
  if (ca === undefined && (clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert')) fail(where, `client_auth_type ${clientAuth} needs client_ca_file`);
  const clientAllowedSans = strList(t, 'client_allowed_sans', where, 'tls_server_config');
  if (clientAllowedSans.length > 0 && clientAuth !== 'RequireAndVerifyClientCert') fail(where, 'client_allowed_sans needs client_auth_type RequireAndVerifyClientCert');

  const version = (k: string, dflt: string): SecureVersion => {
    const v = s(k) || dflt;
    const n = VERSIONS[v];
    if (n === undefined) fail(where, `unknown TLS version "${v}" in ${k} (TLS10, TLS11, TLS12, TLS13)`);
    return n;
  };
  const options: TlsOptions = {
    cert: cert!,
    key: key!,
    minVersion: version('min_version', 'TLS12'),
    maxVersion: version('max_version', 'TLS13'),
    requestCert: clientAuth !== 'NoClientCert',
    rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert',
    ...(ca !== undefined ? { ca } : {}),
  };
  const suites = strList(t, 'cipher_suites', where, 'tls_server_config');
  if (suites.length > 0) {
    options.ciphers = [TLS13_SUITES, ...suites.map((c) => CIPHERS[c] ?? fail(where, `unsupported cipher suite "${c}"`))].join(':');
  }
  if (t['prefer_server_cipher_suites'] === true) options.honorCipherOrder = true;
  const curves = strList(t, 'curve_preferences', where, 'tls_server_config');
  if (curves.length > 0) options.ecdhCurve = curves.map((c) => CURVES[c] ?? fail(where, `unsupported curve "${c}"`)).join(':');
  return { tls: { options, clientAuth, clientAllowedSans }, users, headers };
}

/** loadWebConfig reads a --http.config file; '' means no file (plain HTTP, no auth). */
export async function loadWebConfig(file: string): Promise<WebConfig | undefined> {
  if (file === '') return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return fail(`--http.config ${file}`, (err as Error).message, err);
  }
  const where = `--http.config ${file}`;
  const version = async (): Promise<string> => {
    const s = await stat(file);
    return `${s.mtimeMs}/${s.size}/${s.ino}`;
  };
  const load = async (seen: string, text: string): Promise<WebConfig> => {
    const cfg = await parseWebConfig(text, where, dirname(file));
    const self: WebConfig = {
      ...cfg,
      reload: async () => {
        const now = await version().catch(() => seen);
        if (now === seen) return self;
        return load(now, await readFile(file, 'utf8'));
      },
    };
    return self;
  };
  return load(await version().catch(() => ''), text);
}
