// Child process of memory.bench.ts: opens the blocks, runs one query through the engine and
// prints {baseKB, peakKB, points}: RSS before the query and the process's peak RSS after it.
// Usage: node --import tsx bench/memory-child.ts <blocks-dir> instant|range <expr> <t|start> [end step]
import { readFileSync } from 'node:fs';
import { Engine } from '../pkg/promql/index.js';
import { openDB } from '../pkg/tsdb/index.js';

function statusKB(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

const [dir, kind, expr, a, b, c] = process.argv.slice(2) as [string, string, string, string, string?, string?];
const db = await openDB(dir);
const engine = new Engine({ maxSamples: 500_000_000 });
// Warm the block indexes with a cheap query first, so the peak measures the query's own data.
await engine.instantQuery(db, 'count(up)', Number(a)).exec();
global.gc?.();
const baseKB = statusKB('VmRSS');
const r = kind === 'instant' ? await engine.instantQuery(db, expr, Number(a)).exec() : await engine.rangeQuery(db, expr, Number(a), Number(b), Number(c)).exec();
const peakKB = statusKB('VmHWM');
let points = 0;
if (r.value.type === 'vector') for (const s of r.value.value) points += s.f;
if (r.value.type === 'matrix') for (const s of r.value.value) points += s.floats.length + s.histograms.length;
console.log(JSON.stringify({ baseKB, peakKB, points }));
db.close();
