import { readFile } from 'node:fs/promises';
import { findDuplicateRules, formatDuplicateRules, parseRuleFile } from '../pkg/rules/index.js';
import { UsageError, type Command } from './command.js';

const checkCommand: Command = {
  name: 'check',
  help: 'Check Prometheus rule files as `promtool check rules` does; exits 1 when any file has an error.',
  args: '<rule-file>...',
  flags: {
    thanos: { type: 'boolean', help: "Accept Thanos's partial_response_strategy group key." },
  },
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('at least one rule file is required');
    let failed = false;
    for (const file of ctx.positionals) {
      ctx.stdout.write(`Checking ${file}\n`);
      let errors: string[];
      let count = 0;
      let lint = '';
      try {
        const res = parseRuleFile(await readFile(file, 'utf8'), file, { thanos: ctx.flags['thanos'] === true });
        errors = res.errors;
        for (const g of res.groups) count += g.rules.length;
        const dups = findDuplicateRules(res.groups);
        if (dups.length > 0) lint = formatDuplicateRules(dups);
      } catch (err) {
        errors = [`${file}: ${(err as Error).message}`];
      }
      // Duplicates are a lint finding (exit 0), printed instead of the rule count, as promtool 2.42 does.
      if (errors.length === 0 && lint !== '') ctx.stderr.write(`  FAILED:\n${lint}`);
      else if (errors.length === 0) ctx.stdout.write(`  SUCCESS: ${count} rules found\n`);
      else {
        failed = true;
        ctx.stderr.write(`  FAILED:\n${errors.join('\n')}\n`);
      }
      ctx.stdout.write('\n');
    }
    return failed ? 1 : 0;
  },
};

/** toolsRulesCommand groups the rule file tools (`tessera tools rules check`). */
export const toolsRulesCommand: Command = {
  name: 'rules',
  help: 'Tools for Prometheus rule files.',
  subcommands: [checkCommand],
};
