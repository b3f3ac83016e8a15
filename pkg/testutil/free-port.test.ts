import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { freePort } from './external.js';

describe('freePort', () => {
  test('proposes distinct bindable ports below the ephemeral range (where outgoing connections take theirs)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(32_768);
    }
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  });
});
