import { TesseraError } from '../errors/index.js';

/**
 * EndpointAddress is a parsed `--endpoint` value, in Thanos's syntax:
 * - `host:port`: a static address;
 * - `dns+host:port`: A/AAAA lookup of host, each address with port;
 * - `dnssrv+_grpc._tcp.name`: SRV lookup, then A/AAAA of each target with the SRV port;
 * - `dnssrvnoa+_grpc._tcp.name`: SRV lookup, targets used as they are.
 */
export interface EndpointAddress {
  readonly kind: 'static' | 'dns' | 'dnssrv' | 'dnssrvnoa';
  /** host (or SRV name) without the scheme prefix. */
  readonly host: string;
  /** port for static and dns addresses; undefined for SRV lookups. */
  readonly port: number | undefined;
  /** raw is the flag value as given. */
  readonly raw: string;
}

/** parseEndpointAddress parses one endpoint flag value; errors name the value. */
export function parseEndpointAddress(raw: string): EndpointAddress {
  const s = raw.trim();
  const m = /^(dns|dnssrv|dnssrvnoa)\+(.*)$/.exec(s);
  const kind = (m?.[1] ?? 'static') as EndpointAddress['kind'];
  const rest = m?.[2] ?? s;
  if (rest === '') throw new TesseraError('TESSERA_BAD_ENDPOINT', `endpoint "${raw}": empty address`);
  if (kind === 'dnssrv' || kind === 'dnssrvnoa') {
    if (/:\d+$/.test(rest)) throw new TesseraError('TESSERA_BAD_ENDPOINT', `endpoint "${raw}": SRV lookups take no port`);
    return { kind, host: rest, port: undefined, raw };
  }
  const hp = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(rest);
  if (hp === null) throw new TesseraError('TESSERA_BAD_ENDPOINT', `endpoint "${raw}": want host:port`);
  const port = Number(hp[3]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TesseraError('TESSERA_BAD_ENDPOINT', `endpoint "${raw}": port ${hp[3]} out of range`);
  }
  return { kind, host: (hp[1] ?? hp[2])!, port, raw };
}

/** formatHostPort joins host and port, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
