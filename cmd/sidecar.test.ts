import { describe, expect, test } from 'vitest';
import { parseTimeFlag } from './flag-values.js';
import { runCaptured } from './run-captured.js';
import { sidecarCommand } from './sidecar.js';

const parseMinTime = (v: string, now: number) => parseTimeFlag(v, now, 'min-time');

describe('--min-time', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  test.each([
    ['', undefined],
    ['-2h', now - 7_200_000],
    ['-1d', now - 86_400_000],
    ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z')],
    ['1700000000000', 1_700_000_000_000],
    ['-5', -5],
    ['6h', now + 21_600_000],
  ])('%j', (v, want) => {
    expect(parseMinTime(v, now)).toBe(want);
  });
  test('garbage is a usage error', () => {
    expect(() => parseMinTime('yesterday', now)).toThrow(/--min-time/);
  });
});

describe('--prometheus.url', () => {
  test.each(['notaurl', 'localhost:9090', 'ftp://prom:9090', 'http://'])('%j is a usage error (exit 2) naming the flag', async (url) => {
    const r = await runCaptured(sidecarCommand, [`--prometheus.url=${url}`, '--http-address=127.0.0.1:0', '--grpc-address=127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--prometheus.url: "${url}" is not an http:// or https:// URL`);
  });
});
