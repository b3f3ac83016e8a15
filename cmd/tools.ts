import type { Command } from './command.js';
import { toolsBucketCommand } from './tools-bucket.js';
import { toolsPromqlTestCommand } from './tools-promql-test.js';
import { toolsTsdbCommand } from './tools-tsdb.js';

/** toolsCommand groups the offline tools (tsdb, bucket, promql-test). */
export const toolsCommand: Command = {
  name: 'tools',
  help: 'Tools for blocks, buckets and PromQL scripts.',
  subcommands: [toolsTsdbCommand, toolsBucketCommand, toolsPromqlTestCommand],
};
