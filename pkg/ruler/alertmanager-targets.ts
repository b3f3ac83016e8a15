import { parse as parseYaml } from 'yaml';
import { RulerError, RulerErrorCode } from './errors.js';

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

/** AlertmanagersConfig is what --alertmanagers.config(-file) configures. */
export interface AlertmanagersConfig {
  readonly targets: AlertmanagerTarget[];
  /** the smallest `timeout` given (ms), if any. */
  readonly timeoutMs: number | undefined;
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

const CONFIG_KEYS = new Set(['static_configs', 'scheme', 'path_prefix', 'timeout', 'api_version', 'http_config', 'file_sd_configs']);

/**
 * parseAlertmanagersConfig reads Thanos's --alertmanagers.config YAML: `alertmanagers:` a list of
 * `{static_configs: [addr…], scheme, path_prefix, timeout, api_version: v2}`; addresses may carry
 * `dns+`/`dnssrv+` prefixes. http_config and file_sd_configs are not supported yet (an error).
 */
export function parseAlertmanagersConfig(text: string, file: string): AlertmanagersConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { alertmanagers?: unknown } | null)?.alertmanagers;
  if (doc !== null && (typeof doc !== 'object' || Object.keys(doc as object).some((k) => k !== 'alertmanagers'))) throw bad(`${file}: want a map with the single key "alertmanagers"`);
  if (list === undefined || list === null) return { targets: [], timeoutMs: undefined };
  if (!Array.isArray(list)) throw bad(`${file}: alertmanagers must be a list`);
  const targets: AlertmanagerTarget[] = [];
  let timeoutMs: number | undefined;
  list.forEach((c: unknown, i: number) => {
    const where = `${file}: alertmanagers[${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad(`${where}: want a map`);
    const o = c as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!CONFIG_KEYS.has(k)) throw bad(`${where}: unknown field "${k}"`);
    if (o.http_config !== undefined && o.http_config !== null && Object.keys(o.http_config as object).length > 0) throw bad(`${where}: http_config is not supported yet`);
    if (o.file_sd_configs !== undefined && o.file_sd_configs !== null && (o.file_sd_configs as unknown[]).length > 0) throw bad(`${where}: file_sd_configs is not supported yet`);
    const api = o.api_version ?? 'v2';
    if (api !== 'v2') throw bad(`${where}: api_version ${String(api)} is not supported (only v2; Alertmanager removed v1)`);
    const scheme = o.scheme ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') throw bad(`${where}: scheme must be http or https`);
    const prefix = typeof o.path_prefix === 'string' ? o.path_prefix : '';
    if (o.timeout !== undefined) {
      const ms = goDuration(String(o.timeout));
      if (ms === undefined) throw bad(`${where}: timeout "${String(o.timeout)}" is not a duration`);
      timeoutMs = Math.min(timeoutMs ?? Infinity, ms);
    }
    const statics = o.static_configs ?? [];
    if (!Array.isArray(statics)) throw bad(`${where}: static_configs must be a list of addresses`);
    for (const a of statics) {
      if (typeof a !== 'string') throw bad(`${where}: static_configs must be a list of addresses`);
      const t = parseAlertmanagerUrl(`${/^(dns|dnssrv|dnssrvnoa)\+/.exec(a)?.[0] ?? ''}${scheme}://${a.replace(/^(dns|dnssrv|dnssrvnoa)\+/, '')}${prefix === '' ? '' : '/' + prefix.replace(/^\/+/, '')}`);
      targets.push(t);
    }
  });
  return { targets, timeoutMs };
}

function goDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let ms = 0;
  let pos = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== pos) return undefined;
    pos += m[0].length;
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  return pos === s.length && s !== '' ? ms : undefined;
}
