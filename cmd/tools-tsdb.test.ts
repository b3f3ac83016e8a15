import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCaptured, type CapturedRun } from './run-captured.js';
import { goBase2Bytes, goFormatG } from './tools-tsdb-format.js';
import { toolsTsdbCommand } from './tools-tsdb.js';
import { requireBinary } from '../pkg/testutil/index.js';
import { DataSet, writeOpenMetricsFile } from '../pkg/datagen/index.js';

const promtool = requireBinary('promtool');

const cli = (argv: string[]): Promise<CapturedRun> => runCaptured(toolsTsdbCommand, argv);

/** promtool tsdb dump needs a wal/ dir in Debian's 2.42 when the range reaches the head. */
function promtoolDump(dir: string, extra: string[] = []): string {
  execFileSync('mkdir', ['-p', join(dir, 'wal')]);
  return execFileSync(promtool!, ['tsdb', 'dump', ...extra, dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
}

const sorted = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort();

describe('Go formatting helpers', () => {
  test.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [1e6, '1e+06'],
    [0.0001, '0.0001'],
    [0.00001234, '1.234e-05'],
    [7986611712, '7.986611712e+09'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [5e-324, '5e-324'],
  ])('goFormatG(%d) = %s', (v, s) => expect(goFormatG(v)).toBe(s));
  test('sizes', () => {
    expect(goBase2Bytes(448384)).toBe('437KiB896B');
    expect(goBase2Bytes(0)).toBe('0B');
    expect(goBase2Bytes(1024)).toBe('1KiB');
  });
});

describe.skipIf(promtool === undefined)('tessera tools tsdb against promtool 2.42', () => {
  let base: string;
  let om: string;
  let promDir: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tessera-tools-tsdb-'));
    // Replica b: jittered timestamps and a 10-minute gap; 3 hours → two blocks.
    om = join(base, 'data.om');
    await writeOpenMetricsFile(new DataSet({ hosts: 2, hours: 3, replica: 'b' }), om);
    // Extra values that exercise %g, NaN, infinities and label escaping.
    const text = await readFile(om, 'utf8');
    const extra =
      '# TYPE odd gauge\n' +
      'odd{x="1"} +Inf 1767225600.000\nodd{x="1"} -Inf 1767225615.000\nodd{x="1"} NaN 1767225630.000\nodd{x="1"} 1e-7 1767225645.000\n' +
      'odd{x="1"} 1234567 1767225660.500\nodd{y="a\\"b\\\\c\\nd"} -0 1767225600.001\n';
    await writeFile(om, text.replace('# EOF\n', extra + '# EOF\n'));
    promDir = join(base, 'prom');
    execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, promDir], { stdio: 'pipe' });
  });
  afterAll(async () => {
    if (base !== undefined) await rm(base, { recursive: true, force: true });
  });

  test('(a) dump of promtool-made blocks equals promtool tsdb dump', async () => {
    const want = promtoolDump(promDir);
    const got = await cli(['dump', promDir]);
    expect(got.err).toBe('');
    expect(got.code).toBe(0);
    expect(sorted(got.out)).toEqual(sorted(want));
    expect(got.out).toBe(want); // same series order too
  });

  test('(a) dump with --match, --min-time and --max-time', async () => {
    const flags = ['--match={job="api",le=~"0.0.*"}', '--min-time=1767232000000', '--max-time=1767233000000'];
    const want = promtoolDump(promDir, flags);
    const got = await cli(['dump', ...flags, promDir]);
    expect(want.length).toBeGreaterThan(0);
    expect(got.out).toBe(want);
  });

  test('ls prints what promtool tsdb list prints', async () => {
    for (const flags of [[], ['-r']]) {
      const want = execFileSync(promtool!, ['tsdb', 'list', ...flags, promDir], { encoding: 'utf8' });
      const got = await cli(['ls', ...flags, promDir]);
      expect(got.out).toBe(want);
    }
  });

  test('(b) blocks made by our create-blocks-from dump identically through promtool', async () => {
    const ours = join(base, 'ours');
    const res = await cli(['create-blocks-from', 'openmetrics', om, ours]);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const blocks = (await readdir(ours)).filter((n) => n.length === 26);
    expect(blocks.length).toBe((await readdir(promDir)).filter((n) => n.length === 26).length);
    expect(res.out.split('\n')[0]).toMatch(/^BLOCK ULID {18}MIN TIME/);
    expect(promtoolDump(ours)).toBe(promtoolDump(promDir));
    // Same block ranges as promtool's.
    const lsOurs = (await cli(['ls', ours])).out.split('\n').slice(1).map((l) => l.split(/\s+/).slice(1, 5).join(' '));
    const lsProm = (await cli(['ls', promDir])).out.split('\n').slice(1).map((l) => l.split(/\s+/).slice(1, 5).join(' '));
    expect(lsOurs).toEqual(lsProm);
  });

  test('create-blocks-from reports bad input with the line number', async () => {
    const bad = join(base, 'bad.om');
    await writeFile(bad, '# TYPE a gauge\na 1 1000\na{x="1} 2 1001\n# EOF\n');
    const r = await cli(['create-blocks-from', 'openmetrics', bad, join(base, 'never')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.om line 3: unterminated label set/);
    await writeFile(bad, '# TYPE a gauge\na 1\n# EOF\n');
    const r2 = await cli(['create-blocks-from', 'openmetrics', bad, join(base, 'never')]);
    expect(r2.err).toMatch(/line 2: expected timestamp for series \{__name__="a"\}, got none/);
  });

  describe('(d) corrupted promtool blocks give errors naming file and offset', () => {
    async function corruptCopy(name: string, mutate: (blockDir: string) => Promise<void>): Promise<string> {
      const dir = join(base, `corrupt-${name}`);
      await cp(promDir, dir, { recursive: true });
      const [first] = (await readdir(dir)).filter((n) => n.length === 26).sort();
      await mutate(join(dir, first!));
      return dir;
    }
    async function flip(file: string, at: (len: number) => number, mask = 0x10): Promise<number> {
      const b = await readFile(file);
      const off = at(b.length);
      b[off]! ^= mask;
      await writeFile(file, b);
      return off;
    }

    test('bit flip inside a chunk → checksum error with segment file and record offset', async () => {
      const dir = await corruptCopy('chunkflip', async (b) => {
        await flip(join(b, 'chunks', '000001'), (n) => Math.floor(n / 2));
      });
      const r = await cli(['dump', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/chunks\/000001 at offset \d+: checksum mismatch/);
    });

    test('truncated segment → error naming the file, no hang', async () => {
      const dir = await corruptCopy('chunktrunc', async (b) => {
        await truncate(join(b, 'chunks', '000001'), 5000);
      });
      const r = await cli(['dump', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/chunks\/000001 at offset \d+: (chunk of \d+ bytes runs past the end|offset outside)/);
    });

    test('wrong segment magic', async () => {
      const dir = await corruptCopy('magic', async (b) => {
        await flip(join(b, 'chunks', '000001'), () => 0, 0xff);
      });
      const r = await cli(['ls', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/chunks\/000001 at offset 0: invalid magic number 7abd40dd/);
    });

    test('bad tombstones CRC and magic', async () => {
      let dir = await corruptCopy('tomb', async (b) => {
        await flip(join(b, 'tombstones'), (n) => n - 1);
      });
      let r = await cli(['dump', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/tombstones: invalid checksum: tombstones at offset 5/);
      dir = await corruptCopy('tombmagic', async (b) => {
        await flip(join(b, 'tombstones'), () => 1);
      });
      r = await cli(['dump', dir]);
      expect(r.err).toMatch(/tombstones at offset 0: invalid magic number/);
    });

    test('truncated meta.json', async () => {
      const dir = await corruptCopy('meta', async (b) => {
        const f = join(b, 'meta.json');
        await truncate(f, 50);
      });
      const r = await cli(['ls', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/parse .*meta\.json: .*JSON/);
    });

    test('every single-byte flip of a small block is an error or a correct dump, never a crash', async () => {
      // A 1-series block keeps this exhaustive loop cheap.
      const small = join(base, 'small');
      const smallOm = join(base, 'small.om');
      let text = '# TYPE s gauge\n';
      for (let i = 0; i < 150; i++) text += `s{a="b"} ${(i * 1.5) % 17} ${1767225600 + i * 15}\n`;
      await writeFile(smallOm, text + '# EOF\n');
      execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', smallOm, small], { stdio: 'pipe' });
      const [ulid] = (await readdir(small)).filter((n) => n.length === 26);
      const good = (await cli(['dump', small])).out;
      const seg = join(small, ulid!, 'chunks', '000001');
      const orig = await readFile(seg);
      const harmless: number[] = [];
      for (let off = 0; off < orig.length; off++) {
        const b = Buffer.from(orig);
        b[off]! ^= 0x01;
        await writeFile(seg, b);
        const r = await cli(['dump', small]);
        if (r.code === 0) {
          expect(r.out).toBe(good);
          harmless.push(off);
        } else {
          expect(r.err).toMatch(/000001 at offset \d+/);
        }
      }
      await writeFile(seg, orig);
      // Only the 3 header padding bytes are unchecked (as in Prometheus); magic, version, length
      // fields and CRCs catch every other flip.
      expect(harmless).toEqual([5, 6, 7]);
    });
  });
});
