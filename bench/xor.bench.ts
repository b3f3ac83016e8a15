// XOR chunk encode/decode throughput on one core, over realistic node_exporter-like series.
import { ValueType, XorChunk, XorIterator, type Chunk } from '../pkg/chunkenc/index.js';
import type { BenchResult } from './harness.js';
import { rng } from '../pkg/datagen/index.js';

const SAMPLES_PER_CHUNK = 120;
const TOTAL = 1_200_000;

/** Makes TOTAL samples: counters with 2 decimals and gauges, 15 s scrapes with ms jitter on some series. */
function makeData(): { ts: Float64Array; vs: Float64Array } {
  const r = rng(42);
  const ts = new Float64Array(TOTAL);
  const vs = new Float64Array(TOTAL);
  let t = 1_767_225_600_000;
  let v = 0;
  for (let i = 0; i < TOTAL; i++) {
    if (i % SAMPLES_PER_CHUNK === 0) {
      t = 1_767_225_600_000 + Math.floor(r() * 1000);
      v = r() < 0.5 ? 0 : Math.round(r() * 8e9);
    }
    const kind = Math.floor(i / SAMPLES_PER_CHUNK) % 4;
    t += 15_000 + (kind === 3 ? Math.floor(r() * 5) - 2 : 0);
    if (kind === 0) v = Math.round((v + r() * 10) * 100) / 100; // counter, 2 decimals
    else if (kind === 1) v = Math.max(0, v + Math.round((r() - 0.5) * 5e7)); // gauge
    else if (kind === 2 && r() < 0.3) v += 1; // mostly constant
    ts[i] = t;
    vs[i] = v;
  }
  return { ts, vs };
}

function encodeAll(ts: Float64Array, vs: Float64Array): Chunk[] {
  const chunks: Chunk[] = [];
  for (let i = 0; i < TOTAL; i += SAMPLES_PER_CHUNK) {
    const c = new XorChunk();
    const app = c.appender();
    const end = Math.min(TOTAL, i + SAMPLES_PER_CHUNK);
    for (let j = i; j < end; j++) app.append(ts[j]!, vs[j]!);
    chunks.push(c);
  }
  return chunks;
}

function decodeAll(datas: Uint8Array[], it: XorIterator): number {
  let n = 0;
  let sum = 0;
  for (let k = 0; k < datas.length; k++) {
    it.reset(datas[k]!);
    while (it.next() === ValueType.Float) {
      sum += it.atT() + it.atF();
      n++;
    }
  }
  if (sum === 42) console.log('unlikely');
  return n;
}

function best(runs: number, fn: () => number): { ms: number; n: number } {
  let bestMs = Infinity;
  let n = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    n = fn();
    const ms = performance.now() - t0;
    if (ms < bestMs) bestMs = ms;
  }
  return { ms: bestMs, n };
}

/** run measures XOR encode/decode throughput (samples/s, one core) on 1.2M realistic samples. */
export async function run(): Promise<BenchResult[]> {
  const { ts, vs } = makeData();
  const enc = best(5, () => encodeAll(ts, vs).length * SAMPLES_PER_CHUNK);
  const chunks = encodeAll(ts, vs);
  const datas = chunks.map((c) => c.bytes());
  let bytes = 0;
  for (const d of datas) bytes += d.length;
  const it = new XorIterator();
  decodeAll(datas, it); // warm-up
  const dec = best(7, () => decodeAll(datas, it));
  if (dec.n !== TOTAL) throw new Error(`decoded ${dec.n} samples, want ${TOTAL}`);
  const seekIt = new XorIterator();
  const seek = best(5, () => {
    let n = 0;
    for (const d of datas) {
      seekIt.reset(d);
      if (seekIt.seek(1_767_225_600_000 + 60 * 15_000) === ValueType.Float) n++;
    }
    return n;
  });
  return [
    { name: `xor encode (${TOTAL} samples, 120/chunk, best of 5)`, value: TOTAL / enc.ms / 1000, unit: 'M samples/s' },
    { name: `xor decode (${TOTAL} samples, reused iterator, best of 7; goal 50)`, value: TOTAL / dec.ms / 1000, unit: 'M samples/s' },
    { name: 'xor seek to mid-chunk (reset + seek)', value: datas.length / seek.ms / 1000, unit: 'M chunks/s' },
    { name: 'xor size', value: bytes / TOTAL, unit: 'bytes/sample' },
  ];
}
