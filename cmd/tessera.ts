#!/usr/bin/env node
import { runCommand, type Command } from './command.js';
import { compactCommand } from './compact.js';
import { installProcessGuards } from './process-guards.js';
import { watchParentPipe } from './parent-watch.js';
import { demoCommand } from './demo.js';
import { queryCommand } from './query.js';
import { queryFrontendCommand } from './query-frontend.js';
import { ruleCommand } from './rule.js';
import { sidecarCommand } from './sidecar.js';
import { storeCommand } from './store.js';
import { toolsCommand } from './tools.js';

/** The root command: one binary with a subcommand per component, as Thanos does. */
const root: Command = {
  name: 'tessera',
  help: 'Tessera: long-term storage and global query layer for Prometheus, compatible with Thanos.',
  subcommands: [sidecarCommand, storeCommand, queryCommand, queryFrontendCommand, ruleCommand, compactCommand, toolsCommand, demoCommand],
};

/**
 * Components that serve until a signal: an error escaping every handler is logged and fails one
 * request, it never ends the process. One-shot tools keep Node's default (crash with the stack).
 */
const COMPONENTS = new Set(['sidecar', 'store', 'query', 'query-frontend', 'compact', 'demo', 'rule', 'receive']);
// A child of the demo stops when the demo dies (TESSERA_PARENT_PIPE_FD; unset when run normally).
watchParentPipe();
const sub = process.argv[2];
const args = process.argv.slice(2);
const jsonLogs = args.some((a, i) => a === '--log.format=json' || (a === '--log.format' && args[i + 1] === 'json'));
if (sub !== undefined && COMPONENTS.has(sub)) installProcessGuards(sub, undefined, jsonLogs ? 'json' : 'logfmt');

// `tessera tools ... | head`: a reader that goes away ends the output, it is not a crash (a Go
// tool dies of SIGPIPE silently; Node would throw EPIPE with a stack). Exit quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  process.exitCode = await runCommand(root, process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
  // A component has shut down gracefully (servers closed, requests in flight done): exit now, so a
  // straggler (an outgoing request still waiting on its timeout) cannot keep the process alive.
  if (sub !== undefined && COMPONENTS.has(sub)) process.exit(process.exitCode);
} catch (err) {
  // run() failed (e.g. a component could not start): report and exit, whatever is still open.
  process.stderr.write(`tessera ${process.argv.slice(2, 3).join(' ')}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
