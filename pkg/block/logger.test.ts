import { describe, expect, test } from 'vitest';
import { isLogFormat, isLogLevel, newLogger } from './logger.js';

function sink(): { out: NodeJS.WritableStream; lines: () => string[] } {
  let s = '';
  const out = { write: (c: string) => ((s += c), true) } as unknown as NodeJS.WritableStream;
  return { out, lines: () => s.split('\n').filter((l) => l !== '') };
}

const now = () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));

describe('newLogger', () => {
  test('logfmt: ts, level, base fields, msg, quoted values, error causes', () => {
    const s = sink();
    const log = newLogger(s.out, { level: 'info', base: { component: 'store' }, now });
    log.info('block sync done', { blocks: 3, dir: '/tmp/a b', err: new Error('outer', { cause: new Error('inner') }) });
    expect(s.lines()).toEqual(['ts=2026-01-02T03:04:05.006Z level=info component=store msg="block sync done" blocks=3 dir="/tmp/a b" err="outer: inner"']);
  });

  test('a cause already in the message (wrapped as "what: cause") is not repeated', () => {
    const s = sink();
    const log = newLogger(s.out, { level: 'info', base: {}, now });
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const wrapped = new Error(`query http://127.0.0.1:1: ${refused.message}`, { cause: refused });
    const evalErr = new Error(`no query API server reachable: ${wrapped.message}`, { cause: wrapped });
    log.warn('rule evaluation', { err: new Error(evalErr.message, { cause: evalErr }) });
    expect(s.lines()).toEqual(['ts=2026-01-02T03:04:05.006Z level=warn msg="rule evaluation" err="no query API server reachable: query http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1"']);
  });

  test('json: one object per line with the same fields', () => {
    const s = sink();
    const log = newLogger(s.out, { format: 'json', base: { component: 'query' }, now });
    log.warn('endpoint unhealthy', { address: '1.2.3.4:1', err: new Error('refused') });
    const lines = s.lines();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ ts: '2026-01-02T03:04:05.006Z', level: 'warn', component: 'query', msg: 'endpoint unhealthy', address: '1.2.3.4:1', err: 'refused' });
  });

  test.each([
    ['debug', 4],
    ['info', 3],
    ['warn', 2],
    ['error', 1],
  ] as const)('level %s keeps %i of the four severities', (level, n) => {
    const s = sink();
    const log = newLogger(s.out, { level, now });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(s.lines()).toHaveLength(n);
  });

  test('flag value checks', () => {
    expect(isLogLevel('warn')).toBe(true);
    expect(isLogLevel('toString')).toBe(false);
    expect(isLogLevel('trace')).toBe(false);
    expect(isLogFormat('json')).toBe(true);
    expect(isLogFormat('text')).toBe(false);
  });
});
