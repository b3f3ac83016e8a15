import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEndpointAddress } from './endpoint-address.js';
import { EndpointDiscovery, type Resolver } from './endpoint-discovery.js';

describe('parseEndpointAddress', () => {
  test.each([
    ['127.0.0.1:10901', 'static', '127.0.0.1', 10901],
    ['dns+store.example:10901', 'dns', 'store.example', 10901],
    ['dnssrv+_grpc._tcp.store.example', 'dnssrv', '_grpc._tcp.store.example', undefined],
    ['dnssrvnoa+_grpc._tcp.x', 'dnssrvnoa', '_grpc._tcp.x', undefined],
    ['[::1]:9', 'static', '::1', 9],
  ])('%s', (raw, kind, host, port) => {
    expect(parseEndpointAddress(raw)).toEqual({ kind, host, port, raw });
  });

  test.each(['store', 'store:0', 'store:70000', 'dns+', 'dnssrv+_grpc._tcp.x:10901'])('rejects %s', (raw) => {
    expect(() => parseEndpointAddress(raw)).toThrow(raw);
  });
});

function fakeResolver(a: Record<string, string[]>, srv: Record<string, { name: string; port: number }[]>): Resolver & { fail: boolean } {
  const r = {
    fail: false,
    async lookup(host: string) {
      if (r.fail) throw new Error('SERVFAIL');
      const v = a[host];
      if (v === undefined) throw new Error(`ENOTFOUND ${host}`);
      return v;
    },
    async resolveSrv(name: string) {
      if (r.fail) throw new Error('SERVFAIL');
      return srv[name] ?? [];
    },
  };
  return r;
}

describe('EndpointDiscovery', () => {
  test('combines static, dns, srv and file SD addresses; keeps the last good DNS answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sd-'));
    const sd = join(dir, 'sd.yml');
    writeFileSync(sd, '- targets: ["10.0.0.9:10901", "dns+file.example:1"]\n');
    const resolver = fakeResolver(
      { 'store.example': ['10.0.0.1', '10.0.0.2'], 'a.example': ['10.0.1.1'], 'file.example': ['10.0.2.1'] },
      { '_grpc._tcp.s': [{ name: 'a.example', port: 7 }] },
    );
    const errors: Error[] = [];
    const d = new EndpointDiscovery({
      endpoints: ['127.0.0.1:1', 'dns+store.example:10901', 'dnssrv+_grpc._tcp.s'],
      sdFiles: [sd],
      resolver,
      onError: (e) => errors.push(e),
    });
    await d.refresh();
    expect(d.addresses()).toEqual(['10.0.0.1:10901', '10.0.0.2:10901', '10.0.0.9:10901', '10.0.1.1:7', '10.0.2.1:1', '127.0.0.1:1']);

    resolver.fail = true;
    await d.refreshDns();
    expect(d.addresses()).toHaveLength(6);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.message).toMatch(/resolve endpoint/);

    writeFileSync(sd, '[{"targets": ["10.0.0.8:1"]}]');
    utimesSync(sd, new Date(), new Date(Date.now() + 5000));
    await d.refreshFiles();
    expect(d.addresses()).toContain('10.0.0.8:1');
    expect(d.addresses()).not.toContain('10.0.0.9:10901');
  });

  test('a broken SD file is reported and keeps the previous targets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sd-'));
    const sd = join(dir, 'sd.json');
    writeFileSync(sd, '[{"targets": ["10.0.0.8:1"]}]');
    const errors: Error[] = [];
    const d = new EndpointDiscovery({ endpoints: [], sdFiles: [sd], onError: (e) => errors.push(e) });
    await d.refresh();
    writeFileSync(sd, '{not: [yaml');
    utimesSync(sd, new Date(), new Date(Date.now() + 5000));
    await d.refresh();
    expect(d.addresses()).toEqual(['10.0.0.8:1']);
    expect(errors[0]?.message).toContain(sd);
  });

  test('duplicate endpoints are rejected like Thanos', () => {
    expect(() => new EndpointDiscovery({ endpoints: ['a:1', 'a:1'] })).toThrow('a:1 endpoint provided more than once');
  });
});
