import { createServer } from 'node:http';
import { describe, expect, test } from 'vitest';
import { startTessera } from '../test/e2e/services.js';
import { runCommand } from './command.js';
import { queryFrontendCommand } from './query-frontend.js';
import { testThanosDefaults } from './thanos-defaults.js';

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
  const code = await runCommand(queryFrontendCommand, argv, { stdout: sink, stderr: sink });
  return { code, out };
}

describe('tessera query-frontend', () => {
  test('--help lists Thanos flags with their defaults', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    for (const f of ['--query-frontend.downstream-url=VALUE', '--query-range.split-interval=VALUE', '--query-range.response-cache-config-file=VALUE', '--labels.split-interval=VALUE', '--query-frontend.forward-header=VALUE (repeatable)']) {
      expect(out).toContain(f);
    }
    expect(out).toContain('(default: "24h")');
    expect(out).toContain('(default: "14")');
  });

  test('bad flag values are usage errors', async () => {
    expect(await cli(['--query-frontend.vertical-shards=-1'])).toMatchObject({ code: 2, out: expect.stringContaining('--query-frontend.vertical-shards') });
    expect(await cli(['--query-range.split-interval=1 day'])).toMatchObject({ code: 2, out: expect.stringContaining('--query-range.split-interval') });
    await expect(cli(['--query-range.response-cache-config=type: MEMCACHED'])).rejects.toThrow(/MEMCACHED is not supported/);
  });

  test('as a process: ready, splits a range query over the downstream, serves /metrics', async () => {
    const calls: string[] = [];
    const down = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const p = new URLSearchParams(Buffer.concat(chunks).toString());
        calls.push(`${p.get('start')}-${p.get('end')}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[Number(p.get('start')), '1']] }] } }));
      });
    });
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const a = down.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    const fe = await startTessera('query-frontend', [`--query-frontend.downstream-url=http://127.0.0.1:${port}`, '--query-range.split-interval=1h', '--query-range.response-cache-config=type: IN-MEMORY\nconfig:\n  max_size_items: 10'], { grpc: false });
    try {
      const res = await fetch(`${fe.httpUrl}/api/v1/query_range?query=x&start=0&end=7200&step=3600`);
      expect(await res.json()).toEqual({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[0, '1'], [3600, '1'], [7200, '1']] }] } });
      expect(calls.sort()).toEqual(['0-0', '3600-3600', '7200-7200']);
      expect(await (await fetch(`${fe.httpUrl}/metrics`)).text()).toContain('tessera_query_frontend_queries_total{op="query_range"} 1');
    } finally {
      await fe.stop();
      await new Promise((r) => down.close(r));
    }
  });
});

describe('tessera query-frontend flags', () => {
  // `thanos query-frontend --help` of Thanos v0.42 (booleans from its source); left out on purpose:
  // --query-frontend.vertical-shards (0 here; unset in Thanos, which means the same: no sharding).
  testThanosDefaults(queryFrontendCommand, [
    ['enable-feature', undefined], ['query-frontend.enable-x-functions', false], 
    ['http-address', '0.0.0.0:10902'], ['http-grace-period', '2m'], ['http.config', ''], ['web.disable-cors', false],
    ['query-range.align-range-with-step', true], ['query-range.request-downsampled', true], ['query-range.split-interval', '24h'],
    ['query-range.min-split-interval', '0'], ['query-range.max-split-interval', '0'], ['query-range.horizontal-shards', '0'],
    ['query-range.max-retries-per-request', '5'], ['query.max-retries-per-request', '5'], ['query-range.max-query-length', '0'],
    ['query-range.max-query-parallelism', '14'], ['query-range.response-cache-max-freshness', '1m'], ['query-range.partial-response', true],
    ['query-range.response-cache-config-file', undefined], ['query-range.response-cache-config', undefined], ['labels.split-interval', '24h'],
    ['labels.max-retries-per-request', '5'], ['labels.max-query-parallelism', '14'], ['labels.response-cache-max-freshness', '1m'],
    ['labels.partial-response', true], ['labels.default-time-range', '24h'], ['labels.response-cache-config-file', undefined],
    ['labels.response-cache-config', undefined], ['cache-compression-type', ''], ['query-frontend.downstream-url', 'http://localhost:9090'],
    ['query-frontend.downstream-tripper-config-file', undefined], ['query-frontend.downstream-tripper-config', undefined],
    ['query-frontend.compress-responses', false], ['query-frontend.log-queries-longer-than', '0'], ['query-frontend.force-query-stats', false],
    ['query-frontend.org-id-header', undefined], ['query-frontend.forward-header', undefined],
    ['query-frontend.slow-query-logs-user-header', undefined], ['request.logging-config-file', undefined], ['request.logging-config', undefined],
  ]);

  test.each([
    [['--query-range.horizontal-shards=4'], /--query-range.horizontal-shards: not supported/],
    [['--query-range.min-split-interval=1h'], /--query-range.min-split-interval: not supported/],
    [['--cache-compression-type=gzip'], /--cache-compression-type/],
    [['--http-grace-period=later'], /--http-grace-period/],
  ])('%j exits 2 naming the flag', async (args, msg) => {
    expect(await cli(['--http-address=127.0.0.1:0', ...args])).toMatchObject({ code: 2, out: expect.stringMatching(msg) });
  });
});
