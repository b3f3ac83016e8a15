import type { Command } from './command.js';
import { toolsBucketCommand } from './tools-bucket.js';
import { toolsGenCommand } from './tools-gen.js';
import { toolsPromqlTestCommand } from './tools-promql-test.js';
import { toolsTsdbCommand } from './tools-tsdb.js';

/** toolsCommand groups the offline tools (tsdb, bucket, promql-test, gen). */
export const toolsCommand: Command = {
  name: 'tools',
  help: 'Tools for blocks, buckets, PromQL scripts and test data.',
  subcommands: [toolsTsdbCommand, toolsBucketCommand, toolsPromqlTestCommand, toolsGenCommand],
};
