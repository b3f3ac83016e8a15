import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { freePort, requireBinary, startProcess, waitFor, waitForHttp, type ManagedProcess } from '../testutil/index.js';
import type { Alert } from './alerting-rule.js';
import { toAlertmanagerAlerts, type AlertmanagerAlert } from './alertmanager-payload.js';
import { AlertmanagerSender } from './alertmanager-sender.js';

const alertmanager = requireBinary('prometheus-alertmanager');

async function body(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += String(c);
  return s;
}

async function listen(handler: (req: IncomingMessage, body: string) => number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void body(req).then((b) => {
      res.statusCode = handler(req, b);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/prefix` };
}

const amAlert = (i: number): AlertmanagerAlert => ({ labels: { alertname: 'A', i: String(i) }, startsAt: '2026-11-25T14:34:09.690Z', endsAt: '2026-11-25T14:38:09.690Z', generatorURL: 'http://x/graph' });

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('AlertmanagerSender', () => {
  test('batches POST /api/v2/alerts as a JSON array; a batch nobody accepts is retried with doubling backoff', async () => {
    const posts: { path: string; type: string; n: number }[] = [];
    let failures = 2;
    const { server, url } = await listen((req, b) => {
      posts.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', n: (JSON.parse(b) as unknown[]).length });
      return failures-- > 0 ? 503 : 200;
    });
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const sleeps: number[] = [];
    const sender = new AlertmanagerSender({ urls: [url], batchSize: 100, minBackoffMs: 100, maxBackoffMs: 150, sleep: async (ms) => void sleeps.push(ms) });
    sender.send(Array.from({ length: 250 }, (_x, i) => amAlert(i)));
    await sender.idle();
    expect(sleeps).toEqual([100, 150]);
    expect(posts.map((p) => p.n)).toEqual([100, 100, 100, 100, 50]);
    expect(posts.every((p) => p.path === '/prefix/api/v2/alerts' && p.type === 'application/json')).toBe(true);
    expect(sender.stats).toEqual({ sent: 250, dropped: 0, failedPosts: 2, retries: 2 });
  });

  test('delivered when one of several Alertmanagers accepts; queue capacity drops the oldest', async () => {
    const got: number[] = [];
    const { server, url } = await listen((_r, b) => {
      got.push(...(JSON.parse(b) as AlertmanagerAlert[]).map((a) => Number(a.labels['i'])));
      return 200;
    });
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const down = `http://127.0.0.1:${await freePort()}`;
    const errors: string[] = [];
    const sender = new AlertmanagerSender({ urls: [down, url], capacity: 3, onError: (u) => errors.push(u), sleep: async () => {} });
    sender.send([amAlert(1), amAlert(2), amAlert(3), amAlert(4), amAlert(5)]);
    await sender.idle();
    expect(got).toEqual([3, 4, 5]);
    expect(sender.stats.dropped).toBe(2);
    expect(errors).toEqual([`${down}/api/v2/alerts`]);
  });

  test.skipIf(alertmanager === undefined)('a real Alertmanager lists the alert with its labels and annotations, and drops it once resolved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-am-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'am.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
    const port = await freePort();
    const am: ManagedProcess = startProcess(alertmanager!, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=']);
    cleanups.push(() => am.stop());
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/-/ready`);
    const firedAt = Date.now() - 60_000;
    const alert: Alert = {
      state: 'firing', labels: Labels.fromStrings('alertname', 'TestFor', 'instance', 'h:1', 'severity', 'page'), annotations: { summary: 'toggle a is 1' },
      value: 1, activeAt: firedAt, firedAt, resolvedAt: 0, lastSentAt: Date.now(), validUntil: Date.now() + 240_000, keepFiringSince: 0,
    };
    const opts = { externalURL: 'http://ruler:10902', externalLabels: Labels.fromStrings('replica', 'r1', 'cluster', 'eu1'), mode: 'thanos' as const, dropLabels: ['replica'] };
    const sender = new AlertmanagerSender({ urls: [base], sleep: async () => {} });
    cleanups.push(async () => sender.close());
    sender.send(toAlertmanagerAlerts('test_toggle > 0', [alert], opts));
    await sender.idle();
    expect(sender.stats.sent).toBe(1);
    const listed = (await (await fetch(`${base}/api/v2/alerts`)).json()) as { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; generatorURL: string; status: { state: string } }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]!.labels).toEqual({ alertname: 'TestFor', cluster: 'eu1', instance: 'h:1', severity: 'page' });
    expect(listed[0]!.annotations).toEqual({ summary: 'toggle a is 1' });
    expect(Date.parse(listed[0]!.startsAt)).toBe(firedAt);
    expect(listed[0]!.generatorURL).toBe('http://ruler:10902/graph?g0.expr=test_toggle+%3E+0&g0.tab=1');
    // resolved: endsAt = resolvedAt in the past, Alertmanager stops listing it
    sender.send(toAlertmanagerAlerts('test_toggle > 0', [{ ...alert, state: 'inactive', resolvedAt: Date.now() - 1000 }], opts));
    await sender.idle();
    await waitFor('resolved alert to leave the list', async () => ((await (await fetch(`${base}/api/v2/alerts`)).json()) as unknown[]).length === 0);
  });
});
