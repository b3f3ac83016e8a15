/**
 * Processes for the ruler's end-to-end tests: a scrape target whose metric the test flips, a
 * Prometheus scraping it every second, a real Alertmanager, and `tessera rule` on chosen ports (so
 * a restarted ruler comes back where its querier looks for it).
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, waitFor } from '../../pkg/testutil/index.js';
import { onFreePorts, startService, tesseraArgs, type Service } from './services.js';

/** ToggleTarget serves `/metrics` with `test_toggle{name="a"} <value>`; set value to flip it. */
export interface ToggleTarget {
  readonly address: string;
  value: number;
  /** scrapes counts the scrapes served. */
  scrapes: number;
  /** set changes the value and forgets firstServedAt. */
  set(v: number): void;
  /** firstServedAt is when (ms) the first scrape after the last set() was answered. */
  firstServedAt: number | undefined;
  close(): Promise<void>;
}

/** startToggleTarget starts the scrape target on a free port. */
export function startToggleTarget(): Promise<ToggleTarget> {
  let server: Server;
  const t: ToggleTarget = {
    address: '',
    value: 0,
    scrapes: 0,
    firstServedAt: undefined,
    set(v) {
      t.value = v;
      t.firstServedAt = undefined;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  server = createServer((_req, res) => {
    t.scrapes++;
    t.firstServedAt ??= Date.now();
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE test_toggle gauge\ntest_toggle{name="a"} ${t.value}\n`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      (t as { address: string }).address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve(t);
    }),
  );
}

/** startScrapingPrometheus starts Prometheus scraping targets every second with external labels. */
export async function startScrapingPrometheus(bin: string, dir: string, targets: readonly string[], externalLabels: Readonly<Record<string, string>>): Promise<Service> {
  const ext = Object.entries(externalLabels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  const cfg = join(dir, 'prometheus.yml');
  await writeFile(cfg, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels:\n${ext}scrape_configs:\n  - job_name: toggle\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`);
  return onFreePorts(async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    return startService(
      'prometheus',
      bin,
      [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=${addr}`, '--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h'],
      { url: `http://${addr}/-/ready`, timeoutMs: 120_000 },
      { httpUrl: `http://${addr}` },
    );
  });
}

/** startAlertmanager starts a real Alertmanager (no cluster, a null receiver). */
export async function startAlertmanager(bin: string, dir: string): Promise<Service> {
  await writeFile(join(dir, 'am.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  return onFreePorts(async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    return startService(
      'alertmanager',
      bin,
      [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=${addr}`, '--cluster.listen-address='],
      { url: `http://${addr}/-/ready`, timeoutMs: 60_000 },
      { httpUrl: `http://${addr}` },
    );
  });
}

/** AmAlert is an element of Alertmanager's GET /api/v2/alerts. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

/** amAlerts lists Alertmanager's active alerts. */
export async function amAlerts(am: Service): Promise<AmAlert[]> {
  return (await (await fetch(`${am.httpUrl}/api/v2/alerts`)).json()) as AmAlert[];
}

/** RulerPorts are the addresses a ruler listens on (kept across restarts). */
export interface RulerPorts {
  readonly http: string;
  readonly grpc: string;
}

/** rulerPorts picks free ports for a ruler. */
export async function rulerPorts(): Promise<RulerPorts> {
  return { http: `127.0.0.1:${await freePort()}`, grpc: `127.0.0.1:${await freePort()}` };
}

/** startRuler starts `tessera rule` with args on ports and waits on /-/ready. */
export async function startRuler(ports: RulerPorts, args: readonly string[], name = 'tessera rule'): Promise<Service> {
  return startService(name, process.execPath, tesseraArgs(['rule', ...args, `--http-address=${ports.http}`, `--grpc-address=${ports.grpc}`]), { url: `http://${ports.http}/-/ready`, timeoutMs: 90_000 }, { httpUrl: `http://${ports.http}`, grpcAddress: ports.grpc });
}

/** waitAlert polls Alertmanager until check accepts its alert list. */
export function waitAlerts<T>(am: Service, what: string, check: (alerts: AmAlert[]) => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  return waitFor(what, async () => check(await amAlerts(am)), timeoutMs, 100);
}

/** startQuerierAt starts `tessera query` on a chosen HTTP address over endpoints, deduplicating on replicaLabels, and waits on /-/ready. */
export async function startQuerierAt(http: string, endpoints: readonly string[], replicaLabels: readonly string[]): Promise<Service> {
  const grpc = `127.0.0.1:${await freePort()}`;
  const args = ['query', ...endpoints.map((e) => `--endpoint=${e}`), ...replicaLabels.map((l) => `--query.replica-label=${l}`), `--http-address=${http}`, `--grpc-address=${grpc}`];
  return startService('tessera query', process.execPath, tesseraArgs(args), { url: `http://${http}/-/ready`, timeoutMs: 90_000 }, { httpUrl: `http://${http}`, grpcAddress: grpc });
}
