import type { Command } from './command.js';

/** toolsPromqlTestCommand: not implemented yet. */
export const toolsPromqlTestCommand: Command = {
  name: 'promql-test',
  help: 'Not implemented yet.',
  async run(ctx) {
    ctx.stderr.write('tessera tools promql-test: not implemented yet\n');
    return 1;
  },
};
