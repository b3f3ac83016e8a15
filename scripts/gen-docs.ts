// Rewrites the generated flag reference (between `<!-- flags:begin -->` and `<!-- flags:end -->`)
// of every docs/ page from the commands' own flag definitions. cmd/flag-docs.test.ts fails when a
// page is out of date: run `npx tsx scripts/gen-docs.ts` after changing a flag.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docPages, rewriteFlagSection } from '../cmd/flag-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const p of docPages) {
  const file = join(root, p.file);
  let page = '';
  try {
    page = await readFile(file, 'utf8');
  } catch {
    page = `# tessera ${p.command.name}\n`;
  }
  const next = rewriteFlagSection(page, p.command);
  if (next !== page) {
    await writeFile(file, next);
    process.stdout.write(`updated ${p.file}\n`);
  }
}
