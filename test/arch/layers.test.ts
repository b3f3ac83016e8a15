import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

/**
 * Enforces the package layering of DEVELOPERS.md by reading import lines:
 * - a package imports only packages of a lower (or, for libraries, equal) layer, without cycles;
 * - components (layer 6) never import each other;
 * - another package is imported only through its index.ts (no deep imports);
 * - production code never imports pkg/testutil.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const layer: Record<string, number> = {
  errors: 0,
  labels: 0,
  histogram: 0,
  encoding: 0,
  chunkenc: 1,
  objstore: 1,
  cache: 1,
  storepb: 1,
  prompb: 1,
  storage: 2,
  tsdb: 3,
  promql: 3,
  rules: 4,
  dedup: 3,
  datagen: 3,
  block: 4,
  downsample: 4,
  api: 4,
  store: 5,
  query: 5,
  sidecar: 6,
  querier: 6,
  compactor: 6,
  ruler: 6,
  'store-gateway': 6,
  'query-frontend': 6,
  demo: 6,
  testutil: 7,
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface Edge {
  file: string;
  spec: string;
  target: string;
}

function edges(file: string): Edge[] {
  const src = readFileSync(file, 'utf8');
  const out: Edge[] = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === undefined || !spec.startsWith('.')) continue;
    out.push({ file, spec, target: resolve(dirname(file), spec) });
  }
  return out;
}

function pkgOf(p: string): string | undefined {
  const rel = relative(join(root, 'pkg'), p);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0];
}

const isTestFile = (f: string) => /\.(test|bench)\.ts$/.test(f) || f.includes(`${sep}testutil${sep}`) || f.endsWith('acceptance.ts');

const files = [...walk(join(root, 'pkg')), ...walk(join(root, 'cmd'))];

describe('package layering', () => {
  test('every package under pkg/ has a known layer', () => {
    const unknown = new Set<string>();
    for (const f of files) {
      const p = pkgOf(f);
      if (p !== undefined && p.endsWith('.ts') === false && layer[p] === undefined) unknown.add(p);
    }
    expect([...unknown]).toEqual([]);
  });

  test('imports go down the layers, through index.ts, and components stay apart', () => {
    const problems: string[] = [];
    for (const f of files) {
      const from = pkgOf(f);
      for (const e of edges(f)) {
        const to = pkgOf(e.target);
        if (to === undefined || to === from) continue;
        const where = `${relative(root, f)} imports ${e.spec}`;
        const rest = relative(join(root, 'pkg', to), e.target);
        if (rest !== 'index.js' && rest !== 'index.ts' && rest !== 'index') problems.push(`${where}: deep import into pkg/${to}`);
        if (to === 'testutil' && !isTestFile(f)) problems.push(`${where}: production code imports testutil`);
        if (from === undefined) continue;
        const lf = layer[from] ?? 99;
        const lt = layer[to] ?? 99;
        if (lf === 6 && lt === 6) problems.push(`${where}: component imports component`);
        else if (lt > lf && !(to === 'testutil' && isTestFile(f))) problems.push(`${where}: layer ${lf} imports layer ${lt}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('no import cycles between packages', () => {
    const g = new Map<string, Set<string>>();
    for (const f of files) {
      if (isTestFile(f)) continue;
      const from = pkgOf(f);
      if (from === undefined) continue;
      for (const e of edges(f)) {
        const to = pkgOf(e.target);
        if (to === undefined || to === from) continue;
        if (!g.has(from)) g.set(from, new Set());
        g.get(from)!.add(to);
      }
    }
    const cycles: string[] = [];
    const state = new Map<string, number>();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, 1);
      stack.push(n);
      for (const m of g.get(n) ?? []) {
        if (state.get(m) === 1) cycles.push([...stack.slice(stack.indexOf(m)), m].join(' -> '));
        else if (state.get(m) === undefined) visit(m);
      }
      stack.pop();
      state.set(n, 2);
    };
    for (const n of g.keys()) if (state.get(n) === undefined) visit(n);
    expect(cycles).toEqual([]);
  });
});
