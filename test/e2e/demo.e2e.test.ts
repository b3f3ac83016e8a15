import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { demoHistoryEnd, writeDemoBlocks } from '../../pkg/demo/index.js';
import { FilesystemBucket } from '../../pkg/objstore/index.js';
import { freePort, requireBinary, waitFor } from '../../pkg/testutil/index.js';
import { REPO_ROOT, startService, tesseraArgs, type Service } from './services.js';
import { workerThreadsFlag } from '../../cmd/query.js';

// `npm start` runs `tessera demo`: this starts it as a real process on free ports and checks that
// the deduplicated history answers, that the compactor runs over the demo bucket, that every URL
// it prints answers (query-frontend included), that (when Prometheus is installed) live data of the
// HA pair arrives through the sidecars, that the ruler's groups, recorded series and alerts show
// through the querier (and reach the Alertmanager when it is installed), and that SIGINT stops
// every process it started.
const alertmanagerInstalled = requireBinary('prometheus-alertmanager') !== undefined;

describe('tessera demo', () => {
  let demo: Service;
  let url: string;
  let frontendUrl: string;
  let printed: Map<string, string>;

  beforeAll(async () => {
    const http = await freePort();
    const grpc = await freePort();
    const frontend = await freePort();
    url = `http://127.0.0.1:${http}`;
    frontendUrl = `http://127.0.0.1:${frontend}`;
    demo = await startService(
      'demo',
      process.execPath,
      tesseraArgs(['demo', `--data-dir=${join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'd')}`, `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, `--frontend-address=127.0.0.1:${frontend}`, '--hours=4', '--rule-eval-interval=2s']),
      { url: `${url}/-/ready`, timeoutMs: 90_000 },
      { httpUrl: url },
    );
    // The querier is ready before the ruler and query-frontend start (each given up to 60 s by the
    // demo itself; on a loaded 2-core machine tsx alone takes tens of seconds): wait for the banner
    // with the URLs, and on a time-out show what the demo printed last.
    const banner = await waitFor('the demo banner', async () => {
      const out = demo.process.output();
      if (demo.process.proc.exitCode !== null) throw new Error(`the demo exited (${demo.process.proc.exitCode}) before its banner:\n${out.slice(-3000)}`);
      return out.includes('Press Ctrl+C to stop.') ? out : undefined;
    }, 200_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- demo output (last 3000 characters) ---\n${demo.process.output().slice(-3000)}`);
    });
    printed = new Map();
    for (const m of banner.matchAll(/^ {2}([a-z][a-z ()A-Z,-]*):\s+(https?:\/\/\S+)$/gm)) printed.set(m[1]!, m[2]!);
  }, 320_000);

  afterAll(async () => {
    await demo?.process.stop(30_000);
  });

  const query = async (q: string) => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: q })}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  };

  test('serves the demo history with the two replicas deduplicated', async () => {
    const r = await query('count by (cluster) (up{job="node"})');
    expect(r).toEqual([{ metric: { cluster: 'demo' }, value: [expect.any(Number), '4'] }]);
    const both = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: 'count(up{job="node"})', dedup: 'false' })}`);
    expect(((await both.json()) as any).data.result[0].value[1]).toBe('8');
  });

  test("the querier evaluates queries in worker threads, as many as tessera query's auto default", async () => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^tessera_querier_query_worker_threads ${workerThreadsFlag('auto')}$`, 'm'));
  });

  test('rate over the history is positive for every host', async () => {
    const r = await query('sum by (instance) (rate(http_requests_total{code="200"}[5m]))');
    expect(r).toHaveLength(4);
    for (const s of r) expect(Number(s.value[1])).toBeGreaterThan(0);
  });

  test('prints every URL, and each answers /-/ready', async () => {
    expect([...printed.keys()]).toEqual(expect.arrayContaining(['query-frontend', 'querier (UI, API)', 'store gateway', 'compactor', 'ruler']));
    // (the demo also takes an upstream `alertmanager` binary from PATH)
    if (alertmanagerInstalled) expect(printed.has('alertmanager')).toBe(true);
    expect(printed.get('querier (UI, API)')).toBe(url);
    expect(printed.get('query-frontend')).toBe(frontendUrl);
    if (requireBinary('prometheus') !== undefined) expect([...printed.keys()]).toEqual(expect.arrayContaining(['prometheus a', 'prometheus b', 'sidecar a', 'sidecar b']));
    for (const [name, u] of printed) {
      const res = await fetch(`${u}/-/ready`);
      expect(res.status, `${name} ${u}/-/ready`).toBe(200);
    }
  });

  test('the compactor runs passes over the demo bucket', async () => {
    const compactor = printed.get('compactor')!;
    const iterations = await waitFor('a finished compactor pass', async () => {
      const text = await (await fetch(`${compactor}/metrics`)).text();
      const m = /^thanos_compact_iterations_total (\d+)/m.exec(text);
      return m !== null && Number(m[1]) >= 1 ? Number(m[1]) : undefined;
    }, 90_000, 500);
    expect(iterations).toBeGreaterThanOrEqual(1);
  });

  test('the query-frontend answers range queries as the querier does', async () => {
    // A step-aligned range: the frontend aligns start and end with the step (--query-range.align-range-with-step, on by default as in Thanos).
    const end = Math.floor((Date.now() / 1000 - 3600) / 300) * 300;
    const params = new URLSearchParams({ query: 'sum by (instance) (rate(http_requests_total{code="200"}[5m]))', start: String(end - 7200), end: String(end), step: '300' });
    const viaFrontend = await fetch(`${frontendUrl}/api/v1/query_range?${params}`);
    const direct = await fetch(`${url}/api/v1/query_range?${params}`);
    expect(viaFrontend.status).toBe(200);
    const a = ((await viaFrontend.json()) as any).data.result;
    const b = ((await direct.json()) as any).data.result;
    expect(a).toHaveLength(4);
    expect(a).toEqual(b);
  });

  test.skipIf(requireBinary('prometheus') === undefined)('live data from the real Prometheus arrives through the sidecar', async () => {
    const r = await waitFor('live up{job="prometheus"} through the sidecar', async () => {
      const res = await query('up{job="prometheus", cluster="live"}');
      return res.length > 0 ? res : undefined;
    }, 60_000, 500);
    expect(r[0]?.value[1]).toBe('1');
    // Both replicas scrape the same targets: without dedup both replicas show, with dedup one
    // series per Prometheus and no replica label.
    const replicas = await waitFor('both replicas through their sidecars', async () => {
      const raw = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: 'up{job="prometheus", cluster="live"}', dedup: 'false' })}`);
      const res = ((await raw.json()) as { data: { result: { metric: Record<string, string> }[] } }).data.result;
      const set = new Set(res.map((s) => s.metric['replica']));
      return set.has('a') && set.has('b') ? set : undefined;
    }, 60_000, 500);
    expect([...replicas].sort()).toEqual(['a', 'b']);
    const deduped = await query('up{job="prometheus", cluster="live"}');
    expect(deduped.every((s) => s.metric['replica'] === undefined)).toBe(true);
    expect(deduped.length).toBeLessThanOrEqual(2);
  });

  test('the querier lists the demo rule groups of the ruler', async () => {
    const groups = await waitFor('the demo rule groups in the querier\'s /api/v1/rules', async () => {
      const res = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; type: string; health: string }[] }[] } };
      const g = res.data.groups;
      return g.some((x) => x.name === 'demo-api') && g.some((x) => x.name === 'demo-node') ? g : undefined;
    }, 60_000, 250);
    expect(groups.map((g) => g.name).sort()).toEqual(['demo-api', 'demo-node']);
    const api = groups.find((g) => g.name === 'demo-api')!;
    expect(api.rules.map((r) => r.name).sort()).toEqual(['DemoApiErrorRatioCritical', 'DemoApiErrorRatioHigh', 'job:http_requests:rate15m', 'job_code:http_requests:rate15m', 'job_handler:http_request_duration_seconds:p90_15m']);
  });

  test('the recorded series is queryable through the querier, with the ruler\'s replica label deduplicated away', async () => {
    const r = await waitFor('job:http_requests:rate15m through the querier', async () => {
      const res = await query('job:http_requests:rate15m');
      return res.length > 0 ? res : undefined;
    }, 60_000, 250);
    expect(r).toHaveLength(1);
    expect(r[0]!.metric).toEqual({ __name__: 'job:http_requests:rate15m', job: 'api' });
    // 4 hosts × 3 handlers, about 21 requests/s each
    expect(Number(r[0]!.value[1])).toBeGreaterThan(100);
    const raw = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: 'job:http_requests:rate15m', dedup: 'false' })}`);
    expect(((await raw.json()) as any).data.result.map((s: { metric: Record<string, string> }) => s.metric['replica'])).toEqual(['r0']);
  });

  test('DemoApiErrorRatioHigh becomes firing (at the Alertmanager too when installed), DemoApiErrorRatioCritical does not', async () => {
    type ApiAlert = { labels: Record<string, string>; annotations: Record<string, string>; state: string };
    const firing = await waitFor('DemoApiErrorRatioHigh firing in the querier\'s /api/v1/alerts', async () => {
      const res = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: ApiAlert[] } };
      const a = res.data.alerts.find((x) => x.labels['alertname'] === 'DemoApiErrorRatioHigh' && x.state === 'firing');
      return a !== undefined ? res.data.alerts : undefined;
    }, 90_000, 500);
    expect(firing.filter((a) => a.labels['alertname']?.startsWith('DemoApi'))).toEqual([
      expect.objectContaining({ labels: { alertname: 'DemoApiErrorRatioHigh', job: 'api', severity: 'warning' }, annotations: expect.objectContaining({ summary: expect.stringMatching(/^api answers \d\.\d+% of its requests with a 5xx code$/) }), state: 'firing' }),
    ]);
    const rules = (await (await fetch(`${url}/api/v1/rules?type=alert`)).json()) as { data: { groups: { name: string; rules: { name: string; state: string }[] }[] } };
    const critical = rules.data.groups.flatMap((g) => g.rules).find((r) => r.name === 'DemoApiErrorRatioCritical');
    expect(critical?.state).toBe('inactive');
    const am = printed.get('alertmanager');
    if (am === undefined) return;
    // Sent with --alert.label-drop=replica: the Alertmanager sees no replica label.
    const atAm = await waitFor('DemoApiErrorRatioHigh at the Alertmanager', async () => {
      const list = (await (await fetch(`${am}/api/v2/alerts`)).json()) as { labels: Record<string, string>; status: { state: string } }[];
      return list.find((a) => a.labels['alertname'] === 'DemoApiErrorRatioHigh');
    }, 60_000, 500);
    expect(atAm.labels).toEqual({ alertname: 'DemoApiErrorRatioHigh', job: 'api', severity: 'warning' });
    expect(atAm.status.state).toBe('active');
  });

  // Last: Ctrl-C stops the demo and every process it started.
  test('SIGINT stops everything it started', async () => {
    const exited = new Promise<number | null>((r) => demo.process.proc.once('exit', (code) => r(code)));
    demo.process.proc.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const [name, u] of printed) {
      const up = await fetch(`${u}/-/healthy`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
      expect(up, `${name} at ${u} still answers after SIGINT`).toBe(false);
    }
  });
});

// A restarted demo: the history written 3 hours ago is topped up to now, so queries at the current
// time answer again; --no-ruler leaves the ruler and the Alertmanager out.
describe('tessera demo, restarted on an old data dir with --no-ruler', () => {
  test('tops the history up to now and starts neither ruler nor Alertmanager', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'd');
    const bucket = new FilesystemBucket({ directory: join(dataDir, 'bucket') });
    const oldEnd = Math.floor((Date.now() - 3 * 3600_000) / 15_000) * 15_000;
    await writeDemoBlocks(bucket, join(dataDir, 'work'), { endMs: oldEnd, hours: 2 });
    expect(await demoHistoryEnd(bucket)).toBe(oldEnd);
    const http = await freePort();
    const url = `http://127.0.0.1:${http}`;
    const demo = await startService(
      'demo',
      process.execPath,
      tesseraArgs(['demo', `--data-dir=${dataDir}`, `--http-address=127.0.0.1:${http}`, '--grpc-address=127.0.0.1:0', '--frontend-address=127.0.0.1:0', '--hours=4', '--no-ruler', '--no-prometheus', '--no-compactor']),
      { url: `${url}/-/ready`, timeoutMs: 90_000 },
      { httpUrl: url },
    );
    try {
      const banner = await waitFor('the demo banner', async () => {
        const out = demo.process.output();
        return out.includes('Press Ctrl+C to stop.') ? out : undefined;
      }, 90_000, 200);
      expect(banner).toContain('topped up the demo history to now');
      expect(banner).toContain('ruler not started');
      expect(banner).not.toMatch(/^ {2}(ruler|alertmanager):/m);
      expect(Date.now() - (await demoHistoryEnd(bucket))!).toBeLessThan(5 * 60_000);
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: 'sum by (instance) (rate(http_requests_total[5m]))' })}`);
      const result = ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
      expect(result).toHaveLength(4);
      for (const r of result) expect(Number(r.value[1])).toBeGreaterThan(0);
      const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
      expect(rules.data.groups).toEqual([]);
    } finally {
      await demo.process.stop(30_000);
    }
  });
});

// A child that cannot start (here: the query-frontend's address is taken) ends the demo with the
// reason from the child's log and the log's path, not only its exit code.
describe('tessera demo, with the query-frontend address taken', () => {
  test('exits non-zero naming the reason and the log file', async () => {
    // Taken by an HTTP server that is never ready (the demo polls the frontend's /-/ready).
    const busy = createServer((_req, res) => res.writeHead(503, { Connection: 'close' }).end());
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (busy.address() as { port: number }).port;
      const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'd');
      const http = await freePort();
      const args = tesseraArgs(['demo', `--data-dir=${dataDir}`, `--http-address=127.0.0.1:${http}`, '--grpc-address=127.0.0.1:0', `--frontend-address=127.0.0.1:${port}`, '--hours=1', '--no-ruler', '--no-prometheus', '--no-compactor']);
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = execFile(process.execPath, args, { cwd: REPO_ROOT, timeout: 60_000 }, (_err, stdout, stderr) => resolve({ code: c.exitCode, out: `${stdout}${stderr}` }));
      });
      expect(code).not.toBe(0);
      expect(out).toContain(`query-frontend exited with code 1 before it was ready: tessera query-frontend: Error: listen EADDRINUSE: address already in use 127.0.0.1:${port} (log: ${join(dataDir, 'logs', 'query-frontend.log')})`);
    } finally {
      busy.closeAllConnections();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

/** pidsWith lists the processes whose command line contains text (read from /proc). */
function pidsWith(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

// SIGINT to the demo process alone (not its process group) while it is still starting: what it
// has started stops too. It used to die at once (Node's default) and leave the compactor running.
describe.skipIf(process.platform !== 'linux')('tessera demo, interrupted while starting', () => {
  test('stops the children started so far and exits 0', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'd');
    const http = await freePort();
    const demo = spawn(process.execPath, tesseraArgs(['demo', `--data-dir=${dataDir}`, `--http-address=127.0.0.1:${http}`, '--grpc-address=127.0.0.1:0', '--frontend-address=127.0.0.1:0', '--hours=1', '--no-ruler', '--no-prometheus']), { cwd: REPO_ROOT, stdio: 'ignore' });
    try {
      // The compactor is the first child: once its log exists it runs, and the demo waits for it.
      await waitFor('the compactor started', async () => {
        if (demo.exitCode !== null) throw new Error(`demo exited with ${demo.exitCode}`);
        return existsSync(join(dataDir, 'logs', 'compactor.log')) && pidsWith(join(dataDir, 'compact')).length > 0;
      }, 90_000, 50);
      demo.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => (demo.exitCode !== null ? resolve(demo.exitCode) : demo.once('exit', (c) => resolve(c))));
      expect(code).toBe(0);
      expect(pidsWith(join(dataDir, 'compact'))).toEqual([]);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
      for (const pid of pidsWith(dataDir)) process.kill(pid, 'SIGKILL');
    }
  });
});
