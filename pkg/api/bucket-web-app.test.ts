import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { BlocksInfo } from './blocks-api.js';
import { createBucketWebApp } from './bucket-web-app.js';
import { setProcessStatus } from './status-info.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function serve(routePrefix?: string): Promise<string> {
  const app = createBucketWebApp({ global: new BlocksInfo('cluster'), name: 'Tessera Store', ready: () => true, ...(routePrefix !== undefined ? { routePrefix } : {}) });
  const s = createServer(app);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('createBucketWebApp', () => {
  test('unknown paths answer 404 page not found in plain text, as Go (Thanos) does', async () => {
    const base = await serve();
    for (const path of ['/foo', '/api/v1/status/nothing', '/-/nothing']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('404 page not found\n');
    }
    // Known paths still answer.
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    const blocks = (await (await fetch(`${base}/api/v1/blocks`)).json()) as { status: string; data: { label: string } };
    expect(blocks).toMatchObject({ status: 'success', data: { label: 'cluster' } });
  });

  test('web: false (--web.disable) serves health, metrics and status but no blocks API and no UI', async () => {
    const app = createBucketWebApp({ global: new BlocksInfo('cluster'), name: 'Tessera Store', ready: () => true, web: false });
    const s = createServer(app);
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    for (const path of ['/-/healthy', '/-/ready', '/api/v1/status/flags']) expect((await fetch(`${base}${path}`)).status, path).toBe(200);
    for (const path of ['/api/v1/blocks', '/', '/blocks']) expect((await fetch(`${base}${path}`)).status, path).toBe(404);
  });

  test('serves /api/v1/status/buildinfo and /api/v1/status/flags (store, compactor, bucket web), under the route prefix too', async () => {
    setProcessStatus({
      buildInfo: { version: '1.2.3', revision: 'abc', branch: 'main', buildUser: 'tessera', buildDate: '', goVersion: process.version },
      flags: { 'objstore.config': '', 'http-address': '0.0.0.0:10902', 'web.disable': 'false' },
    });
    for (const prefix of ['', '/bucket']) {
      const base = (await serve(prefix === '' ? undefined : prefix)) + prefix;
      const info = await fetch(`${base}/api/v1/status/buildinfo`);
      expect(info.status).toBe(200);
      expect(info.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await info.json()).toEqual({ status: 'success', data: { version: '1.2.3', revision: 'abc', branch: 'main', buildUser: 'tessera', buildDate: '', goVersion: process.version } });
      const flags = (await (await fetch(`${base}/api/v1/status/flags`)).json()) as { status: string; data: Record<string, string> };
      expect(flags).toEqual({ status: 'success', data: { 'objstore.config': '', 'http-address': '0.0.0.0:10902', 'web.disable': 'false' } });
      expect((await fetch(`${base}/api/v1/status/flags`, { method: 'POST' })).status).toBe(405);
      await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
      server = undefined;
    }
  });

  test('with a route prefix, paths outside it are 404 too', async () => {
    const base = await serve('/bucket');
    expect((await fetch(`${base}/bucket/-/ready`)).status).toBe(200);
    const res = await fetch(`${base}/-/ready`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found\n');
  });
});
