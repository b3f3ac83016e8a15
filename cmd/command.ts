import { parseArgs, type ParseArgsConfig } from 'node:util';
import { setProcessStatus } from '../pkg/api/index.js';
import { versionInfo, versionText } from './version.js';

/** FlagSpec describes one flag, Thanos-style (`--objstore.config-file`). */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly default?: string | boolean | string[];
  readonly help: string;
  readonly short?: string;
}

/**
 * Command is one CLI (sub)command. A command either has subcommands or a run function; cmd/ only
 * parses flags and wires packages together, it holds no business logic.
 */
export interface Command {
  readonly name: string;
  readonly help: string;
  readonly flags?: Readonly<Record<string, FlagSpec>>;
  /** usage of positional arguments, e.g. "<db-dir>". */
  readonly args?: string;
  readonly subcommands?: readonly Command[];
  run?(ctx: RunContext): Promise<number | void>;
}

/** RunContext is what a command's run receives: parsed flags and positionals. */
export interface RunContext {
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** command is the command line's command path, e.g. "tessera tools bucket ls" (for error messages). */
  readonly command?: string;
}

/** UsageError is thrown for bad command lines; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** runCommand dispatches argv (without node and script) to the matching (sub)command. */
export async function runCommand(root: Command, argv: readonly string[], io: Pick<RunContext, 'stdout' | 'stderr'>): Promise<number> {
  let cmd = root;
  const path: string[] = [root.name];
  let i = 0;
  while (cmd.subcommands !== undefined && i < argv.length && !argv[i]!.startsWith('-')) {
    const next = cmd.subcommands.find((c) => c.name === argv[i]);
    if (next === undefined) {
      io.stderr.write(`${path.join(' ')}: unknown command "${argv[i]}"\n\n${usage(cmd, path)}`);
      return 2;
    }
    cmd = next;
    path.push(next.name);
    i++;
  }
  const rest = argv.slice(i);
  // `--version` works on the root and on every command, as Thanos's kingpin version flag does.
  if (rest.includes('--version')) {
    io.stdout.write(versionText(root.name));
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(usage(cmd, path));
    return 0;
  }
  // A command group without its subcommand (`tessera`, `tessera tools`) is a usage error: the usage
  // on stderr and exit 2, as Thanos (kingpin: "expected command but got nothing", exit 2).
  if (cmd.run === undefined) {
    io.stderr.write(usage(cmd, path));
    return 2;
  }
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(cmd.flags ?? {})) {
    options[name] = {
      type: spec.type,
      ...(spec.multiple === true ? { multiple: true } : {}),
      ...(spec.short !== undefined ? { short: spec.short } : {}),
      ...(spec.default !== undefined ? { default: spec.default as string } : {}),
    } as NonNullable<ParseArgsConfig['options']>[string];
  }
  // Every boolean flag also takes `--no-<flag>` (false), as Thanos's kingpin `--[no-]flag`, unless
  // the command declares that spelling itself.
  const negations: string[] = [];
  for (const [name, spec] of Object.entries(cmd.flags ?? {})) {
    if (spec.type !== 'boolean' || name.startsWith('no-') || options[`no-${name}`] !== undefined) continue;
    options[`no-${name}`] = { type: 'boolean' };
    negations.push(name);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    io.stderr.write(`${path.join(' ')}: ${(err as Error).message}\n\n${usage(cmd, path)}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  // The last of --flag and --no-flag given wins, as in kingpin.
  const negated = new Set(negations);
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (negated.has(t.name)) values[t.name] = true;
    else if (t.name.startsWith('no-') && negated.has(t.name.slice(3))) values[t.name.slice(3)] = false;
  }
  for (const name of negations) delete values[`no-${name}`];
  setProcessStatus(processStatus(cmd.flags ?? {}, parsed.values as RunContext['flags']));
  try {
    const code = await cmd.run({ flags: parsed.values as RunContext['flags'], positionals: parsed.positionals, ...io, command: path.join(' ') });
    return code ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${path.join(' ')}: ${err.message}\n\n${usage(cmd, path)}`);
      return 2;
    }
    throw err;
  }
}

/**
 * processStatus is what /api/v1/status/buildinfo and /api/v1/status/flags answer for a running
 * command: its version, and every flag's value as given or defaulted (booleans "true"/"false",
 * repeated flags joined with ",", unset strings ""), as Thanos lists its kingpin flags.
 */
export function processStatus(specs: Readonly<Record<string, FlagSpec>>, values: RunContext['flags']) {
  const v = versionInfo();
  const flags: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const x = values[name];
    flags[name] = x === undefined ? (spec.type === 'boolean' ? 'false' : '') : Array.isArray(x) ? x.join(',') : String(x);
  }
  return { buildInfo: { version: v.version, revision: v.revision, branch: v.branch, buildUser: 'tessera', buildDate: '', goVersion: process.version }, flags };
}

/** usage renders the help text of a command. */
export function usage(cmd: Command, path: readonly string[]): string {
  let s = `usage: ${path.join(' ')}${cmd.subcommands ? ' <command>' : ''}${cmd.flags ? ' [flags]' : ''}${cmd.args ? ' ' + cmd.args : ''}\n\n${cmd.help}\n`;
  if (cmd.subcommands) {
    s += '\nCommands:\n';
    for (const c of cmd.subcommands) s += `  ${c.name.padEnd(28)} ${c.help.split('\n')[0]}\n`;
  }
  if (cmd.flags) {
    s += '\nFlags:\n';
    for (const [name, f] of Object.entries(cmd.flags)) {
      const def = f.default !== undefined && f.default !== '' && f.default !== false ? ` (default: ${JSON.stringify(f.default)})` : '';
      s += `  --${name}${f.type === 'string' ? '=VALUE' : ''}${f.multiple ? ' (repeatable)' : ''}\n      ${f.help}${def}\n`;
    }
  }
  return s;
}

/** flagString returns a string flag's value (or its default), '' when unset. */
export function flagString(ctx: RunContext, name: string): string {
  const v = ctx.flags[name];
  return typeof v === 'string' ? v : '';
}

/** flagBool returns a boolean flag's value. */
export function flagBool(ctx: RunContext, name: string): boolean {
  return ctx.flags[name] === true;
}

/** flagList returns a repeatable flag's values. */
export function flagList(ctx: RunContext, name: string): string[] {
  const v = ctx.flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
