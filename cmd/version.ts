import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BuildInfo is what `tessera --version` prints (Thanos/Prometheus `version.Print`). */
export interface VersionInfo {
  readonly version: string;
  readonly branch: string;
  readonly revision: string;
}

let cached: VersionInfo | undefined;

/** packageRoot finds the directory of Tessera's package.json above this file (source or dist/). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'tessera') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function git(root: string, args: string[]): string {
  try {
    const out = execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    return out === '' ? 'unknown' : out;
  } catch {
    return 'unknown';
  }
}

/**
 * versionInfo reads the version from package.json and the branch and revision from git when the
 * package is a checkout ("unknown" otherwise, e.g. installed from a tarball).
 */
export function versionInfo(): VersionInfo {
  if (cached !== undefined) return cached;
  const root = packageRoot();
  let version = 'unknown';
  if (root !== undefined) {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  }
  const inGit = root !== undefined && existsSync(join(root, '.git'));
  cached = {
    version,
    branch: inGit ? git(root, ['rev-parse', '--abbrev-ref', 'HEAD']) : 'unknown',
    revision: inGit ? git(root, ['rev-parse', 'HEAD']) : 'unknown',
  };
  return cached;
}

/** versionText is the `--version` output, laid out as Thanos prints it. */
export function versionText(program = 'tessera'): string {
  const v = versionInfo();
  return (
    `${program}, version ${v.version} (branch: ${v.branch}, revision: ${v.revision})\n` +
    `  node version:     ${process.version}\n` +
    `  platform:         ${process.platform}/${process.arch}\n`
  );
}
