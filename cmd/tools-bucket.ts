import type { Command } from './command.js';

/** toolsBucketCommand: not implemented yet. */
export const toolsBucketCommand: Command = {
  name: 'bucket',
  help: 'Not implemented yet.',
  async run(ctx) {
    ctx.stderr.write('tessera tools bucket: not implemented yet\n');
    return 1;
  },
};
