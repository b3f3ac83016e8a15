import { parse as parseYaml } from 'yaml';
import { cacheConfigError } from './cache-config-error.js';

/**
 * parseCacheYaml reads a Thanos cache config document (`type:` and `config:`, plus what the cache
 * adds) as a mapping; '' is undefined (no cache configured). Bad YAML or a document that is not a
 * mapping is a cacheConfigError naming `what`.
 */
export function parseCacheYaml(yamlText: string, what: string): Record<string, unknown> | undefined {
  if (yamlText.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw cacheConfigError(what, (err as Error).message, err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw cacheConfigError(what, 'expected a mapping with type and config');
  return doc as Record<string, unknown>;
}
