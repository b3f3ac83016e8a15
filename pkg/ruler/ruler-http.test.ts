import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import type { Ruler } from './ruler.js';
import { rulerHttpApp } from './ruler-http.js';

/** idleRuler is a ready ruler without rules: what rulerHttpApp reads of one. */
const idleRuler = { ready: () => true, groups: () => [], reloadStatus: () => ({ ok: true, errors: [] }), reload: async () => ({ ok: true, errors: [] }) } as unknown as Ruler;

describe('rulerHttpApp routePrefix (--web.route-prefix)', () => {
  test('serves health, reload, the rules API and the UI under the prefix only, with UI links under the external prefix', async () => {
    const server = createServer(rulerHttpApp(idleRuler, { routePrefix: '/rule/', externalPrefix: '/ext/rule' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ['/rule/-/healthy', '/rule/-/ready', '/rule/api/v1/rules', '/rule/api/v1/alerts', '/rule/alerts']) expect((await fetch(`${base}${path}`)).status, path).toBe(200);
      expect((await fetch(`${base}/rule/-/reload`, { method: 'POST' })).status).toBe(200);
      for (const path of ['/-/healthy', '/api/v1/rules', '/alerts']) expect((await fetch(`${base}${path}`)).status, path).toBe(404);
      expect(await (await fetch(`${base}/rule/alerts`)).text()).toContain('/ext/rule');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
