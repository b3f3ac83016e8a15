import type { Command } from './command.js';
import { toolsBucketCommand } from './tools-bucket.js';
import { toolsGenCommand } from './tools-gen.js';
import { toolsPromqlTestCommand } from './tools-promql-test.js';
import { toolsRulesCommand } from './tools-rules.js';
import { toolsTsdbCommand } from './tools-tsdb.js';

/** toolsCommand groups the offline tools (tsdb, bucket, promql-test, gen, rules). */
export const toolsCommand: Command = {
  name: 'tools',
  help: 'Tools for blocks, buckets, PromQL scripts, rule files and test data.',
  subcommands: [toolsTsdbCommand, toolsBucketCommand, toolsPromqlTestCommand, toolsGenCommand, toolsRulesCommand],
};
