import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRulesApiRouter, serveWebUi } from '../api/index.js';
import { Labels } from '../labels/index.js';
import { RuleManager, TemplateExpander, type RuleGroupDeps } from '../rules/index.js';
import { StoreGrpcServer, snapshotRulesServer, type StoreServer } from '../store/index.js';
import { launchChromium, requireBinary, testQuerierOptions } from '../testutil/index.js';
import { Querier } from './querier-service.js';

const chromium = requireBinary('chromium');
const S = 1000;
const FILE = `groups:
  - name: node
    interval: 15s
    rules:
      - alert: NodeDown
        expr: up == 0
        for: 1m
        labels: { severity: page }
        annotations: { summary: 'instance {{ $labels.instance }} is down' }
      - alert: DiskFull
        expr: disk_free < 0.1
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: broken
        expr: nope
`;

/** A rule manager evaluated twice, one minute apart: NodeDown firing for one instance, DiskFull inactive, 'broken' failing. */
async function evaluatedManager(): Promise<RuleManager> {
  const m = new RuleManager({ defaultInterval: 60 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } });
  expect((await m.update([{ path: '/etc/tessera/node.yml', text: FILE }])).errors).toEqual([]);
  const deps: RuleGroupDeps = {
    query: async (expr, t) => {
      if (expr === 'nope') throw new Error('unknown series "nope"');
      if (expr === 'up == 0') return [{ labels: Labels.fromStrings('__name__', 'up', 'instance', 'db-1:9100', 'job', 'node'), t, v: 0 }];
      if (expr.startsWith('sum')) return [{ labels: Labels.fromStrings('job', 'node'), t, v: 3 }];
      return [];
    },
    append: async () => {},
    notify: () => {},
    templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
  };
  const now = Date.now();
  for (const t of [now - 60 * S, now]) for (const g of m.groups()) await g.eval(t, deps);
  return m;
}

describe.skipIf(chromium === undefined)('alerts and rules pages in headless Chromium', () => {
  let ruler: StoreGrpcServer;
  let querier: Querier;
  let rulerUi: ReturnType<express.Express['listen']>;
  let browser: Browser;
  let page: Page;
  let url: string;
  let rulerUrl: string;

  beforeAll(async () => {
    const m = await evaluatedManager();
    const store: StoreServer = {
      info: async () => ({ labelSets: [Labels.fromRecord({ replica: 'r1' })], componentType: 'rule', store: { minTime: 0, maxTime: 1 } }),
      series: async () => {},
      labelNames: async () => ({ names: [], warnings: [] }),
      labelValues: async () => ({ values: [], warnings: [] }),
    };
    ruler = new StoreGrpcServer(store, { rules: snapshotRulesServer(() => m.snapshot(), { externalLabels: Labels.fromRecord({ replica: 'r1' }) }) });
    const addr = `127.0.0.1:${await ruler.listen('127.0.0.1:0')}`;
    querier = new Querier(testQuerierOptions([addr]));
    await querier.start();
    url = `http://127.0.0.1:${querier.httpPort}`;
    // A ruler's own HTTP server reuses the same pages ('rule' kind) over its /api/v1/rules.
    const app = express();
    app.use('/api/v1', createRulesApiRouter({ rules: () => m.snapshot() }));
    serveWebUi(app, { kind: 'rule', pages: ['/', '/alerts', '/rules'] });
    rulerUi = app.listen(0, '127.0.0.1');
    await new Promise((r) => rulerUi.once('listening', r));
    rulerUrl = `http://127.0.0.1:${(rulerUi.address() as AddressInfo).port}`;
    ({ browser, page } = await launchChromium(chromium!));
  });

  afterAll(async () => {
    await browser?.close();
    rulerUi?.close();
    await querier?.stop();
    await ruler?.stop(100);
  });

  const shot = async (name: string) => {
    const dir = process.env['TESSERA_UI_SCREENSHOTS'];
    if (dir !== undefined) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
  };

  test('the querier alerts page shows the firing rule with its alert, and filters by state', async () => {
    await page.goto(`${url}/alerts`);
    const firing = page.locator('details.alert-rule[data-rule="NodeDown"]');
    await firing.waitFor({ timeout: 20_000 });
    expect(await page.locator('nav a.active').textContent()).toBe('Alerts');
    expect(await firing.getAttribute('class')).toContain('firing');
    const text = await firing.textContent();
    expect(text).toContain('FIRING');
    expect(text).toContain('(1 active)');
    expect(text).toContain('instance="db-1:9100"');
    expect(text).toContain('instance db-1:9100 is down'); // expanded annotation
    expect(text).toContain('severity="page"');
    expect(text).not.toContain('replica='); // removed by the querier's replica label
    expect(await page.locator('.state-filters').textContent()).toContain('Firing (1)');
    await expect.poll(() => page.locator('details.alert-rule').count()).toBe(2);
    await page.locator('.state-filters input[data-state="inactive"]').uncheck();
    await expect.poll(() => page.locator('details.alert-rule').count()).toBe(1);
    await shot('alerts');
  });

  test('the querier rules page lists every rule with health and errors', async () => {
    await page.goto(`${url}/rules`);
    const table = page.locator('table.rules');
    await table.waitFor({ timeout: 20_000 });
    expect(await page.locator('.rule-group h3').textContent()).toBe('node');
    expect(await page.locator('.group-head').textContent()).toContain('/etc/tessera/node.yml · every 15s');
    await expect.poll(() => page.locator('table.rules tbody tr').count()).toBe(4);
    const broken = await page.locator('tr[data-rule="broken"]').textContent();
    expect(broken).toContain('ERR');
    expect(broken).toContain('unknown series "nope"');
    const rec = await page.locator('tr[data-rule="job:up:sum"]').textContent();
    expect(rec).toContain('sum by (job) (up)');
    expect(rec).toContain('OK');
    await shot('rules');
  });

  test("a ruler serves the same pages over its own API ('rule' kind: alerts and rules only)", async () => {
    await page.goto(`${rulerUrl}/`);
    await page.locator('details.alert-rule[data-rule="NodeDown"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('nav a').allTextContents()).toEqual(['Tessera', 'Alerts', 'Rules']);
    await page.locator('nav a', { hasText: 'Rules' }).click();
    await expect.poll(() => page.locator('table.rules tbody tr').count(), { timeout: 20_000 }).toBe(4);
  });
});
