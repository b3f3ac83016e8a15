import { runCommand, type Command } from './command.js';

/** CapturedRun is what a command wrote to stdout and stderr, and its exit code. */
export interface CapturedRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** runCaptured runs a command line in-process (runCommand) with stdout and stderr captured: for tests. */
export async function runCaptured(root: Command, argv: readonly string[]): Promise<CapturedRun> {
  let out = '';
  let err = '';
  const code = await runCommand(root, argv, {
    stdout: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  });
  return { code, out, err };
}
