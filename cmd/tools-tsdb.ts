import type { Command } from './command.js';

/** toolsTsdbCommand: not implemented yet. */
export const toolsTsdbCommand: Command = {
  name: 'tsdb',
  help: 'Not implemented yet.',
  async run(ctx) {
    ctx.stderr.write('tessera tools tsdb: not implemented yet\n');
    return 1;
  },
};
