import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ALL_FEATURES, format, parseExpr } from './index.js';
import { requirePromqlTests } from '../../testutil/index.js';

const DIR = requirePromqlTests();

interface Case {
  readonly file: string;
  readonly line: number;
  readonly query: string;
  readonly expectFail: boolean;
}

/** Extracts every `eval` query from the promqltest scripts, noting which expect a failure. */
function extract(): Case[] {
  const out: Case[] = [];
  if (DIR === undefined) return out;
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.test')).sort()) {
    const lines = readFileSync(join(DIR, file), 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const m = /^(eval(?:_fail|_warn|_info|_ordered)?)\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(raw);
      if (m === null) return;
      let expectFail = m[1] === 'eval_fail';
      for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) {
        if (/^\s+expect\s+fail/.test(lines[j]!)) expectFail = true;
      }
      out.push({ file, line: i + 1, query: m[2]!, expectFail });
    });
  }
  return out;
}

const cases = extract();

describe.skipIf(DIR === undefined)('promql-tests corpus', () => {
  test('extracts the eval queries', () => {
    expect(cases.length).toBeGreaterThan(1000);
  });

  test('parses every query not marked expect fail, and its printed form round-trips', () => {
    const failures: string[] = [];
    let ok = 0;
    for (const c of cases.filter((x) => !x.expectFail)) {
      try {
        const e = parseExpr(c.query, ALL_FEATURES);
        const printed = format(e);
        const again = format(parseExpr(printed, ALL_FEATURES));
        if (again !== printed) failures.push(`${c.file}:${c.line}: ${c.query}: reprint differs: ${printed} vs ${again}`);
        else ok++;
      } catch (err) {
        failures.push(`${c.file}:${c.line}: ${c.query}: ${(err as Error).message}`);
      }
    }
    const total = cases.filter((x) => !x.expectFail).length;
    console.log(`promql-tests corpus: parsed ${ok}/${total} queries not marked expect fail`);
    expect(failures).toEqual([]);
  });

  test('queries marked expect fail either parse or fail with a ParseError', () => {
    for (const c of cases.filter((x) => x.expectFail)) {
      try {
        parseExpr(c.query, ALL_FEATURES);
      } catch (err) {
        expect((err as Error).name, `${c.file}:${c.line}`).toBe('ParseError');
      }
    }
  });
});
