import { promises as dnsPromises } from 'node:dns';
import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { TesseraError } from '../errors/index.js';
import { formatHostPort, parseEndpointAddress, type EndpointAddress } from './endpoint-address.js';

/** Resolver is the part of node:dns the discovery uses; injectable for tests. */
export interface Resolver {
  lookup(host: string): Promise<readonly string[]>;
  resolveSrv(name: string): Promise<readonly { name: string; port: number }[]>;
}

/** systemResolver resolves with the operating system (lookup) and DNS (SRV). */
export const systemResolver: Resolver = {
  async lookup(host) {
    const res = await dnsPromises.lookup(host, { all: true });
    return res.map((r) => r.address);
  },
  async resolveSrv(name) {
    return dnsPromises.resolveSrv(name);
  },
};

/** EndpointDiscoveryOptions configure where endpoint addresses come from. */
export interface EndpointDiscoveryOptions {
  /** endpoints are `--endpoint` values (static, dns+, dnssrv+, dnssrvnoa+). */
  readonly endpoints: readonly string[];
  /** sdFiles are `--endpoint.sd-files` paths (Prometheus file SD format, YAML or JSON). */
  readonly sdFiles?: readonly string[];
  /** sdFileIntervalMs is how often SD files are re-read (Thanos: --endpoint.sd-interval, 5m). */
  readonly sdFileIntervalMs?: number;
  /** dnsIntervalMs is how often DNS names are re-resolved (Thanos: --store.sd-dns-interval, 30s). */
  readonly dnsIntervalMs?: number;
  readonly resolver?: Resolver;
  /** onError receives refresh problems (a failed lookup keeps the previous addresses). */
  readonly onError?: (err: Error) => void;
}

/**
 * EndpointDiscovery turns endpoint flags, SD files and DNS names into the current list of
 * `host:port` addresses, refreshed in the background. A failed DNS lookup or unreadable SD file
 * keeps the last good result for that source, so a DNS blip never empties the endpoint set.
 */
export class EndpointDiscovery {
  readonly #static: EndpointAddress[];
  readonly #opts: EndpointDiscoveryOptions;
  readonly #resolver: Resolver;
  #fileTargets = new Map<string, { mtimeMs: number; addrs: EndpointAddress[] }>();
  #resolved = new Map<string, string[]>();
  #timers: NodeJS.Timeout[] = [];

  constructor(opts: EndpointDiscoveryOptions) {
    this.#opts = opts;
    this.#resolver = opts.resolver ?? systemResolver;
    this.#static = opts.endpoints.map(parseEndpointAddress);
    const seen = new Set<string>();
    for (const a of this.#static) {
      if (seen.has(a.raw)) throw new TesseraError('TESSERA_BAD_ENDPOINT', `${a.raw} endpoint provided more than once`);
      seen.add(a.raw);
    }
  }

  /** refresh re-reads SD files and re-resolves DNS names once. */
  async refresh(): Promise<void> {
    await this.refreshFiles();
    await this.refreshDns();
  }

  /** refreshFiles re-reads the SD files whose modification time changed. */
  async refreshFiles(): Promise<void> {
    for (const path of this.#opts.sdFiles ?? []) {
      try {
        const st = await stat(path);
        const prev = this.#fileTargets.get(path);
        if (prev !== undefined && prev.mtimeMs === st.mtimeMs) continue;
        const addrs = parseFileSD(await readFile(path, 'utf8'), path);
        this.#fileTargets.set(path, { mtimeMs: st.mtimeMs, addrs });
      } catch (err) {
        this.#opts.onError?.(new TesseraError('TESSERA_SD_FILE', `read endpoint SD file ${path}: ${(err as Error).message}`, { cause: err }));
      }
    }
  }

  /** refreshDns resolves every dns+/dnssrv+ address once. */
  async refreshDns(): Promise<void> {
    const all = this.#allAddresses().filter((a) => a.kind !== 'static');
    await Promise.all(
      all.map(async (a) => {
        try {
          this.#resolved.set(a.raw, await this.#resolve(a));
        } catch (err) {
          this.#opts.onError?.(new TesseraError('TESSERA_DNS', `resolve endpoint ${a.raw}: ${(err as Error).message}`, { cause: err }));
        }
      }),
    );
  }

  async #resolve(a: EndpointAddress): Promise<string[]> {
    switch (a.kind) {
      case 'static':
        return [formatHostPort(a.host, a.port!)];
      case 'dns':
        return (await this.#resolver.lookup(a.host)).map((ip) => formatHostPort(ip, a.port!));
      case 'dnssrvnoa':
        return (await this.#resolver.resolveSrv(a.host)).map((r) => formatHostPort(r.name, r.port));
      case 'dnssrv': {
        const out: string[] = [];
        for (const r of await this.#resolver.resolveSrv(a.host)) {
          for (const ip of await this.#resolver.lookup(r.name)) out.push(formatHostPort(ip, r.port));
        }
        return out;
      }
    }
  }

  #allAddresses(): EndpointAddress[] {
    const out = [...this.#static];
    for (const f of this.#fileTargets.values()) out.push(...f.addrs);
    return out;
  }

  /** addresses returns the current, de-duplicated, sorted list of host:port addresses. */
  addresses(): string[] {
    const set = new Set<string>();
    for (const a of this.#allAddresses()) {
      if (a.kind === 'static') set.add(formatHostPort(a.host, a.port!));
      else for (const r of this.#resolved.get(a.raw) ?? []) set.add(r);
    }
    return [...set].sort();
  }

  /** start refreshes once, then keeps refreshing in the background until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    const fileMs = this.#opts.sdFileIntervalMs ?? 5 * 60_000;
    const dnsMs = this.#opts.dnsIntervalMs ?? 30_000;
    if ((this.#opts.sdFiles?.length ?? 0) > 0) {
      this.#timers.push(setInterval(() => void this.refreshFiles().then(() => this.refreshDns()), fileMs).unref());
    }
    this.#timers.push(setInterval(() => void this.refreshDns(), dnsMs).unref());
  }

  /** stop ends background refreshing. */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }
}

/**
 * parseFileSD reads a Prometheus file-SD document (YAML or JSON): a list of
 * `{targets: [addr...], labels: {...}}` groups. Every target is an endpoint address.
 */
export function parseFileSD(text: string, path: string): EndpointAddress[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TesseraError('TESSERA_SD_FILE', `parse ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new TesseraError('TESSERA_SD_FILE', `parse ${path}: want a list of target groups`);
  const out: EndpointAddress[] = [];
  doc.forEach((g: unknown, i: number) => {
    const targets = (g as { targets?: unknown } | null)?.targets;
    if (!Array.isArray(targets)) throw new TesseraError('TESSERA_SD_FILE', `parse ${path}: group ${i} has no targets list`);
    for (const t of targets) {
      if (typeof t !== 'string') throw new TesseraError('TESSERA_SD_FILE', `parse ${path}: group ${i} has a non-string target`);
      out.push(parseEndpointAddress(t));
    }
  });
  return out;
}
