import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../pkg/testutil/index.js';
import { startTessera } from '../test/e2e/services.js';
import { runCommand } from './command.js';
import { ruleCommand } from './rule.js';
import { testThanosDefaults } from './thanos-defaults.js';

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
  const code = await runCommand(ruleCommand, argv, { stdout: sink, stderr: sink });
  return { code, out };
}

/** fakeQuerier answers every instant query with one sample `up{job="api"} = value`. */
function fakeQuerier(): Promise<{ server: Server; address: string; value: { v: number; down: boolean }; methods: Set<string> }> {
  const value = { v: 0, down: false };
  const methods = new Set<string>();
  const server = createServer((req, res) => {
    methods.add(req.method ?? '');
    req.resume();
    req.on('end', () => {
      if (value.down) {
        res.writeHead(503).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'api' }, value: [Date.now() / 1000, String(value.v)] }] } }));
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, value, methods })));
}

const RULES = `groups:
  - name: g
    interval: 1s
    rules:
      - record: job:up:max
        expr: max by (job) (up)
      - alert: Down
        expr: up == 0
        annotations:
          summary: "{{ $labels.job }} down"
`;

describe('tessera rule', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rule-cmd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--help lists Thanos\'s flags and defaults', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    for (const f of ['--rule-file=VALUE (repeatable)', '--query=VALUE (repeatable)', '--alertmanagers.url=VALUE (repeatable)', '--label=VALUE (repeatable)', '--alert.label-drop=VALUE (repeatable)', '--for-grace-period=VALUE', '--tsdb.block-duration=VALUE', '--query.default-step=VALUE']) {
      expect(out).toContain(f);
    }
    for (const d of ['"1m"', '"10m"', '"1h"', '"2h"', '"48h"', '"data/"', '"0.0.0.0:10901"', '"0.0.0.0:10902"']) expect(out).toContain(`(default: ${d})`);
  });

  test('bad flags exit 2 naming the flag', async () => {
    expect(await cli(['--query=q:1', '--eval-interval=soon'])).toMatchObject({ code: 2, out: expect.stringContaining('--eval-interval') });
    expect(await cli(['--query=q:1', '--label=1bad=x'])).toMatchObject({ code: 2, out: expect.stringContaining('1bad') });
    expect(await cli(['--query=q:1', '--query.http-method=PUT'])).toMatchObject({ code: 2, out: expect.stringContaining('--query.http-method') });
    expect(await cli(['--rule-file=x.yml'])).toMatchObject({ code: 2, out: expect.stringContaining('no --query') });
    expect(await cli(['--query=q:1', '--alertmanagers.url=am:9093'])).toMatchObject({ code: 2, out: expect.stringContaining('--alertmanagers.url "am:9093": scheme must be http or https') });
    expect(await cli(['--query=querier'])).toMatchObject({ code: 2, out: expect.stringContaining('--query: endpoint "querier": want host:port') });
    expect(await cli(['--endpoint=s:99999'])).toMatchObject({ code: 2, out: expect.stringContaining('--endpoint: endpoint "s:99999"') });
    expect(await cli(['--query=q:1', '--endpoint=s:1'])).toMatchObject({ code: 2, out: expect.stringContaining('mutually exclusive') });
    expect(await cli(['--query=q:1', '--objstore.config=type: FILESYSTEM'])).toMatchObject({ code: 2, out: expect.stringContaining('--label') });
    expect(await cli(['--query=q:1', '--nope'])).toMatchObject({ code: 2, out: expect.stringContaining('--nope') });
  });

  test.each([
    ['bad PromQL', 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(up\n', '5:15: group \\"g\\", rule 1, \\"x\\": could not parse expression'],
    ['invalid YAML', 'groups:\n  - name: g\n   rules: []\n', 'yaml: line 3'],
    ['duplicate group names', 'groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n', '4:5: groupname: \\"g\\" is repeated in the same file'],
    ['a template that does not parse', 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          s: \"{{ $labels.x \"\n', '7:14: group \\"g\\", rule 1, \\"A\\": annotation \\"s\\": template: __alert_A:1: unclosed action'],
  ])('%s in a rule file at start: exit 1 naming file and line', async (_what, text, want) => {
    const f = join(dir, `bad-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(f, text);
    const { code, out } = await cli([`--rule-file=${f}`, '--query=127.0.0.1:1', '--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0', `--data-dir=${join(dir, 'data-bad')}`]);
    expect(code).toBe(1);
    expect(out).toContain(`${f}: `);
    expect(out).toContain(want);
  });

  test('as a process: evaluates, serves rules and alerts, reloads on POST /-/reload and SIGHUP keeping the old rules on a bad file', async () => {
    const q = await fakeQuerier();
    const f = join(dir, 'rules.yml');
    writeFileSync(f, RULES);
    const ruler = await startTessera('rule', [`--rule-file=${join(dir, 'rules.y*ml')}`, `--query=${q.address}`, `--data-dir=${join(dir, 'data')}`, '--label=replica="r1"', '--query.http-method=GET']);
    try {
      const alerts = await waitFor('the alert firing', async () => {
        const body = (await (await fetch(`${ruler.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; annotations: Record<string, string> }[] } };
        return body.data.alerts.length > 0 && body.data.alerts[0]!.state === 'firing' ? body.data.alerts : undefined;
      });
      expect(alerts[0]!.annotations).toEqual({ summary: 'api down' });
      expect([...q.methods]).toEqual(['GET']);
      const rules = (await (await fetch(`${ruler.httpUrl}/api/v1/rules`)).json()) as { data: { groups: { name: string; partialResponseStrategy: string; rules: { health: string }[] }[] } };
      expect(rules.data.groups.map((g) => [g.name, g.partialResponseStrategy, g.rules.map((r) => r.health)])).toEqual([['g', 'ABORT', ['ok', 'ok']]]);
      // the TSDB's metrics
      expect(await (await fetch(`${ruler.httpUrl}/metrics`)).text()).toMatch(/^prometheus_tsdb_head_samples_appended_total [1-9]/m);
      // build info and flags as given or defaulted, as every Thanos component serves them
      const flags = (await (await fetch(`${ruler.httpUrl}/api/v1/status/flags`)).json()) as { status: string; data: Record<string, string> };
      expect(flags.status).toBe('success');
      expect(flags.data).toMatchObject({ query: q.address, label: 'replica="r1"', 'query.http-method': 'GET' });
      const info = (await (await fetch(`${ruler.httpUrl}/api/v1/status/buildinfo`)).json()) as { data: Record<string, string> };
      expect(Object.keys(info.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
      // the UI's rules page
      const page = await fetch(`${ruler.httpUrl}/rules`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Tessera Ruler');

      // a failing query API marks the rules unhealthy with the error; they recover at a later evaluation
      const health = async (): Promise<string[]> =>
        ((await (await fetch(`${ruler.httpUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string; lastError?: string }[] }[] } }).data.groups.flatMap((g) => g.rules.map((r) => `${r.health}${r.lastError === undefined ? '' : ` ${r.lastError}`}`));
      q.value.down = true;
      const failed = await waitFor('rules unhealthy', async () => {
        const h = await health();
        return h.every((x) => x.startsWith('err')) ? h : undefined;
      });
      expect(failed[0]).toMatch(/^err no query API server reachable: HTTP 503/);
      q.value.down = false;
      await waitFor('rules healthy again', async () => (await health()).every((x) => x === 'ok'));
      // a good reload keeps the firing alert as it was (same activeAt)
      const activeAt = async (): Promise<string[]> =>
        ((await (await fetch(`${ruler.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; activeAt: string }[] } }).data.alerts.map((a) => `${a.state} ${a.activeAt}`);
      const before = await activeAt();
      writeFileSync(f, `# edited\n${RULES}`);
      expect((await fetch(`${ruler.httpUrl}/-/reload`, { method: 'POST' })).status).toBe(200);
      expect(await activeAt()).toEqual(before);
      writeFileSync(f, 'groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n');
      const res = await fetch(`${ruler.httpUrl}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(500);
      expect(await res.text()).toMatch(/rules\.yml: 4:\d+: groupname: "g" is repeated in the same file/);
      expect(await (await fetch(`${ruler.httpUrl}/metrics`)).text()).toMatch(/thanos_rule_config_last_reload_successful 0/);
      const warned = (await (await fetch(`${ruler.httpUrl}/api/v1/rules`)).json()) as { warnings?: string[]; data: { groups: { rules: unknown[] }[] } };
      expect(warned.data.groups[0]!.rules).toHaveLength(2);
      expect(warned.warnings?.[0]).toMatch(/repeated in the same file/);

      // SIGHUP with a good file: one recording rule left, alert state gone with its rule
      writeFileSync(f, 'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - record: job:up:max\n        expr: max by (job) (up)\n');
      ruler.process.proc.kill('SIGHUP');
      await waitFor('the reload by SIGHUP', async () => /thanos_rule_config_last_reload_successful 1/.test(await (await fetch(`${ruler.httpUrl}/metrics`)).text()));
      const after = (await (await fetch(`${ruler.httpUrl}/api/v1/rules`)).json()) as { warnings?: string[]; data: { groups: { rules: unknown[] }[] } };
      expect(after.warnings).toBeUndefined();
      expect(after.data.groups[0]!.rules).toHaveLength(1);
    } finally {
      await ruler.stop();
      await new Promise((r) => q.server.close(r));
    }
  });
});

describe('tessera rule flags', () => {
  // `thanos rule --help` of Thanos v0.42 (booleans from its source).
  testThanosDefaults(ruleCommand, [
    ['enable-feature', undefined], ['query.enable-x-functions', false], 
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''], ['grpc-address', '0.0.0.0:10901'],
    ['grpc-server-tls-cert', ''], ['grpc-server-tls-key', ''], ['grpc-server-tls-client-ca', ''], ['grpc-server-tls-min-version', '1.3'],
    ['grpc-server-max-connection-age', '60m'], ['grpc-grace-period', '2m'], ['web.route-prefix', ''], ['web.external-prefix', ''], ['web.prefix-header', ''],
    ['web.disable-cors', false], ['shipper.upload-compacted', false], ['hash-func', ''],
    ['shipper.meta-file-name', 'thanos.shipper.json'], ['shipper.upload-concurrency', '0'], ['query', undefined], ['query.config-file', undefined],
    ['query.config', undefined], ['query.sd-files', undefined], ['query.sd-interval', '5m'], ['query.sd-dns-interval', '30s'],
    ['query.http-method', 'POST'], ['query.default-step', '1s'], ['alertmanagers.config-file', undefined], ['alertmanagers.config', undefined],
    ['alertmanagers.url', undefined], ['alertmanagers.send-timeout', '10s'], ['alertmanagers.sd-dns-interval', '30s'],
    ['alert.query-url', undefined], ['alert.label-drop', undefined], ['alert.relabel-config-file', undefined], ['alert.relabel-config', undefined],
    ['alert.query-template', '/graph?g0.expr={{.Expr}}&g0.tab=1'], ['label', undefined], ['tsdb.block-duration', '2h'], ['tsdb.retention', '48h'],
    ['tsdb.no-lockfile', false], ['tsdb.wal-compression', true], ['data-dir', 'data/'], ['rule-file', 'rules/'], ['resend-delay', '1m'],
    ['eval-interval', '1m'], ['rule-query-offset', '0s'], ['for-outage-tolerance', '1h'], ['for-grace-period', '10m'],
    ['rule-concurrent-evaluation', '1'], ['tsdb.enable-native-histograms', true], ['objstore.config-file', undefined],
    ['objstore.config', undefined], ['request.logging-config-file', undefined], ['request.logging-config', undefined],
  ]);

  test.each([
    [['--hash-func=MD5'], /--hash-func: "MD5"/],
    [['--shipper.upload-concurrency=-1'], /--shipper.upload-concurrency/],
    [['--http-grace-period=later'], /--http-grace-period/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    const r = await cli(['--query=127.0.0.1:1', ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(msg);
  });
});
