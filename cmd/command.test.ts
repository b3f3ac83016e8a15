import { describe, expect, test } from 'vitest';
import type { Command, RunContext } from './command.js';
import { runCaptured } from './run-captured.js';

function recorder(): { cmd: Command; seen: RunContext['flags'][] } {
  const seen: RunContext['flags'][] = [];
  const cmd: Command = {
    name: 'x',
    help: 'X.',
    flags: {
      'a.on': { type: 'boolean', default: true, help: 'On by default.' },
      off: { type: 'boolean', default: false, help: 'Off by default.' },
      mine: { type: 'boolean', default: true, help: 'Declares its own negation.' },
      'no-mine': { type: 'boolean', help: 'Its own negation.' },
      s: { type: 'string', default: 'v', help: 'A string.' },
    },
    async run(ctx) {
      seen.push(ctx.flags);
    },
  };
  return { cmd, seen };
}

describe('runCommand --no-<flag>', () => {
  test.each([
    [[], { 'a.on': true, off: false }],
    [['--no-a.on'], { 'a.on': false, off: false }],
    [['--off', '--no-off'], { 'a.on': true, off: false }],
    [['--no-a.on', '--a.on'], { 'a.on': true, off: false }],
    [['--no-off', '--off'], { 'a.on': true, off: true }],
    [['--off'], { 'a.on': true, off: true }],
  ])('%j: every boolean flag takes --no-<flag>, as kingpin', async (argv, want) => {
    const { cmd, seen } = recorder();
    const r = await runCaptured(cmd, argv);
    expect(r.code, r.err).toBe(0);
    expect(seen[0]).toMatchObject(want);
    expect(Object.keys(seen[0]!).filter((k) => k.startsWith('no-') && k !== 'no-mine')).toEqual([]);
  });

  test('a declared --no-<flag> stays the command\'s own; strings and unknown flags get none', async () => {
    const { cmd, seen } = recorder();
    expect((await runCaptured(cmd, ['--no-mine'])).code).toBe(0);
    expect(seen[0]).toMatchObject({ mine: true, 'no-mine': true });
    for (const bad of ['--no-s', '--no-nothing', '--no-no-mine']) {
      const r = await runCaptured(cmd, [bad]);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain(bad.slice(2));
    }
  });
});
