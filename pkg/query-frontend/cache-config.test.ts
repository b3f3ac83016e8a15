import { describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { parseBytes } from '../cache/index.js';
import { cacheFromConfig } from './cache-config.js';
import { formatGoDuration, parseGoDuration } from '../cache/index.js';
import { InMemoryCache } from './in-memory-cache.js';

const none = () => {};

describe('response cache config (Thanos YAML)', () => {
  test('IN-MEMORY with limits builds an LRU; without any limit there is no cache', async () => {
    const c = cacheFromConfig('type: IN-MEMORY\nconfig:\n  max_size: 1KB\n  max_size_items: 2\n  validity: 0s\n', none);
    expect(c).toBeInstanceOf(InMemoryCache);
    for (const k of ['a', 'b', 'c']) await c!.set(k, 'x');
    expect(await c!.get('a')).toBeUndefined();
    expect(await c!.get('c')).toBe('x');
    expect(cacheFromConfig('type: IN-MEMORY\nconfig:\n  max_size: ""\n  max_size_items: 0\n', none)).toBeUndefined();
    expect(cacheFromConfig('', none)).toBeUndefined();
  });

  test('IN-MEMORY max_size bounds the bytes held', async () => {
    const c = cacheFromConfig('type: in-memory\nconfig:\n  max_size: 1KB\n', none) as InMemoryCache;
    for (let i = 0; i < 20; i++) await c.set(`k${i}`, 'v'.repeat(100));
    expect(c.size).toBeLessThan(6);
    expect(await c.get('k19')).toBe('v'.repeat(100));
  });

  test('bad configs are TesseraErrors naming the field', () => {
    for (const [yaml, msg] of [
      ['type: MEMCACHED\nconfig: {}', /MEMCACHED is not supported/],
      ['type: FOO', /unknown cache type "FOO"/],
      ['type: IN-MEMORY\nconfig:\n  max_size: 10XB', /max_size: "10XB" is not a byte size/],
      ['type: IN-MEMORY\nconfig:\n  maxsize: 10', /field maxsize not found/],
      ['type: REDIS\nconfig:\n  db: 1', /addr is required/],
      ['type: REDIS\nconfig:\n  addr: x:1\n  expiration: 5 minutes', /expiration: time: invalid duration/],
    ] as const) {
      let err: unknown;
      try {
        cacheFromConfig(yaml, none);
      } catch (e) {
        err = e;
      }
      expect(isTesseraError(err, 'TESSERA_CACHE_CONFIG'), yaml).toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
  });

  test('byte sizes and Go durations', () => {
    expect(parseBytes('512', 'x')).toBe(512);
    expect(parseBytes('100MB', 'x')).toBe(100 * 1024 * 1024);
    expect(parseBytes('1GiB', 'x')).toBe(1024 ** 3);
    expect(parseGoDuration('24h0m0s')).toBe(86_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('-1ms')).toBe(-1);
    expect(formatGoDuration(721 * 3_600_000)).toBe('721h0m0s');
    expect(formatGoDuration(90_500)).toBe('1m30.5s');
    expect(formatGoDuration(250)).toBe('250ms');
  });
});
