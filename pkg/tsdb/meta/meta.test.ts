import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../../testutil/index.js';
import { formatBlockMeta, parseBlockMeta, readBlockMeta, writeBlockMeta, type BlockMeta } from './block-meta.js';
import { UlidGenerator, isUlid, ulidBytes, ulidFromBytes, ulidTime } from './ulid.js';

const promtool = requireBinary('promtool');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('ULID', () => {
  test('time part, bytes round trip and Crockford alphabet', () => {
    const u = '01ARZ3NDEKTSV4RRFFQ69G5FAV'; // the oklog/ulid README example
    expect(isUlid(u)).toBe(true);
    expect(ulidTime(u)).toBe(1469922850259);
    expect(Buffer.from(ulidBytes(u)).toString('hex')).toBe('01563e3ab5d3d6764c61efb99302bd5b');
    expect(ulidFromBytes(ulidBytes(u))).toBe(u);
    expect(ulidFromBytes(ulidBytes(u.toLowerCase()))).toBe(u);
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAU')).toBe(false); // U not in the alphabet
    expect(isUlid('81ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false); // > 128 bits
    expect(isUlid('debug')).toBe(false);
    expect(() => ulidTime('x')).toThrow(TypeError);
  });

  test('monotonic within a millisecond and ordered across', () => {
    const g = new UlidGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 1000 }, () => g.next());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(ulidTime(ids[999]!)).toBe(1_700_000_000_000);
    const later = g.next(1_700_000_000_001);
    expect(later > ids[999]!).toBe(true);
    expect(ulidTime(later)).toBe(1_700_000_000_001);
  });
});

describe('meta.json', () => {
  const thanosMeta: BlockMeta = {
    ulid: '01J9Z4Q7H3R8S2M5X1C0VYB6KD',
    minTime: 1700000000000,
    maxTime: 1700007200000,
    stats: { numSamples: 432000, numSeries: 3600, numChunks: 3600 },
    compaction: { level: 2, sources: ['01J9Z4Q7H3R8S2M5X1C0VYB6KD'], parents: [{ ulid: '01J9Z4Q7H3R8S2M5X1C0VYB6KD', minTime: 1, maxTime: 2 }] },
    version: 1,
    thanos: {
      labels: { replica: 'a', cluster: 'eu1' },
      downsample: { resolution: 0 },
      source: 'sidecar',
      segment_files: ['000001'],
      files: [{ rel_path: 'chunks/000001', size_bytes: 1234567 }, { rel_path: 'index', size_bytes: 234567 }, { rel_path: 'meta.json' }],
      index_stats: {},
      upload_time: '2023-11-14T22:13:20.123Z',
    },
  };

  test('round trip keeps exact Thanos keys, sorted labels', async () => {
    const text = formatBlockMeta(thanosMeta);
    expect(text).toContain('"thanos": {\n\t\t"labels": {\n\t\t\t"cluster": "eu1",\n\t\t\t"replica": "a"\n\t\t},\n\t\t"downsample": {\n\t\t\t"resolution": 0\n\t\t},\n\t\t"source": "sidecar",\n\t\t"segment_files"');
    expect(text).toContain('{\n\t\t\t\t"rel_path": "meta.json"\n\t\t\t}');
    expect(text).toContain('"index_stats": {}');
    expect(parseBlockMeta(text)).toEqual({ ...thanosMeta, thanos: { ...thanosMeta.thanos!, labels: { cluster: 'eu1', replica: 'a' } } });
    const dir = await mkdtemp(join(tmpdir(), 'tessera-meta-'));
    dirs.push(dir);
    await writeBlockMeta(dir, thanosMeta);
    expect((await readBlockMeta(dir)).thanos?.files?.length).toBe(3);
    expect(await readdir(dir)).toEqual(['meta.json']);
  });

  test('null labels read as {} and errors name the file', () => {
    const m = JSON.parse(formatBlockMeta(thanosMeta));
    m.thanos.labels = null;
    expect(parseBlockMeta(JSON.stringify(m)).thanos?.labels).toEqual({});
    const text = formatBlockMeta(thanosMeta);
    expect(() => parseBlockMeta(text.slice(0, 100), 'b1/meta.json')).toThrow(/parse b1\/meta.json: .*JSON/);
    expect(() => parseBlockMeta(text.replace('\n\t"version": 1', '\n\t"version": 2'), 'b1/meta.json')).toThrow(/validate b1\/meta.json: unexpected meta file version 2/);
    expect(() => parseBlockMeta(text.replace('01J9Z4Q7H3R8S2M5X1C0VYB6KD', 'nope'), 'm')).toThrow(/ulid "nope" is not a ULID/);
  });

  test.skipIf(!promtool)('formats promtool-written meta.json byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-meta-'));
    dirs.push(dir);
    await writeFile(join(dir, 'in.om'), '# TYPE a gauge\na{x="1"} 1 1000\na{x="1"} 2 1015\n# EOF\n');
    execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'in.om'), join(dir, 'out')], { stdio: 'ignore' });
    const [ulid] = await readdir(join(dir, 'out'));
    const text = await readFile(join(dir, 'out', ulid!, 'meta.json'), 'utf8');
    const meta = parseBlockMeta(text);
    expect(meta.ulid).toBe(ulid);
    expect(meta.minTime).toBe(1000000);
    expect(meta.maxTime).toBe(1015001);
    expect(formatBlockMeta(meta)).toBe(text);
  });
});
