import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uploadBlock } from '../pkg/block/index.js';
import { DataSet, writeDataSetBlocks } from '../pkg/datagen/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import type { BenchResult } from './harness.js';

/**
 * `tessera compact` over 48h of 2h blocks of the generator's data set (BENCH_COMPACT_HOSTS hosts,
 * default 20, ≈ 75 series each, 15 s interval) in a FILESYSTEM bucket: one pass (2h → 8h blocks,
 * no downsampling), as its own process. Reports samples compacted per second of the pass's wall
 * time and the process's peak RSS (the compactor logs it), which stays flat as hosts grow because
 * series are streamed one at a time. BENCH_COMPACT_HEAP_MB caps the compactor's V8 heap.
 */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

async function compactOnce(hosts: number): Promise<{ samples: number; seconds: number; peakMB: number }> {
  const base = await mkdtemp(join(tmpdir(), 'tessera-bench-compact-'));
  try {
    const bucketDir = join(base, 'bucket');
    const bkt = new FilesystemBucket({ directory: bucketDir });
    const ds = new DataSet({ hosts, hours: 48 });
    let samples = 0;
    for (const b of await writeDataSetBlocks(ds, join(base, 'blocks'), { thanos: { labels: { cluster: 'bench' }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } })) {
      samples += b.meta.stats.numSamples ?? 0;
      await uploadBlock(bkt, b.dir, { now: () => Date.now() - 3_600_000 });
    }
    await rm(join(base, 'blocks'), { recursive: true });
    const config = join(base, 'bucket.yml');
    await writeFile(config, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
    const start = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const heap = process.env['BENCH_COMPACT_HEAP_MB'];
      const p = spawn(process.execPath, [...(heap !== undefined ? [`--max-old-space-size=${heap}`] : []), '--import', 'tsx', join(repoRoot, 'cmd', 'tessera.ts'), 'compact', `--objstore.config-file=${config}`, `--data-dir=${join(base, 'data')}`, '--consistency-delay=0s', '--downsampling.disable'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`tessera compact exited ${code}: ${err.slice(-2000)}`))));
    });
    const seconds = (performance.now() - start) / 1000;
    const m = /peak_rss_mb=(\d+)/.exec(out);
    // Only the 8h ranges before the newest block are compacted: 40h of the 48h.
    return { samples: (samples * 40) / 48, seconds, peakMB: m === null ? NaN : Number(m[1]) };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  const hosts = Number(process.env['BENCH_COMPACT_HOSTS'] ?? 20);
  const r = await compactOnce(hosts);
  return [
    { name: `compact 48h × ${hosts} hosts (2h → 8h, one process, incl. startup)`, value: r.samples / r.seconds / 1e6, unit: `M samples/s (${(r.samples / 1e6).toFixed(1)} M samples in ${r.seconds.toFixed(1)} s)` },
    { name: `compact 48h × ${hosts} hosts peak RSS`, value: r.peakMB, unit: 'MB' },
  ];
}
