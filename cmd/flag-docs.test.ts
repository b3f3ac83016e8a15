import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { Command } from './command.js';
import { FLAGS_BEGIN, FLAGS_END, docPages, generatedSection, renderFlags, rewriteFlagSection } from './flag-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('docs flag reference', () => {
  for (const p of docPages) {
    test(`${p.file} lists every flag of tessera ${p.command.name} as the code defines them (run npx tsx scripts/gen-docs.ts)`, () => {
      const page = readFileSync(join(root, p.file), 'utf8');
      const begin = page.indexOf(FLAGS_BEGIN);
      const end = page.indexOf(FLAGS_END);
      expect(begin, `${p.file} has no ${FLAGS_BEGIN} marker`).toBeGreaterThanOrEqual(0);
      expect(end).toBeGreaterThan(begin);
      expect(page.slice(begin, end + FLAGS_END.length)).toBe(generatedSection(p.command));
    });
  }

  test('every subcommand of tessera has a docs page', () => {
    const src = readFileSync(join(root, 'cmd/tessera.ts'), 'utf8');
    const list = /subcommands:\s*\[([^\]]*)\]/.exec(src)?.[1] ?? '';
    const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
    expect(names.length).toBeGreaterThan(5);
    const documented = new Set(docPages.map((p) => `${p.command.name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Command`));
    expect(names.filter((n) => !documented.has(n)), 'add a page for each to docPages in cmd/flag-docs.ts, then run npx tsx scripts/gen-docs.ts').toEqual([]);
  });

  test('the generated table carries name, default and description, and changes when a flag does', () => {
    const cmd: Command = {
      name: 'x',
      help: 'X does x.',
      flags: {
        'a.b': { type: 'string', default: '5m', help: 'A | with a pipe\nand a newline.' },
        c: { type: 'boolean', help: 'C.' },
        d: { type: 'string', multiple: true, help: 'D.' },
      },
      async run() {},
    };
    const out = renderFlags(cmd);
    expect(out).toContain('| `--a.b=VALUE` | `5m` | A \\| with a pipe and a newline. |');
    expect(out).toContain('| `--c` | false | C. |');
    expect(out).toContain('| `--d=VALUE` (repeatable) |  | D. |');
    const page = rewriteFlagSection('# x\n\ntext\n', cmd);
    expect(rewriteFlagSection(page, cmd)).toBe(page);
    const changed = { ...cmd, flags: { ...cmd.flags, e: { type: 'boolean' as const, help: 'E.' } } };
    expect(rewriteFlagSection(page, changed)).not.toBe(page);
    expect(rewriteFlagSection(page, changed)).toContain('| `--e` | false | E. |');
  });
});
