import { parse as parseYaml } from 'yaml';
import { RulerError, RulerErrorCode } from './errors.js';
import type { HttpClientConfig } from './http-client-config.js';
import { ENDPOINTS_KEYS, goDuration, parseHttpTargetConfig, type HttpEndpointsConfig } from './http-endpoints-config.js';

/**
 * AlertmanagerTarget is one Alertmanager source: a URL (`http://am:9093/prefix`) whose host may be
 * looked up in DNS (`dns+`, `dnssrv+`, `dnssrvnoa+` prefixes, as Thanos's --alertmanagers.url).
 */
export interface AlertmanagerTarget {
  readonly kind: 'static' | 'dns' | 'dnssrv' | 'dnssrvnoa';
  readonly scheme: 'http' | 'https';
  /** host:port (static, dns+) or SRV name (dnssrv+). */
  readonly address: string;
  /** path prefix before /api/v2/alerts, without a trailing slash. */
  readonly pathPrefix: string;
}

function bad(msg: string): RulerError {
  return new RulerError(RulerErrorCode.AlertmanagersConfig, msg);
}

/** parseAlertmanagerUrl parses one --alertmanagers.url value. */
export function parseAlertmanagerUrl(raw: string): AlertmanagerTarget {
  const m = /^(dns|dnssrv|dnssrvnoa)\+(.*)$/.exec(raw.trim());
  const kind = (m?.[1] ?? 'static') as AlertmanagerTarget['kind'];
  let u: URL;
  try {
    u = new URL(m?.[2] ?? raw.trim());
  } catch {
    throw bad(`--alertmanagers.url "${raw}": not a URL (want e.g. http://alertmanager:9093)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(`--alertmanagers.url "${raw}": scheme must be http or https`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const port = u.port !== '' ? u.port : kind === 'static' ? (scheme === 'https' ? '443' : '80') : kind === 'dns' ? '9093' : '';
  return { kind, scheme, address: port === '' ? u.hostname : `${u.hostname}:${port}`, pathPrefix: u.pathname.replace(/\/+$/, '') };
}

const CONFIG_KEYS = new Set<string>([...ENDPOINTS_KEYS, 'timeout', 'api_version', 'http_config']);

/** AlertmanagerConfig is one entry of Thanos's alerting config (pkg/alert AlertmanagerConfig). */
export interface AlertmanagerConfig {
  readonly http: HttpClientConfig;
  readonly endpoints: HttpEndpointsConfig;
  /** request timeout (ms; Thanos's default 10s). */
  readonly timeoutMs: number;
}

/**
 * alertmanagerConfigFromUrl turns one --alertmanagers.url into a config as Thanos's
 * BuildAlertmanagerConfig does: scheme, path prefix, the address (with its DNS prefix) and basic
 * auth from the URL's user:password.
 */
export function alertmanagerConfigFromUrl(raw: string, timeoutMs: number): AlertmanagerConfig {
  const t = parseAlertmanagerUrl(raw);
  const u = new URL(raw.trim().replace(/^(dns|dnssrv|dnssrvnoa)\+/, ''));
  const http: HttpClientConfig = u.username !== '' ? { basicAuth: { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } } : {};
  return { http, timeoutMs, endpoints: { scheme: t.scheme, pathPrefix: t.pathPrefix, staticAddresses: [`${t.kind === 'static' ? '' : `${t.kind}+`}${t.address}`], fileSd: [] } };
}

/**
 * parseAlertmanagersConfig reads Thanos's --alertmanagers.config YAML: `alertmanagers:` a list of
 * `{http_config, static_configs: [addr…], file_sd_configs: [{files, refresh_interval}], scheme,
 * path_prefix, timeout, api_version: v2}`; static addresses may carry `dns+`/`dnssrv+` prefixes.
 * Unknown fields are errors (Thanos unmarshals strictly); api_version v1 is refused (Alertmanager
 * removed API v1).
 */
export function parseAlertmanagersConfig(text: string, file: string): AlertmanagerConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { alertmanagers?: unknown } | null)?.alertmanagers;
  if (doc !== null && (typeof doc !== 'object' || Object.keys(doc as object).some((k) => k !== 'alertmanagers'))) throw bad(`${file}: want a map with the single key "alertmanagers"`);
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw bad(`${file}: alertmanagers must be a list`);
  return list.map((c: unknown, i: number) => {
    const where = `${file}: alertmanagers[${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad(`${where}: want a map`);
    const o = c as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!CONFIG_KEYS.has(k)) throw bad(`${where}: unknown field "${k}"`);
    const api = o.api_version ?? 'v2';
    if (api === 'v1') throw bad(`${where}: api_version v1 is not supported (only v2: Alertmanager removed API v1 in 0.27)`);
    if (api !== 'v2') throw bad(`${where}: expected Alertmanager API version to be one of [v1 v2] but got "${String(api)}"`);
    let timeoutMs = 10_000;
    if (o.timeout !== undefined && o.timeout !== null) {
      const ms = goDuration(String(o.timeout));
      if (ms === undefined) throw bad(`${where}: timeout "${String(o.timeout)}" is not a duration`);
      timeoutMs = ms;
    }
    return { ...parseHttpTargetConfig(o, where, bad), timeoutMs };
  });
}
