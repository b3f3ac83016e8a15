import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ScriptRunner } from './runner.js';
import { PROMQL_TESTS_DIR } from '../../testutil/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// The scripts live in ../shared/promql-tests next to the repository (read in place, never copied).
const scriptsDir = PROMQL_TESTS_DIR;
const ratchet = JSON.parse(readFileSync(join(here, 'ratchet.json'), 'utf8')) as Record<string, number>;

describe('PromQL conformance scripts', () => {
  test('the scripts directory exists', () => {
    expect(existsSync(scriptsDir), `missing ${scriptsDir}`).toBe(true);
  });
  const files = existsSync(scriptsDir) ? readdirSync(scriptsDir).filter((f) => f.endsWith('.test')).sort() : [];
  test.each(files)('%s passes at least the ratcheted number of evals', async (file) => {
    const runner = new ScriptRunner();
    let passed = 0;
    try {
      passed = (await runner.run(readFileSync(join(scriptsDir, file), 'utf8'))).passed;
    } catch {
      passed = 0;
    }
    const floor = ratchet[file];
    expect(floor, `${file} has no entry in ratchet.json`).toBeTypeOf('number');
    expect(passed).toBeGreaterThanOrEqual(floor!);
  }, 120_000);
});
