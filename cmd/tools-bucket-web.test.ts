import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { runCommand } from './command.js';
import { startBucketWeb, type BucketWeb } from './tools-bucket-web.js';
import { toolsCommand } from './tools.js';
import { markForDeletion, markForNoCompact } from '../pkg/block/index.js';
import { InMemoryBucket } from '../pkg/objstore/index.js';
import { distinctColours, launchChromium, requireBinary } from '../pkg/testutil/index.js';
import { UlidGenerator, formatBlockMeta, type BlockMeta } from '../pkg/tsdb/index.js';

const chromium = requireBinary('chromium');
const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

interface Spec {
  cluster: string;
  from: number;
  to: number;
  level: number;
  resolution: number;
}

/** Nine block metas: two clusters; raw level 1 and 2, a 5m level-3 block; one overlap in eu. */
const specs: Spec[] = [
  ...[0, 2, 4, 6].map((h) => ({ cluster: 'eu', from: h, to: h + 2, level: 1, resolution: 0 })),
  { cluster: 'eu', from: 1, to: 3, level: 1, resolution: 0 },
  { cluster: 'us', from: 0, to: 8, level: 2, resolution: 0 },
  { cluster: 'us', from: 8, to: 10, level: 1, resolution: 0 },
  { cluster: 'us', from: 0, to: 48, level: 3, resolution: 300_000 },
  { cluster: 'eu', from: 8, to: 16, level: 2, resolution: 0 },
];

async function seed(bkt: InMemoryBucket): Promise<BlockMeta[]> {
  const gen = new UlidGenerator();
  const metas: BlockMeta[] = [];
  for (const s of specs) {
    const ulid = gen.next(T0);
    const meta: BlockMeta = {
      ulid,
      minTime: T0 + s.from * H,
      maxTime: T0 + s.to * H,
      version: 1,
      stats: { numSeries: 10 * s.level, numSamples: 1000 * s.level, numChunks: 20 * s.level },
      compaction: { level: s.level, sources: [ulid] },
      thanos: { labels: { cluster: s.cluster, replica: 'a' }, downsample: { resolution: s.resolution }, source: s.level > 1 ? 'compactor' : 'sidecar', index_stats: {}, files: [{ rel_path: 'index', size_bytes: 4096 }, { rel_path: 'chunks/000001', size_bytes: 1 << 20 }] },
    };
    await bkt.upload(`${ulid}/meta.json`, new TextEncoder().encode(formatBlockMeta(meta)));
    metas.push(meta);
  }
  // A block directory without meta.json (an upload in progress) is not shown.
  await bkt.upload(`${gen.next(T0)}/index`, new Uint8Array(8));
  return metas;
}

describe('tools bucket web: /api/v1/blocks', () => {
  let bkt: InMemoryBucket;
  let web: BucketWeb;
  let metas: BlockMeta[];
  let url: string;

  beforeAll(async () => {
    bkt = new InMemoryBucket();
    metas = await seed(bkt);
    await markForDeletion(bkt, metas[0]!.ulid, { details: 'test deletion', now: T0 });
    await markForNoCompact(bkt, metas[5]!.ulid, 'manual', { now: T0 });
    web = await startBucketWeb({ bucket: bkt, httpHost: '127.0.0.1', httpPort: 0, label: 'cluster', refreshMs: 3_600_000, timeoutMs: 30_000 });
    url = `http://127.0.0.1:${web.port}`;
  });
  afterAll(async () => {
    await web?.stop(100);
  });

  test('lists every block meta with its thanos section and marks, in Thanos BlocksInfo shape', async () => {
    const res = await fetch(`${url}/api/v1/blocks`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; data: { label: string; blocks: BlockMeta[]; refreshedAt: string; err: unknown; marks: Record<string, { deletion?: { details?: string }; noCompact?: { reason: string } }> } };
    expect(body.status).toBe('success');
    expect(body.data.label).toBe('cluster');
    expect(body.data.err).toBeNull();
    expect(Date.parse(body.data.refreshedAt)).toBeGreaterThan(Date.now() - 600_000);
    expect(body.data.blocks.map((b) => b.ulid).sort()).toEqual(metas.map((m) => m.ulid).sort());
    const us5m = body.data.blocks.find((b) => b.thanos?.downsample.resolution === 300_000);
    expect(us5m?.thanos?.labels).toEqual({ cluster: 'us', replica: 'a' });
    expect(us5m?.compaction.level).toBe(3);
    expect(body.data.marks[metas[0]!.ulid]?.deletion?.details).toBe('test deletion');
    expect(body.data.marks[metas[5]!.ulid]?.noCompact?.reason).toBe('manual');
    expect(Object.keys(body.data.marks)).toHaveLength(2);
    const loaded = (await (await fetch(`${url}/api/v1/blocks?view=loaded`)).json()) as { data: { blocks: unknown[] } };
    expect(loaded.data.blocks).toHaveLength(metas.length);
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
  });

  test('POST /api/v1/blocks/mark writes a no-compact mark and refreshes the view', async () => {
    const id = metas[6]!.ulid;
    const res = await fetch(`${url}/api/v1/blocks/mark`, { method: 'POST', body: new URLSearchParams({ id, action: 'NO_COMPACTION', detail: 'from the UI' }) });
    expect(res.status).toBe(200);
    const mark = JSON.parse(new TextDecoder().decode(await bkt.get(`${id}/no-compact-mark.json`))) as Record<string, unknown>;
    expect(mark).toMatchObject({ id, version: 1, reason: 'manual', details: 'from the UI' });
    const body = (await (await fetch(`${url}/api/v1/blocks`)).json()) as { data: { marks: Record<string, unknown> } };
    expect(body.data.marks[id]).toMatchObject({ noCompact: { reason: 'manual' } });
    const bad = await fetch(`${url}/api/v1/blocks/mark`, { method: 'POST', body: new URLSearchParams({ id: 'nope', action: 'DELETION' }) });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${url}/api/v1/blocks/mark`, { method: 'POST', body: new URLSearchParams({ id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', action: 'DELETION' }) });
    expect(missing.status).toBe(500);
    expect(await bkt.exists('01ARZ3NDEKTSV4RRFFQ69G5FAV/deletion-mark.json')).toBe(false);
  });

  test('admin operations can be disabled', async () => {
    const ro = await startBucketWeb({ bucket: bkt, httpHost: '127.0.0.1', httpPort: 0, refreshMs: 3_600_000, timeoutMs: 30_000, disableAdminOperations: true });
    try {
      const res = await fetch(`http://127.0.0.1:${ro.port}/api/v1/blocks/mark`, { method: 'POST', body: new URLSearchParams({ id: metas[1]!.ulid, action: 'DELETION' }) });
      expect(res.status).toBe(403);
      expect(await bkt.exists(`${metas[1]!.ulid}/deletion-mark.json`)).toBe(false);
    } finally {
      await ro.stop(100);
    }
  });

  test('the command rejects bad flags', async () => {
    let err = '';
    const sink = { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream;
    const code = await runCommand(toolsCommand, ['bucket', 'web', '--objstore.config=type: FILESYSTEM', '--refresh=0s', '--http-address=127.0.0.1:0'], { stdout: sink, stderr: sink });
    expect(code).not.toBe(0);
    expect(err).toMatch(/--refresh/);
  });

  describe.skipIf(chromium === undefined)('bucket page in headless Chromium', () => {
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      ({ browser, page } = await launchChromium(chromium!));
    });
    afterAll(async () => {
      await browser?.close();
    });

    test('draws the blocks per external label group on a time axis, and shows a block on click', async () => {
      await page.goto(`${url}/blocks`);
      const blocks = page.locator('.block-group .block');
      await expect.poll(() => blocks.count(), { timeout: 20_000 }).toBe(metas.length);
      expect(await page.locator('.block-group h3').allTextContents()).toEqual([expect.stringMatching(/^eu/), expect.stringMatching(/^us/)]);
      // Every block is drawn with a width; the overlapping eu block goes to a second raw row.
      for (const b of await blocks.all()) expect((await b.boundingBox())?.width ?? 0).toBeGreaterThan(2);
      expect(await page.locator('.block-group[data-group="eu"] .block-row[data-resolution="raw"][data-level="1"]').count()).toBe(2);
      expect(await page.locator('.block-group[data-group="us"] .block-row[data-resolution="5m"]').count()).toBe(1);
      // Later blocks sit further right on the shared axis.
      const x = async (ulid: string) => (await page.locator(`.block[data-ulid="${ulid}"]`).boundingBox())?.x ?? -1;
      expect(await x(metas[3]!.ulid)).toBeGreaterThan(await x(metas[0]!.ulid));
      expect(await page.locator(`.block[data-ulid="${metas[0]!.ulid}"]`).getAttribute('class')).toContain('deletion-marked');
      expect(await page.locator(`.block[data-ulid="${metas[5]!.ulid}"]`).getAttribute('class')).toContain('no-compact-marked');
      expect((await page.locator('.blocks-axis .tick').first().textContent()) ?? '').toContain('2026-11-01');
      // The drawn timeline is not blank: level colours, hatching, borders, text.
      expect(await distinctColours(page, await page.locator('.blocks-timeline').screenshot())).toBeGreaterThan(8);

      await page.locator(`.block[data-ulid="${metas[7]!.ulid}"]`).click();
      const details = page.locator('#block-details');
      await details.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await page.locator('#detail-ulid').textContent()).toBe(metas[7]!.ulid);
      const text = (await details.textContent()) ?? '';
      expect(text).toContain('Resolution: 5m');
      expect(text).toContain('Level: 3');
      expect(text).toContain('Duration: 2d');
      expect(text).toContain('Series: 30');
      expect(text).toContain('cluster="us"');

      await page.locator(`.block[data-ulid="${metas[0]!.ulid}"]`).click();
      await expect.poll(() => page.locator('#detail-ulid').textContent()).toBe(metas[0]!.ulid);
      expect(await details.textContent()).toContain('Marked for deletion');
      const dir0 = process.env['TESSERA_UI_SCREENSHOTS'];
      if (dir0 !== undefined) await page.screenshot({ path: `${dir0}/bucket-details.png`, fullPage: true });

      // Marking from the details panel writes the mark and redraws the block as marked.
      const target = metas[2]!.ulid;
      await page.locator(`.block[data-ulid="${target}"]`).click();
      await expect.poll(() => page.locator('#detail-ulid').textContent()).toBe(target);
      await page.locator('#mark-detail').fill('too old');
      await page.locator('#mark-deletion').click();
      await expect.poll(async () => (await page.locator(`.block[data-ulid="${target}"]`).getAttribute('class')) ?? '', { timeout: 20_000 }).toContain('deletion-marked');
      const mark = JSON.parse(new TextDecoder().decode(await bkt.get(`${target}/deletion-mark.json`))) as Record<string, unknown>;
      expect(mark).toMatchObject({ id: target, details: 'too old' });
      const dir = process.env['TESSERA_UI_SCREENSHOTS'];
      if (dir !== undefined) await page.screenshot({ path: `${dir}/bucket.png`, fullPage: true });
    });
  });
});
