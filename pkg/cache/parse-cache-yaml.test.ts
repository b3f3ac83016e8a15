import { expect, test } from 'vitest';
import { parseCacheYaml } from './parse-cache-yaml.js';

test('parseCacheYaml: empty is no config, a mapping is returned, anything else is a config error', () => {
  expect(parseCacheYaml('  \n', 'x config')).toBeUndefined();
  expect(parseCacheYaml('type: REDIS\nconfig:\n  addr: a:1\n', 'x config')).toEqual({ type: 'REDIS', config: { addr: 'a:1' } });
  expect(() => parseCacheYaml('- a\n- b\n', 'x config')).toThrow(/parse x config: expected a mapping with type and config/);
  expect(() => parseCacheYaml('42', 'x config')).toThrow(/expected a mapping/);
  expect(() => parseCacheYaml('type: [', 'x config')).toThrow(/^parse x config: /);
});
