import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, waitFor } from '../../pkg/testutil/index.js';
import { startService, tesseraArgs, type Service } from './services.js';

// `npm start` runs `tessera demo`: this starts it as a real process on free ports and checks that
// the deduplicated history answers, and (when Prometheus is installed) that live data arrives
// through the sidecar.
describe('tessera demo', () => {
  let demo: Service;
  let url: string;

  beforeAll(async () => {
    const http = await freePort();
    const grpc = await freePort();
    url = `http://127.0.0.1:${http}`;
    demo = await startService(
      'demo',
      process.execPath,
      tesseraArgs(['demo', `--data-dir=${join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'd')}`, `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, '--hours=4']),
      { url: `${url}/-/ready`, timeoutMs: 90_000 },
      { httpUrl: url },
    );
  });

  afterAll(async () => {
    await demo?.stop();
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

  test('rate over the history is positive for every host', async () => {
    const r = await query('sum by (instance) (rate(http_requests_total{code="200"}[5m]))');
    expect(r).toHaveLength(4);
    for (const s of r) expect(Number(s.value[1])).toBeGreaterThan(0);
  });

  test.skipIf(requireBinary('prometheus') === undefined)('live data from the real Prometheus arrives through the sidecar', async () => {
    const r = await waitFor('live up{job="prometheus"} through the sidecar', async () => {
      const res = await query('up{job="prometheus", cluster="live"}');
      return res.length > 0 ? res : undefined;
    }, 60_000, 500);
    expect(r[0]?.value[1]).toBe('1');
  });
});
