#!/usr/bin/env node
import { runCommand, type Command } from './command.js';
import { compactCommand } from './compact.js';
import { demoCommand } from './demo.js';
import { queryCommand } from './query.js';
import { sidecarCommand } from './sidecar.js';
import { storeCommand } from './store.js';
import { toolsCommand } from './tools.js';

/** The root command: one binary with a subcommand per component, as Thanos does. */
const root: Command = {
  name: 'tessera',
  help: 'Tessera: long-term storage and global query layer for Prometheus, compatible with Thanos.',
  subcommands: [sidecarCommand, storeCommand, queryCommand, compactCommand, toolsCommand, demoCommand],
};

const code = await runCommand(root, process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
