import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValueType } from '../pkg/chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../pkg/labels/index.js';
import { BlockReader, BlockWriter, expandPostings, FileByteSource, IndexReader, postingsForMatchers } from '../pkg/tsdb/index.js';
import { timeIt, type BenchResult } from './harness.js';

const HOSTS = 200;
const SAMPLES_PER_SERIES = 135; // 15s interval over ~34 min
const INTERVAL = 15_000;
const START = 1_767_225_600_000;

/** Node-exporter-like series: 200 hosts × 40 series, sorted. */
function makeLabels(): Labels[] {
  const out: Labels[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const inst = `host-${String(h).padStart(4, '0')}:9100`;
    for (let cpu = 0; cpu < 4; cpu++) {
      for (const mode of ['idle', 'iowait', 'system', 'user', 'nice', 'irq', 'softirq', 'steal']) {
        out.push(Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', inst, 'job', 'node', 'cpu', String(cpu), 'mode', mode));
      }
    }
    for (const dev of ['eth0', 'eth1', 'lo', 'docker0']) {
      out.push(Labels.fromStrings('__name__', 'node_network_receive_bytes_total', 'instance', inst, 'job', 'node', 'device', dev));
      out.push(Labels.fromStrings('__name__', 'node_network_transmit_bytes_total', 'instance', inst, 'job', 'node', 'device', dev));
    }
  }
  return out.sort(Labels.compare);
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-tsdb-'));
  const res: BenchResult[] = [];
  try {
    const lsets = makeLabels();
    const ts = Array.from({ length: SAMPLES_PER_SERIES }, (_, i) => START + i * INTERVAL);
    const total = lsets.length * SAMPLES_PER_SERIES;
    let t0 = performance.now();
    const w = await BlockWriter.create(dir);
    for (const [i, l] of lsets.entries()) {
      let v = i * 10;
      await w.addSeries(
        l,
        ts,
        ts.map(() => (v += Math.round(Math.random() * 100) / 10)),
      );
    }
    const block = await w.flush();
    const writeMs = performance.now() - t0;
    res.push({ name: `block write (${lsets.length} series, ${total} samples)`, value: total / (writeMs / 1000), unit: 'samples/s' });

    const indexPath = join(block.dir, 'index');
    res.push({ name: 'index open (header, TOC, symbols, postings table)', value: await timeIt(() => IndexReader.open(FileByteSource.open(indexPath)).close()), unit: 'µs/op' });
    res.push({ name: 'block open (meta, index, chunk segments, tombstones)', value: await timeIt(async () => (await BlockReader.open(block.dir)).close()), unit: 'µs/op' });
    res.push(...(await openMemory(block.dir)));

    const b = await BlockReader.open(block.dir);
    const ix = b.index;
    const cases: [string, Matcher[]][] = [
      ['postings {instance="host-0100:9100"}', [new Matcher(MatchType.Equal, 'instance', 'host-0100:9100')]],
      ['postings {__name__="node_cpu_seconds_total",mode="idle"}', [new Matcher(MatchType.Equal, '__name__', 'node_cpu_seconds_total'), new Matcher(MatchType.Equal, 'mode', 'idle')]],
      ['postings {instance=~"host-00[0-4].*"}', [new Matcher(MatchType.Regexp, 'instance', 'host-00[0-4].*')]],
      ['postings {mode=~"idle|user",cpu!="0"}', [new Matcher(MatchType.Regexp, 'mode', 'idle|user'), new Matcher(MatchType.NotEqual, 'cpu', '0')]],
      ['postings {__name__=~".+",device=""} (subtraction)', [new Matcher(MatchType.Regexp, '__name__', '.+'), new Matcher(MatchType.Equal, 'device', '')]],
    ];
    for (const [name, ms] of cases) {
      const n = expandPostings(postingsForMatchers(ix, ms)).length;
      res.push({ name: `${name} → ${n} refs`, value: await timeIt(() => expandPostings(postingsForMatchers(ix, ms))), unit: 'µs/op' });
    }

    const q = await b.querier(START, START + SAMPLES_PER_SERIES * INTERVAL);
    const sel = [new Matcher(MatchType.Equal, '__name__', 'node_cpu_seconds_total')];
    let samples = 0;
    t0 = performance.now();
    let it;
    const set = await q.select(true, undefined, sel);
    while (set.next()) {
      it = set.at().iterator(it);
      while (it.next() !== ValueType.None) samples++;
    }
    const selMs = performance.now() - t0;
    res.push({ name: `select + iterate node_cpu_seconds_total (${samples} samples)`, value: samples / (selMs / 1000), unit: 'samples/s' });
    b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

/**
 * openMemory keeps OPEN_BLOCKS readers of the same block open at once and reports how much the
 * resident set and the ArrayBuffer memory grew per open block (what a store gateway holding many
 * blocks pays), next to the size of the chunk segment files.
 */
async function openMemory(dir: string): Promise<BenchResult[]> {
  const OPEN_BLOCKS = 20;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const open: BlockReader[] = [];
  for (let i = 0; i < OPEN_BLOCKS; i++) open.push(await BlockReader.open(dir));
  gc?.();
  const after = process.memoryUsage();
  const segBytes = open[0]!.chunks.size;
  for (const b of open) b.close();
  const mib = 1024 * 1024;
  return [
    { name: `chunk segment files per block`, value: segBytes / mib, unit: 'MiB' },
    { name: `RSS growth per open block (${OPEN_BLOCKS} open${gc === undefined ? ', no --expose-gc' : ''})`, value: (after.rss - before.rss) / OPEN_BLOCKS / mib, unit: 'MiB' },
    { name: `ArrayBuffer growth per open block`, value: (after.arrayBuffers - before.arrayBuffers) / OPEN_BLOCKS / mib, unit: 'MiB' },
  ];
}
