import { mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { bucketAcceptanceSuite } from './acceptance.js';
import { FilesystemBucket, PrefixedBucket } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tessera-fs-bucket-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

bucketAcceptanceSuite('filesystem', async () => new FilesystemBucket({ directory: join(await tempDir(), 'bucket') }));
bucketAcceptanceSuite('prefixed filesystem', async () => new PrefixedBucket(new FilesystemBucket({ directory: await tempDir() }), 'pre/fix'));

describe('FilesystemBucket confinement', () => {
  let base: string;
  let root: string;
  let outside: string;
  let bkt: FilesystemBucket;
  beforeAll(async () => {
    base = await tempDir();
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    await writeFile(join(base, 'sibling'), 'sibling');
    await symlink(outside, join(root, 'linkdir'));
    await symlink(join(outside, 'secret'), join(root, 'linkfile'));
    await mkdir(join(root, 'inside'));
    await writeFile(join(root, 'inside', 'ok'), 'ok');
    await symlink(join(root, 'inside'), join(root, 'innerlink'));
    bkt = new FilesystemBucket({ directory: root });
  });

  const invalid = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTesseraError(err, 'TESSERA_OBJSTORE_INVALID_NAME'), String(err)).toBe(true);
  };

  test.each(['../sibling', '/etc/passwd', 'inside/../../sibling', '../outside/secret'])('name %j cannot read or write outside', async (n) => {
    await invalid(bkt.get(n));
    await invalid(bkt.getRange(n, 0, 3));
    await invalid(bkt.exists(n));
    await invalid(bkt.attributes(n));
    await invalid(bkt.upload(n, new TextEncoder().encode('pwned')));
    await invalid(bkt.delete(n));
    expect(await readFile(join(base, 'sibling'), 'utf8')).toBe('sibling');
  });

  test('a symlinked directory pointing outside is not followed', async () => {
    await invalid(bkt.get('linkdir/secret'));
    await invalid(bkt.exists('linkdir/secret'));
    await invalid(bkt.upload('linkdir/new', new TextEncoder().encode('pwned')));
    await invalid(bkt.upload('linkdir/deeper/new', new TextEncoder().encode('pwned')));
    await invalid(bkt.delete('linkdir/secret'));
    await invalid(bkt.delete('linkdir/'.slice(0, -1) + '/secret'));
    expect(await readdir(outside)).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('secret');
    const listed: string[] = [];
    for await (const n of bkt.iter('', { recursive: true })) listed.push(n);
    expect(listed.some((n) => n.includes('secret'))).toBe(false);
    await invalid((async () => {
      for await (const _ of bkt.iter('linkdir/')) {
        // must not list
      }
    })());
  });

  test('a symlinked file pointing outside cannot be read; overwriting replaces the link, not the target', async () => {
    await invalid(bkt.get('linkfile'));
    await invalid(bkt.attributes('linkfile'));
    await bkt.upload('linkfile', new TextEncoder().encode('mine'));
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('secret');
    expect(new TextDecoder().decode(await bkt.get('linkfile'))).toBe('mine');
  });

  test('symlinks inside the root keep working', async () => {
    expect(new TextDecoder().decode(await bkt.get('innerlink/ok'))).toBe('ok');
    const flat: string[] = [];
    for await (const n of bkt.iter('')) flat.push(n);
    expect(flat).toContain('innerlink/');
    expect(flat).not.toContain('linkdir/');
  });
});

describe('FilesystemBucket atomic upload', () => {
  test('a failing stream leaves the previous object intact and no temp file behind', async () => {
    const dir = await tempDir();
    const bkt = new FilesystemBucket({ directory: dir });
    await bkt.upload('a/obj', new TextEncoder().encode('old'));
    async function* failing(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('new partial');
      throw new Error('source broke');
    }
    await expect(bkt.upload('a/obj', failing())).rejects.toThrow(/source broke|upload/);
    expect(new TextDecoder().decode(await bkt.get('a/obj'))).toBe('old');
    expect(await readdir(join(dir, 'a'))).toEqual(['obj']);
  });

  test('a half-written upload is invisible to listings', async () => {
    const dir = await tempDir();
    const bkt = new FilesystemBucket({ directory: dir });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const wrote = new Promise<void>((r) => (started = r));
    async function* slow(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('part1');
      started();
      await gate;
      yield new TextEncoder().encode('part2');
    }
    const up = bkt.upload('x/y', slow());
    await wrote;
    const listed: string[] = [];
    for await (const n of bkt.iter('', { recursive: true })) listed.push(n);
    expect(listed).toEqual([]);
    expect(await bkt.exists('x/y')).toBe(false);
    release();
    await up;
    expect(new TextDecoder().decode(await bkt.get('x/y'))).toBe('part1part2');
  });

  test('deleting a directory name removes it recursively, like Thanos', async () => {
    const dir = await tempDir();
    const bkt = new FilesystemBucket({ directory: dir });
    await bkt.upload('blk/chunks/000001', new Uint8Array([1]));
    await bkt.upload('blk/index', new Uint8Array([2]));
    await bkt.delete('blk/');
    expect(await readdir(dir)).toEqual([]);
  });
});
