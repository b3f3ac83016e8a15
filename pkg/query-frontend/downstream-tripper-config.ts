import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TesseraError } from '../errors/index.js';
import { parseDuration } from '../objstore/index.js';

/** DownstreamTls is the `tls_config` of the downstream tripper config (Thanos exthttp.TLSConfig), files read. */
export interface DownstreamTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

/**
 * DownstreamTripperConfig is Thanos's --query-frontend.downstream-tripper-config (the Go
 * http.Transport settings of the connection to the querier), durations in ms; defaults are
 * Thanos's (Go's DefaultTransport plus MaxIdleConnsPerHost 100 in the "unset" case is NOT applied:
 * Go's default of 2 idle connections per host is, as in Thanos).
 */
export interface DownstreamTripperConfig {
  readonly idleConnTimeoutMs: number;
  /** responseHeaderTimeoutMs: 0 waits for the answer's headers as long as it takes. */
  readonly responseHeaderTimeoutMs: number;
  readonly tlsHandshakeTimeoutMs: number;
  /** expectContinueTimeoutMs is accepted; the frontend never sends `Expect: 100-continue`. */
  readonly expectContinueTimeoutMs: number;
  /** maxIdleConns bounds idle connections over all hosts (there is one downstream host). */
  readonly maxIdleConns: number;
  readonly maxIdleConnsPerHost: number;
  /** maxConnsPerHost: 0 is unlimited. */
  readonly maxConnsPerHost: number;
  readonly tls?: DownstreamTls;
}

export const DOWNSTREAM_TRIPPER_CONFIG_ERROR = 'TESSERA_DOWNSTREAM_TRIPPER_CONFIG';

/** defaultTripperConfig is what Thanos uses without a config (its http.Transport literal). */
export const defaultTripperConfig: DownstreamTripperConfig = {
  idleConnTimeoutMs: 90_000,
  responseHeaderTimeoutMs: 0,
  tlsHandshakeTimeoutMs: 10_000,
  expectContinueTimeoutMs: 1000,
  maxIdleConns: 100,
  maxIdleConnsPerHost: 2,
  maxConnsPerHost: 0,
};

const known = new Set(['idle_conn_timeout', 'response_header_timeout', 'tls_handshake_timeout', 'expect_continue_timeout', 'max_idle_conns', 'max_idle_conns_per_host', 'max_conns_per_host', 'tls_config']);
const tlsKnown = new Set(['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify']);

function fail(msg: string, cause?: unknown): TesseraError {
  return new TesseraError(DOWNSTREAM_TRIPPER_CONFIG_ERROR, `parse downstream tripper config: ${msg}`, cause === undefined ? undefined : { cause });
}

function readPem(file: unknown, field: string): Buffer | undefined {
  if (file === undefined || file === null || file === '') return undefined;
  try {
    return readFileSync(String(file));
  } catch (err) {
    throw fail(`tls_config.${field}: read ${String(file)}: ${(err as Error).message}`, err);
  }
}

/**
 * parseDownstreamTripperConfig reads the YAML (strict, as Thanos's yaml.UnmarshalStrict: unknown
 * fields are errors). Durations that are 0 or absent keep the default, as Thanos only overrides
 * positive ones; the connection counts override when present. '' gives the defaults.
 */
export function parseDownstreamTripperConfig(yamlText: string): DownstreamTripperConfig {
  if (yamlText.trim() === '') return defaultTripperConfig;
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw fail((err as Error).message, err);
  }
  if (doc === null || doc === undefined) return defaultTripperConfig;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw fail('expected a mapping');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!known.has(k)) throw fail(`field ${k} not found in type queryfrontend.DownstreamTripperConfig`);
  const dur = (k: string, def: number): number => {
    const v = d[k];
    if (v === undefined || v === null || v === '') return def;
    const ms = parseDuration(String(v));
    if (ms === undefined) throw fail(`${k}: not a valid duration string: "${String(v)}"`);
    return ms > 0 ? ms : def;
  };
  const int = (k: string, def: number): number => {
    const v = d[k];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(`${k}: "${String(v)}" is not an integer`);
    return v;
  };
  let tls: DownstreamTls | undefined;
  const t = d['tls_config'];
  if (t !== undefined && t !== null) {
    if (typeof t !== 'object' || Array.isArray(t)) throw fail('tls_config must be a mapping');
    const tc = t as Record<string, unknown>;
    for (const k of Object.keys(tc)) if (!tlsKnown.has(k)) throw fail(`field ${k} not found in type exthttp.TLSConfig`);
    const hasCert = tc['cert_file'] !== undefined && tc['cert_file'] !== '';
    const hasKey = tc['key_file'] !== undefined && tc['key_file'] !== '';
    if (hasCert && !hasKey) throw fail(`client cert file "${String(tc['cert_file'])}" specified without client key file`);
    if (hasKey && !hasCert) throw fail(`client key file "${String(tc['key_file'])}" specified without client cert file`);
    const ca = readPem(tc['ca_file'], 'ca_file');
    const cert = readPem(tc['cert_file'], 'cert_file');
    const key = readPem(tc['key_file'], 'key_file');
    const serverName = tc['server_name'] === undefined || tc['server_name'] === '' ? undefined : String(tc['server_name']);
    tls = {
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(serverName !== undefined ? { serverName } : {}),
      insecureSkipVerify: tc['insecure_skip_verify'] === true,
    };
  }
  return {
    idleConnTimeoutMs: dur('idle_conn_timeout', defaultTripperConfig.idleConnTimeoutMs),
    responseHeaderTimeoutMs: dur('response_header_timeout', defaultTripperConfig.responseHeaderTimeoutMs),
    tlsHandshakeTimeoutMs: dur('tls_handshake_timeout', defaultTripperConfig.tlsHandshakeTimeoutMs),
    expectContinueTimeoutMs: dur('expect_continue_timeout', defaultTripperConfig.expectContinueTimeoutMs),
    maxIdleConns: int('max_idle_conns', defaultTripperConfig.maxIdleConns),
    maxIdleConnsPerHost: int('max_idle_conns_per_host', defaultTripperConfig.maxIdleConnsPerHost),
    maxConnsPerHost: int('max_conns_per_host', defaultTripperConfig.maxConnsPerHost),
    ...(tls !== undefined ? { tls } : {}),
  };
}
