import { RulerError } from './errors.js';
import { parseHttpClientConfig, type HttpClientConfig } from './http-client-config.js';

/** FileSdConfig is one `file_sd_configs` entry: Prometheus file SD files (JSON or YAML target groups) re-read every refreshIntervalMs. */
export interface FileSdConfig {
  readonly files: readonly string[];
  readonly refreshIntervalMs: number;
}

/**
 * HttpEndpointsConfig is Thanos's clientconfig.HTTPEndpointsConfig (inlined in Alertmanager and
 * query configs): addresses from static_configs (host:port, also `dns+`/`dnssrv+`/`dnssrvnoa+`)
 * and file SD, reached with scheme and path_prefix.
 */
export interface HttpEndpointsConfig {
  readonly scheme: 'http' | 'https';
  /** '' or a prefix starting with '/' and without a trailing one. */
  readonly pathPrefix: string;
  readonly staticAddresses: readonly string[];
  readonly fileSd: readonly FileSdConfig[];
}

/** ENDPOINTS_KEYS are the keys HttpEndpointsConfig takes from its map. */
export const ENDPOINTS_KEYS = ['static_configs', 'file_sd_configs', 'scheme', 'path_prefix'] as const;

/** goDuration parses a Prometheus duration (1h30m, 5s, 100ms); undefined when it is not one. */
export function goDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 } as const;
  let ms = 0;
  let pos = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== pos) return undefined;
    pos += m[0].length;
    ms += Number(m[1]) * unit[m[2] as keyof typeof unit];
  }
  return pos === s.length && s !== '' ? ms : undefined;
}

/** parseHttpEndpointsConfig reads the endpoint fields of one config map (o); bad(msg) makes the caller's error. */
export function parseHttpEndpointsConfig(o: Record<string, unknown>, where: string, bad: (msg: string) => RulerError): HttpEndpointsConfig {
  const scheme = o.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') throw bad(`${where}: scheme must be http or https`);
  if (o.path_prefix !== undefined && o.path_prefix !== null && typeof o.path_prefix !== 'string') throw bad(`${where}: path_prefix must be a string`);
  const rawPrefix = typeof o.path_prefix === 'string' ? o.path_prefix.replace(/^\/+|\/+$/g, '') : '';
  const statics = o.static_configs ?? [];
  if (!Array.isArray(statics) || statics.some((a) => typeof a !== 'string')) throw bad(`${where}: static_configs must be a list of addresses`);
  const fileSd: FileSdConfig[] = [];
  const sds = o.file_sd_configs ?? [];
  if (!Array.isArray(sds)) throw bad(`${where}: file_sd_configs must be a list`);
  sds.forEach((c: unknown, i: number) => {
    const w = `${where}: file_sd_configs[${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad(`${w}: want a map`);
    const f = c as Record<string, unknown>;
    for (const k of Object.keys(f)) if (k !== 'files' && k !== 'refresh_interval') throw bad(`${w}: unknown field "${k}"`);
    const files = f.files ?? [];
    if (!Array.isArray(files) || files.length === 0 || files.some((x) => typeof x !== 'string' || x === '')) throw bad(`${w}: files must be a non-empty list of paths`);
    for (const x of files as string[]) if (/[*?[]/.test(x)) throw bad(`${w}: file "${x}": glob patterns are not supported, name the files`);
    let refreshIntervalMs = 5 * 60_000;
    if (f.refresh_interval !== undefined && f.refresh_interval !== null) {
      const ms = goDuration(String(f.refresh_interval));
      if (ms === undefined || ms <= 0) throw bad(`${w}: refresh_interval "${String(f.refresh_interval)}" is not a positive duration`);
      refreshIntervalMs = ms;
    }
    fileSd.push({ files: files as string[], refreshIntervalMs });
  });
  return { scheme, pathPrefix: rawPrefix === '' ? '' : `/${rawPrefix}`, staticAddresses: statics as string[], fileSd };
}

/**
 * parseHttpTargetConfig parses the parts an Alertmanager config and a query config share: the
 * endpoints (static addresses given without a scheme) and the http_config.
 */
export function parseHttpTargetConfig(o: Record<string, unknown>, where: string, bad: (msg: string) => RulerError): { http: HttpClientConfig; endpoints: HttpEndpointsConfig } {
  const endpoints = parseHttpEndpointsConfig(o, where, bad);
  for (const a of endpoints.staticAddresses) if (/^[a-z]+:\/\//i.test(a)) throw bad(`${where}: static_configs: "${a}" must be an address (host:port), without a scheme`);
  try {
    return { http: parseHttpClientConfig(o.http_config, `${where}: http_config`), endpoints };
  } catch (err) {
    throw bad((err as Error).message);
  }
}
