import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Labels } from '../labels/index.js';
import { LocalStore, MemChunkQueryable, StoreGrpcServer } from '../store/index.js';
import { distinctColours, launchChromium, requireBinary, testQuerierOptions } from '../testutil/index.js';
import { Querier } from './querier-service.js';

const chromium = requireBinary('chromium');

/** Series ending now, so the UI's default "last hour" shows them: two counters and a gauge. */
function storeSeries() {
  const now = Date.now();
  const ts = Array.from({ length: 480 }, (_, i) => now - (479 - i) * 15_000);
  return [
    ...['api', 'web'].map((job, j) => ({
      labels: Labels.fromRecord({ __name__: 'tessera_demo_requests_total', job }),
      samples: ts.map((t, i) => [t, i * (j + 1) * 3 + (i % 2)] as const),
    })),
    { labels: Labels.fromRecord({ __name__: 'tessera_demo_temperature_celsius', job: 'api' }), samples: ts.map((t, i) => [t, 20 + 5 * Math.sin(i / 30)] as const) },
  ];
}

describe.skipIf(chromium === undefined)('web UI in headless Chromium', () => {
  let store: StoreGrpcServer;
  let querier: Querier;
  let browser: Browser;
  let page: Page;
  let url: string;
  let storeAddr: string;

  beforeAll(async () => {
    const q = new MemChunkQueryable(storeSeries());
    store = new StoreGrpcServer(new LocalStore({ queryable: q, externalLabels: Labels.fromRecord({ cluster: 'ui-test' }), componentType: 'sidecar', timeRange: () => q.timeRange() }));
    storeAddr = `127.0.0.1:${await store.listen('127.0.0.1:0')}`;
    querier = new Querier(testQuerierOptions([storeAddr]));
    await querier.start();
    url = `http://127.0.0.1:${querier.httpPort}`;
    ({ browser, page } = await launchChromium(chromium!));
  });

  afterAll(async () => {
    await browser?.close();
    await querier?.stop();
    await store?.stop(100);
  });

  const shot = async (name: string) => {
    const dir = process.env['TESSERA_UI_SCREENSHOTS'];
    if (dir !== undefined) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
  };

  const graphDrawn = async () => {
    const canvas = page.locator('#output .uplot canvas');
    await canvas.waitFor({ state: 'visible', timeout: 20_000 });
    // Axes, grid and at least two series colours: far more than a blank or single-colour canvas.
    // A re-run replaces the plot, so the canvas found may be detached before its screenshot:
    // then look again (a detached canvas counts as 0 colours).
    await expect
      .poll(
        async () => {
          try {
            return await distinctColours(page, await canvas.screenshot({ timeout: 5_000 }));
          } catch {
            return 0;
          }
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(10);
  };

  test('a query typed with autocompletion runs and draws a uPlot graph', async () => {
    await page.goto(`${url}/graph`);
    const editor = page.locator('.cm-content');
    await editor.waitFor({ timeout: 20_000 });
    await editor.click();
    await page.keyboard.type('tessera_demo_req');
    const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'tessera_demo_requests_total' });
    await option.waitFor({ timeout: 10_000 });
    // Clicked: CodeMirror ignores Enter for a moment after the list opens (interactionDelay).
    await option.click();
    await expect.poll(() => editor.textContent()).toBe('tessera_demo_requests_total');
    await editor.press('Enter'); // runs the query
    await graphDrawn();
    const legend = await page.locator('.u-legend').textContent();
    expect(legend).toContain('job="api"');
    expect(legend).toContain('job="web"');
    expect(page.url()).toContain('g0.expr=tessera_demo_requests_total');
    await shot('graph');
  });

  test('hovering the graph shows the values in the legend; the range control re-runs the query', async () => {
    const box = await page.locator('#output .uplot .u-over').boundingBox();
    expect(box).not.toBeNull();
    if (box === null) return;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent()).toMatch(/^\d+(\.\d+)?$/);
    await page.locator('#range').fill('30m');
    await page.locator('#range').press('Enter');
    await expect.poll(() => page.url()).toContain('g0.range_input=30m');
    await graphDrawn();
  });

  test('the table tab shows one row per series', async () => {
    await page.locator('#tab-table').click();
    await expect.poll(() => page.locator('#result-table tr').count(), { timeout: 20_000 }).toBe(2);
    expect(await page.locator('#result-table').textContent()).toContain('cluster="ui-test"');
  });

  test('Prometheus 2 / Thanos links (g0.tab=0) open the graph', async () => {
    const expr = 'sum by (job) (rate(tessera_demo_requests_total[5m]))';
    await page.goto(`${url}/graph?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': '0', 'g0.range_input': '1h', 'g0.stacked': '1' })}`);
    await graphDrawn();
    await expect.poll(() => page.locator('.cm-content').textContent()).toBe(expr);
    expect(await page.locator('#stacked').isChecked()).toBe(true);
    await shot('link-stacked');
  });

  test('Prometheus 3 links (/query, g0.tab=table) open the table', async () => {
    await page.goto(`${url}/query?${new URLSearchParams({ 'g0.expr': 'tessera_demo_temperature_celsius', 'g0.tab': 'table' })}`);
    await expect.poll(() => page.locator('#result-table tr').count(), { timeout: 20_000 }).toBe(1);
    // An evaluation time before the data: the table evaluates there, not now.
    const before = new Date(Date.now() - 3 * 3600_000).toISOString();
    await page.goto(`${url}/query?${new URLSearchParams({ 'g0.expr': 'tessera_demo_temperature_celsius', 'g0.tab': 'table', 'g0.moment_input': before })}`);
    await page.locator('#output .empty').waitFor({ timeout: 20_000 });
  });

  test('annotations from the engine are shown beside the graph', async () => {
    await page.goto(`${url}/graph?${new URLSearchParams({ 'g0.expr': 'rate(tessera_demo_temperature_celsius[5m])', 'g0.tab': '0' })}`);
    await graphDrawn();
    expect(await page.locator('.alert.info').first().textContent()).toContain('might not be a counter');
  });

  test('errors from the API are shown', async () => {
    await page.goto(`${url}/graph?${new URLSearchParams({ 'g0.expr': 'sum(', 'g0.tab': '1' })}`);
    await page.locator('.alert.error').waitFor({ timeout: 20_000 });
  });

  test('the stores page lists the store with its labels', async () => {
    await page.goto(`${url}/stores`);
    const table = page.locator('table.stores');
    await table.waitFor({ timeout: 20_000 });
    const text = await table.textContent();
    expect(text).toContain(storeAddr);
    expect(text).toContain('cluster="ui-test"');
    expect(text).toContain('UP');
    await shot('stores');
  });
});
