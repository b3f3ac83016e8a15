import { parse as parseYaml } from 'yaml';
import { RulerError, RulerErrorCode } from './errors.js';
import type { HttpClientConfig } from './http-client-config.js';
import { ENDPOINTS_KEYS, parseHttpTargetConfig, type HttpEndpointsConfig } from './http-endpoints-config.js';

/** QueryConfig is one entry of Thanos's --query.config (clientconfig.Config, HTTP part). */
export interface QueryConfig {
  readonly http: HttpClientConfig;
  readonly endpoints: HttpEndpointsConfig;
}

function bad(msg: string): RulerError {
  return new RulerError(RulerErrorCode.QueryConfig, msg);
}

const KEYS = new Set<string>([...ENDPOINTS_KEYS, 'http_config', 'grpc_config']);

/**
 * parseQueryConfig reads Thanos's --query.config YAML: a list of `{http_config, static_configs,
 * file_sd_configs, scheme, path_prefix}` (unknown fields are errors, as Thanos's strict
 * unmarshalling). grpc_config (Thanos's gRPC query API) is refused: use --endpoint for the
 * embedded engine over StoreAPI endpoints.
 */
export function parseQueryConfig(text: string, file: string): QueryConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw bad(`${file}: want a list of query endpoint configs`);
  return doc.map((c: unknown, i: number) => {
    const where = `${file}: [${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad(`${where}: want a map`);
    const o = c as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!KEYS.has(k)) throw bad(`${where}: unknown field "${k}"`);
    const g = o.grpc_config as { endpoint_addresses?: unknown[] } | null | undefined;
    if (g !== undefined && g !== null && Object.values(g).some((v) => v !== null && (!Array.isArray(v) || v.length > 0))) throw bad(`${where}: grpc_config is not supported (use --endpoint for StoreAPI endpoints)`);
    return parseHttpTargetConfig(o, where, bad);
  });
}
