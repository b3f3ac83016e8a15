/**
 * Checks that our downsampler writes byte-identical aggregate chunks to Thanos's, by running
 * Thanos's own pkg/compact/downsample code as an oracle on random series (counters with resets,
 * gauges with ±Inf, gaps of up to days, NaN and staleness markers, random raw chunk boundaries):
 * raw → 5m (DownsampleRaw), 5m → 1h and 1h → 1d (downsampleAggr), compared chunk by chunk
 * (minTime, maxTime and bytes) with Downsampler.series. Then, at block level, Thanos's readers
 * (Prometheus's index and chunk readers with Thanos's chunk pool) read a 5m block written by our
 * downsampleBlock, and our BlockReader reads a 5m block that Thanos's code writes with Prometheus's
 * index and chunk writers.
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
import { AGGR_TYPES, AggrChunk, ValueType, XorChunk, floatBits, staleNaN, type ChunkMeta } from '../pkg/chunkenc/index.js';
import { rng } from '../pkg/datagen/index.js';
import { Downsampler, RES_1D, RES_1H, RES_5M, downsampleBlock } from '../pkg/downsample/index.js';
import { Labels, MatchType, Matcher } from '../pkg/labels/index.js';
import { BlockReader, BlockWriter, newUlid, writeBlockMeta } from '../pkg/tsdb/index.js';

const [thanos, seedArg = '1', countArg = '300'] = process.argv.slice(2);
if (thanos === undefined) throw new Error('usage: downsample-vs-thanos.ts <thanos-checkout> [seed] [series]');

const dir = mkdtempSync(join(tmpdir(), 'tessera-ds-oracle-'));
try {
  const srcDir = join(thanos, 'pkg', 'compact', 'downsample');
  const promVersion = /github\.com\/prometheus\/prometheus (v\S+)/.exec(readFileSync(join(thanos, 'go.mod'), 'utf8'))?.[1];
  if (promVersion === undefined) throw new Error(`read ${join(thanos, 'go.mod')}: no github.com/prometheus/prometheus requirement`);
  mkdirSync(join(dir, 'ds'));
  writeFileSync(join(dir, 'ds', 'aggr.go'), readFileSync(join(srcDir, 'aggr.go')));
  writeFileSync(join(dir, 'ds', 'pool.go'), readFileSync(join(srcDir, 'pool.go')));
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
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"

	ds "oracle/ds"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func rawSamples(in [][][2]string) []ds.Sample {
	var all []ds.Sample
	for _, pts := range in {
		x := chunkenc.NewXORChunk()
		app, _ := x.Appender()
		for _, p := range pts {
			t, _ := strconv.ParseInt(p[0], 10, 64)
			b, _ := strconv.ParseUint(p[1], 16, 64)
			app.Append(t, math.Float64frombits(b))
		}
		must(ds.ExpandXor(x.Iterator(nil), &all))
	}
	return all
}

// readBlock prints every series of a downsampled block as Thanos reads it: per chunk its range and
// the samples of each aggregate (null when absent).
func readBlock(dir string) {
	ir, err := index.NewFileReader(filepath.Join(dir, "index"), index.DecodePostingsRaw)
	must(err)
	cr, err := chunks.NewDirReader(filepath.Join(dir, "chunks"), ds.NewPool())
	must(err)
	k, v := index.AllPostingsKey()
	p, err := ir.Postings(context.Background(), k, v)
	must(err)
	enc := json.NewEncoder(os.Stdout)
	var b labels.ScratchBuilder
	for p.Next() {
		var metas []chunks.Meta
		must(ir.Series(p.At(), &b, &metas))
		type chk struct {
			MinT  int64         \`json:"minT"\`
			MaxT  int64         \`json:"maxT"\`
			Aggrs [][][2]string \`json:"aggrs"\`
		}
		var cs []chk
		for _, m := range metas {
			c, _, err := cr.ChunkOrIterable(m)
			must(err)
			ac := c.(*ds.AggrChunk)
			x := chk{MinT: m.MinTime, MaxT: m.MaxTime}
			for at := ds.AggrCount; at <= ds.AggrCounter; at++ {
				sub, err := ac.Get(at)
				if err == ds.ErrAggrNotExist {
					x.Aggrs = append(x.Aggrs, nil)
					continue
				}
				must(err)
				s := [][2]string{}
				it := sub.Iterator(nil)
				for it.Next() != chunkenc.ValNone {
					t, f := it.At()
					s = append(s, [2]string{strconv.FormatInt(t, 10), strconv.FormatUint(math.Float64bits(f), 16)})
				}
				must(it.Err())
				x.Aggrs = append(x.Aggrs, s)
			}
			cs = append(cs, x)
		}
		must(enc.Encode(map[string]any{"labels": b.Labels().String(), "chunks": cs}))
	}
	must(p.Err())
}

// writeBlock downsamples the series on stdin to 5m with Thanos's code and writes index and chunks
// into dir (meta.json is written by the caller).
func writeBlock(dir string) {
	type ser struct {
		Labels []string       \`json:"labels"\`
		Chunks [][][2]string  \`json:"chunks"\`
		lset   labels.Labels
	}
	var all []ser
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for sc.Scan() {
		var s ser
		must(json.Unmarshal(sc.Bytes(), &s))
		s.lset = labels.FromStrings(s.Labels...)
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return labels.Compare(all[i].lset, all[j].lset) < 0 })
	syms := map[string]struct{}{}
	for _, s := range all {
		s.lset.Range(func(l labels.Label) { syms[l.Name] = struct{}{}; syms[l.Value] = struct{}{} })
	}
	var sorted []string
	for x := range syms {
		sorted = append(sorted, x)
	}
	sort.Strings(sorted)
	cw, err := chunks.NewWriter(filepath.Join(dir, "chunks"))
	must(err)
	iw, err := index.NewWriter(context.Background(), filepath.Join(dir, "index"))
	must(err)
	for _, x := range sorted {
		must(iw.AddSymbol(x))
	}
	for i, s := range all {
		metas := ds.DownsampleRaw(rawSamples(s.Chunks), ds.ResLevel1)
		if len(metas) == 0 {
			continue
		}
		must(cw.WriteChunks(metas...))
		must(iw.AddSeries(storage.SeriesRef(i), s.lset, metas...))
	}
	must(cw.Close())
	must(iw.Close())
}

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
	if len(os.Args) == 3 && os.Args[1] == "read" {
		readBlock(os.Args[2])
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "write" {
		writeBlock(os.Args[2])
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var in [][][2]string
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			panic(err)
		}
		all := rawSamples(in)
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
  const rnd = rng(Number(seedArg));
  const int = (n: number) => Math.floor(rnd() * n);
  const bitsHex = (v: number) => {
    floatBits.f64[0] = v;
    return floatBits.u32[floatBits.HI]!.toString(16).padStart(8, '0') + floatBits.u32[floatBits.LO]!.toString(16).padStart(8, '0');
  };

  /** A random series as raw chunks: a counter with resets or a gauge with ±Inf, gaps, NaN and staleness markers. */
  const randomChunks = (): [number, number][][] => {
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
    return chunks;
  };
  const toMetas = (chunks: [number, number][][]): ChunkMeta[] =>
    chunks.map((ch) => {
      const x = new XorChunk();
      const app = x.appender();
      for (const [ts, val] of ch) app.append(ts, val);
      return { ref: 0, minTime: ch[0]![0], maxTime: ch[ch.length - 1]![0], chunk: x };
    });

  const oracle = spawn(join(dir, 'oracle'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: oracle.stdout! })[Symbol.asyncIterator]();
  const downsampler = new Downsampler();
  const fmt = (ms: ChunkMeta[]) => ms.map((m) => [String(m.minTime), String(m.maxTime), Buffer.from(m.chunk.bytes()).toString('hex')]);
  const windows = [0, 0, 0];
  let same = 0;
  let different = 0;
  for (let c = 0; c < Number(countArg); c++) {
    const chunks = randomChunks();
    oracle.stdin!.write(JSON.stringify(chunks.map((ch) => ch.map(([ts, x]) => [String(ts), bitsHex(x)]))) + '\n');
    const want = JSON.parse((await lines.next()).value as string) as { m5: string[][]; h1: string[][]; d1: string[][]; err?: string };
    const raw = toMetas(chunks);
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

  // Blocks: Thanos's readers (Prometheus index and chunk readers with Thanos's chunk pool) read our
  // 5m block, and our BlockReader reads a 5m block written by Thanos's code with Prometheus's writers.
  const series = Array.from({ length: 40 }, (_, i) => ({ lset: Labels.fromStrings('__name__', 'm', 'i', String(i).padStart(2, '0')), chunks: randomChunks() }));
  const expected = new Map(series.map((x) => [x.lset.toString(), downsampler.series(toMetas(x.chunks), 0, RES_5M)]));
  const minTime = Math.min(...series.map((x) => x.chunks[0]![0]![0]));
  const maxTime = Math.max(...series.map((x) => x.chunks[x.chunks.length - 1]!.at(-1)![0])) + 1;
  const w = await BlockWriter.create(join(dir, 'raw'), { minTime, maxTime, thanos: { labels: { cluster: 'c' }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} } });
  for (const x of series) await w.addChunkSeries(x.lset, toMetas(x.chunks));
  const ours = (await downsampleBlock({ blockDir: (await w.flush()).dir, outDir: join(dir, 'ours'), resolution: RES_5M }))!;
  const aggrSamples = (m: ChunkMeta) =>
    AGGR_TYPES.map((a) => {
      const sub = (m.chunk as AggrChunk).get(a);
      if (sub === null) return null;
      const it = sub.iterator();
      const out: [string, string][] = [];
      while (it.next() !== ValueType.None) out.push([String(it.atT()), bitsHex(it.atF()).replace(/^0+(?=.)/, '')]);
      if (it.err() !== null) throw it.err();
      return out;
    });
  let read = 0;
  for (const line of execFileSync(join(dir, 'oracle'), ['read', ours.dir], { maxBuffer: 1 << 30 }).toString().trim().split('\n')) {
    const got = JSON.parse(line) as { labels: string; chunks: { minT: number; maxT: number; aggrs: ([string, string][] | null)[] }[] };
    const want = expected.get(got.labels)!.map((m) => ({ minT: m.minTime, maxT: m.maxTime, aggrs: aggrSamples(m) }));
    if (JSON.stringify(got.chunks) !== JSON.stringify(want)) throw new Error(`Thanos reads series ${got.labels} of our 5m block differently`);
    read++;
  }
  if (read !== ours.meta.stats.numSeries) throw new Error(`Thanos read ${read} series of our 5m block, want ${ours.meta.stats.numSeries}`);
  console.log(`Thanos's readers read all ${read} series of our 5m block ${ours.ulid}, every aggregate as we wrote it`);

  const theirs = join(dir, 'thanos-5m');
  mkdirSync(theirs);
  execFileSync(join(dir, 'oracle'), ['write', theirs], {
    input: series.map((x) => JSON.stringify({ labels: x.lset.flat(), chunks: x.chunks.map((ch) => ch.map(([ts, val]) => [String(ts), bitsHex(val)])) })).join('\n'),
    maxBuffer: 1 << 30,
  });
  const ulid = newUlid();
  await writeBlockMeta(theirs, { ulid, minTime, maxTime, stats: { numSamples: 0 }, compaction: { level: 1, sources: [ulid] }, version: 1, thanos: { labels: { cluster: 'c' }, downsample: { resolution: RES_5M }, source: 'compactor', index_stats: {} } });
  const r = await BlockReader.open(theirs);
  try {
    const set = await (await r.chunkQuerier(minTime, maxTime)).select(true, undefined, [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')]);
    let n = 0;
    while (set.next()) {
      const s = set.at();
      const got = [...s.chunks()].map((m) => [m.minTime, m.maxTime, Buffer.from(m.chunk.bytes()).toString('hex'), JSON.stringify(aggrSamples(m))]);
      const want = expected.get(s.labels().toString())!.map((m) => [m.minTime, m.maxTime, Buffer.from(m.chunk.bytes()).toString('hex'), JSON.stringify(aggrSamples(m))]);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`we read series ${s.labels().toString()} of Thanos's 5m block differently`);
      n++;
    }
    if (set.err() !== null) throw set.err();
    if (n !== ours.meta.stats.numSeries) throw new Error(`read ${n} series of Thanos's 5m block, want ${ours.meta.stats.numSeries}`);
    console.log(`we read all ${n} series of the 5m block Thanos's code wrote, every chunk as our downsampler makes it`);
  } finally {
    r.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
