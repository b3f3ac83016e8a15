import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ScriptRunner } from '../pkg/promql/index.js';
import { UsageError, type Command } from './command.js';

/** toolsPromqlTestCommand runs PromQL test scripts (upstream promqltest format) against the engine. */
export const toolsPromqlTestCommand: Command = {
  name: 'promql-test',
  help: 'Run PromQL test scripts (*.test, upstream promqltest format) against the engine; prints per-file and total pass counts.',
  args: '<file.test>...',
  flags: {
    quiet: { type: 'boolean', help: 'Print only per-file counts, not failing cases.' },
  },
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('at least one test file is required');
    let passed = 0;
    let failed = 0;
    for (const file of ctx.positionals) {
      const text = await readFile(file, 'utf8');
      const runner = new ScriptRunner();
      let outcome;
      try {
        outcome = await runner.run(text);
      } catch (err) {
        ctx.stdout.write(`${basename(file)}: cannot run script: ${(err as Error).message}\n`);
        failed++;
        continue;
      }
      if (ctx.flags['quiet'] !== true) {
        for (const e of outcome.evals) {
          if (!e.passed) ctx.stdout.write(`  FAIL ${basename(file)}:${e.line}: ${e.expr}\n    ${e.error ?? ''}\n`);
        }
      }
      ctx.stdout.write(`${basename(file)}: ${outcome.passed} passed, ${outcome.failed} failed\n`);
      passed += outcome.passed;
      failed += outcome.failed;
    }
    ctx.stdout.write(`${passed} passed, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
  },
};
