import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ScriptRunner } from './runner.js';
import { requirePromqlTests } from '../../testutil/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// The upstream scripts are read in place, never copied: TESSERA_PROMQL_TESTS or ../shared/promql-tests.
const scriptsDir = requirePromqlTests();
const ratchet = JSON.parse(readFileSync(join(here, 'ratchet.json'), 'utf8')) as Record<string, number>;

describe.skipIf(scriptsDir === undefined)('PromQL conformance scripts', () => {
  const files = scriptsDir === undefined ? [] : readdirSync(scriptsDir).filter((f) => f.endsWith('.test')).sort();
  test('the scripts directory holds scripts', () => {
    expect(files.length, `no *.test files in ${scriptsDir}`).toBeGreaterThan(0);
  });
  test.each(files)('%s passes at least the ratcheted number of evals', async (file) => {
    const runner = new ScriptRunner();
    let passed = 0;
    try {
      passed = (await runner.run(readFileSync(join(scriptsDir!, file), 'utf8'))).passed;
    } catch {
      passed = 0;
    }
    const floor = ratchet[file];
    expect(floor, `${file} has no entry in ratchet.json`).toBeTypeOf('number');
    expect(passed).toBeGreaterThanOrEqual(floor!);
  }, 120_000);
});
