import { expect, test } from 'vitest';
import type { Command, FlagSpec } from './command.js';

/**
 * ThanosDefaults lists a Thanos command's flags with their Thanos v0.42 defaults (`thanos <command>
 * --help`, booleans from the source); undefined: no default (a path, YAML, or a repeated flag).
 */
export type ThanosDefaults = readonly (readonly [string, string | boolean | undefined])[];

/** THANOS_GLOBAL_DEFAULTS are the flags Thanos has on every command (logging, tracing, Go memory limit). */
export const THANOS_GLOBAL_DEFAULTS: ThanosDefaults = [
  ['log.level', 'info'], ['log.format', 'logfmt'], ['tracing.config-file', undefined], ['tracing.config', undefined],
  ['enable-auto-gomemlimit', false], ['auto-gomemlimit.ratio', '0.9'],
];

/**
 * effectiveDefault is the value a flag has when not given, as kingpin reports it: '' and no default
 * are both unset (undefined), a boolean without default is false, a repeated flag's defaults are
 * joined with ','.
 */
function effectiveDefault(spec: FlagSpec): string | boolean | undefined {
  const d = spec.default;
  if (d === undefined) return spec.type === 'boolean' ? false : undefined;
  if (Array.isArray(d)) return d.length === 0 ? undefined : d.join(',');
  return d === '' ? undefined : d;
}

/**
 * testThanosDefaults pins a command's flags to Thanos's: one test per flag of `defaults` and of
 * THANOS_GLOBAL_DEFAULTS that the flag exists under Thanos's name with Thanos's default.
 */
export function testThanosDefaults(cmd: Command, defaults: ThanosDefaults): void {
  test.each([...defaults, ...THANOS_GLOBAL_DEFAULTS])(`Thanos flag --%s of ${cmd.name} has Thanos default %j`, (name, def) => {
    const spec = cmd.flags?.[name];
    expect(spec, `--${name}`).toBeDefined();
    expect(effectiveDefault(spec!)).toEqual(def === '' ? undefined : def);
  });
}
