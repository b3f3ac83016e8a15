/**
 * Checks that our downsampler writes byte-identical aggregate chunks to Thanos's, by running
 * Thanos's own pkg/compact/downsample code as an oracle on random series (counters with resets,
 * gauges with ±Inf, gaps of up to days, NaN and staleness markers, random raw chunk boundaries):
 * raw → 5m (DownsampleRaw), 5m → 1h and 1h → 1d (downsampleAggr), compared chunk by chunk
 * (minTime, maxTime and bytes) with Downsampler.series.
 *
 * The oracle is assembled at run time in a temporary directory from a Thanos checkout: its
 * aggr.go and downsample.go (without the block-level Downsample function and the marker filter,
 * whose imports would pull in the whole object-storage stack), a small export file and main.go.
 * Nothing of Thanos is kept in this repository.
 *
 * Usage: npx tsx scripts/downsample-vs-thanos.ts <thanos-checkout> [seed=1] [series=300]
 * (needs `go`; downloads the Prometheus module Thanos's go.mod names through the Go proxy).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { XorChunk, floatBits, staleNaN, type ChunkMeta } from '../pkg/chunkenc/index.js';
import { Downsampler, RES_1D, RES_1H, RES_5M } from '../pkg/downsample/index.js';

const [thanos, seedArg = '1', countArg = '300'] = process.argv.slice(2);
if (thanos === undefined) throw new Error('usage: downsample-vs-thanos.ts <thanos-checkout> [seed] [series]');

const dir = mkdtempSync(join(tmpdir(), 'tessera-ds-oracle-'));
try {
  const srcDir = join(thanos, 'pkg', 'compact', 'downsample');
  const promVersion = /github\.com\/prometheus\/prometheus (v\S+)/.exec(readFileSync(join(thanos, 'go.mod'), 'utf8'))?.[1];
  if (promVersion === undefined) throw new Error(`read ${join(thanos, 'go.mod')}: no github.com/prometheus/prometheus requirement`);
  mkdirSync(join(dir, 'ds'));
  writeFileSync(join(dir, 'ds', 'aggr.go'), readFileSync(join(srcDir, 'aggr.go')));
  let ds = readFileSync(join(srcDir, 'downsample.go'), 'utf8');
  const cut = (from: string, to: string | undefined) => {
    const i = ds.indexOf(from);
    if (i < 0) throw new Error(`downsample.go: "${from}" not found`);
    ds = ds.slice(0, i) + (to === undefined ? '' : ds.slice(ds.indexOf(to, i)));
  };
  cut('// Downsample downsamples the given block.', '// currentWindow returns');
  cut('// GatherNoDownsampleMarkFilter is a block.Fetcher filter', undefined);
  const imp = ds.indexOf('import (');
  ds =
    ds.slice(0, imp) +
    'import (\n\t"fmt"\n\t"math"\n\n\t"github.com/pkg/errors"\n\t"github.com/prometheus/prometheus/model/histogram"\n\t"github.com/prometheus/prometheus/model/value"\n\t"github.com/prometheus/prometheus/tsdb/chunkenc"\n\t"github.com/prometheus/prometheus/tsdb/chunks"\n)\n' +
    ds.slice(ds.indexOf(')\n', imp) + 2);
  writeFileSync(join(dir, 'ds', 'downsample.go'), ds);
  writeFileSync(
    join(dir, 'ds', 'export.go'),
    `package downsample

import (
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

type Sample = sample

func ExpandXor(it chunkenc.Iterator, buf *[]Sample) error { return expandXorChunkIterator(it, buf) }

func DownsampleAggrRun(chks []*AggrChunk, mint, maxt, inRes, outRes int64) ([]chunks.Meta, error) {
	var buf []sample
	var res []chunks.Meta
	err := downsampleAggr(chks, &buf, mint, maxt, inRes, outRes, &res)
	return res, err
}
`,
  );
  writeFileSync(join(dir, 'go.mod'), `module oracle\n\ngo 1.24\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgithub.com/prometheus/prometheus ${promVersion}\n)\n`);
  writeFileSync(
    join(dir, 'main.go'),
    `package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"

	ds "oracle/ds"
)

type out struct {
	M5  [][3]string \`json:"m5"\`
	H1  [][3]string \`json:"h1"\`
	D1  [][3]string \`json:"d1"\`
	Err string      \`json:"err,omitempty"\`
}

func metas(ms []chunks.Meta) [][3]string {
	r := make([][3]string, 0, len(ms))
	for _, m := range ms {
		r = append(r, [3]string{strconv.FormatInt(m.MinTime, 10), strconv.FormatInt(m.MaxTime, 10), hex.EncodeToString(m.Chunk.Bytes())})
	}
	return r
}

func aggr(ms []chunks.Meta, inRes, outRes int64) ([]chunks.Meta, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	var achks []*ds.AggrChunk
	for _, m := range ms {
		achks = append(achks, m.Chunk.(*ds.AggrChunk))
	}
	return ds.DownsampleAggrRun(achks, ms[0].MinTime, ms[len(ms)-1].MaxTime, inRes, outRes)
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var in [][][2]string
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			panic(err)
		}
		var all []ds.Sample
		for _, pts := range in {
			x := chunkenc.NewXORChunk()
			app, _ := x.Appender()
			for _, p := range pts {
				t, _ := strconv.ParseInt(p[0], 10, 64)
				b, _ := strconv.ParseUint(p[1], 16, 64)
				app.Append(t, math.Float64frombits(b))
			}
			if err := ds.ExpandXor(x.Iterator(nil), &all); err != nil {
				panic(err)
			}
		}
		var o out
		m5 := ds.DownsampleRaw(all, ds.ResLevel1)
		h1, err := aggr(m5, ds.ResLevel1, ds.ResLevel2)
		if err != nil {
			o.Err = fmt.Sprint(err)
		}
		d1, err := aggr(h1, ds.ResLevel2, 86400000)
		if err != nil {
			o.Err = fmt.Sprint(err)
		}
		o.M5, o.H1, o.D1 = metas(m5), metas(h1), metas(d1)
		if err := enc.Encode(o); err != nil {
			panic(err)
		}
	}
}
`,
  );
  execFileSync('go', ['mod', 'tidy'], { cwd: dir, stdio: 'inherit' });
  execFileSync('go', ['build', '-o', 'oracle', '.'], { cwd: dir, stdio: 'inherit' });

  // Random series from a seeded PRNG (mulberry32).
  let seed = Number(seedArg);
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(rnd() * n);
  const bitsHex = (v: number) => {
    floatBits.f64[0] = v;
    return floatBits.u32[floatBits.HI]!.toString(16).padStart(8, '0') + floatBits.u32[floatBits.LO]!.toString(16).padStart(8, '0');
  };

  const oracle = spawn(join(dir, 'oracle'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: oracle.stdout! })[Symbol.asyncIterator]();
  const downsampler = new Downsampler();
  const fmt = (ms: ChunkMeta[]) => ms.map((m) => [String(m.minTime), String(m.maxTime), Buffer.from(m.chunk.bytes()).toString('hex')]);
  const windows = [0, 0, 0];
  let same = 0;
  let different = 0;
  for (let c = 0; c < Number(countArg); c++) {
    const n = 1 + int([10, 300, 3000, 20000][int(4)]!);
    const counter = rnd() < 0.5;
    let t = int(2e12);
    let v = 0;
    const pts: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const r = rnd();
      t += r < 0.6 ? 15_000 + int(3) : r < 0.9 ? 1 + int(900_000) : r < 0.97 ? 1 + int(3 * 86_400_000) : 1 + int(30_000);
      const k = rnd();
      let val: number;
      if (k < 0.03) val = Number.NaN;
      else if (k < 0.06) val = staleNaN();
      else if (counter) val = v = k < 0.08 ? rnd() * 10 : v + rnd() * 100;
      else val = k < 0.08 ? (int(2) === 1 ? Infinity : -Infinity) : (rnd() - 0.5) * 1e6;
      pts.push([t, val]);
    }
    const chunks: [number, number][][] = [];
    for (let i = 0; i < pts.length; ) {
      const m = 1 + int(rnd() < 0.5 ? 120 : 400);
      chunks.push(pts.slice(i, i + m));
      i += m;
    }
    oracle.stdin!.write(JSON.stringify(chunks.map((ch) => ch.map(([ts, x]) => [String(ts), bitsHex(x)]))) + '\n');
    const want = JSON.parse((await lines.next()).value as string) as { m5: string[][]; h1: string[][]; d1: string[][]; err?: string };
    const raw: ChunkMeta[] = chunks.map((ch) => {
      const x = new XorChunk();
      const app = x.appender();
      for (const [ts, val] of ch) app.append(ts, val);
      return { ref: 0, minTime: ch[0]![0], maxTime: ch[ch.length - 1]![0], chunk: x };
    });
    const m5 = downsampler.series(raw, 0, RES_5M);
    const h1 = downsampler.series(m5, RES_5M, RES_1H);
    const d1 = downsampler.series(h1, RES_1H, RES_1D);
    [m5, h1, d1].forEach((ms, i) => (windows[i] = windows[i]! + ms.reduce((a, m) => a + m.chunk.numSamples(), 0)));
    const got = { m5: fmt(m5), h1: fmt(h1), d1: fmt(d1) };
    if (want.err === undefined && JSON.stringify(got) === JSON.stringify({ m5: want.m5, h1: want.h1, d1: want.d1 })) {
      same++;
      continue;
    }
    different++;
    if (different <= 3) console.log(`series ${c} differs${want.err !== undefined ? ` (Thanos: ${want.err})` : ''}:\n ours   ${JSON.stringify(got).slice(0, 400)}\n thanos ${JSON.stringify(want).slice(0, 400)}`);
  }
  oracle.stdin!.end();
  console.log(`seed ${seedArg}: ${same} series byte-identical with Thanos, ${different} different; aggregate windows 5m/1h/1d: ${windows.join('/')}`);
  if (different > 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
