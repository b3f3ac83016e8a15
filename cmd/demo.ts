import type { Command } from './command.js';

/** demoCommand brings up the demo stack; until the components exist it prints what there is. */
export const demoCommand: Command = {
  name: 'demo',
  help: 'Start the demo stack on the embedded FILESYSTEM bucket (not yet available: prints the help).',
  async run(ctx) {
    ctx.stdout.write('The demo stack is not available yet. Commands so far:\n\n');
    const { usage } = await import('./command.js');
    const { toolsCommand } = await import('./tools.js');
    ctx.stdout.write(usage(toolsCommand, ['tessera', 'tools']));
  },
};
