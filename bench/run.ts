import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule } from './harness.js';

/**
 * Runs every bench/*.bench.ts module (or those whose file name contains argv[2]) and prints
 * their results. Usage: npm run bench [-- filter]
 */
const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
  console.log(`# ${f}`);
  for (const r of await mod.run()) console.log(`${r.name.padEnd(60)} ${r.value.toFixed(r.value < 10 ? 3 : 1).padStart(14)} ${r.unit}`);
}
