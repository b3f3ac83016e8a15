import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Bucket } from './bucket.js';
import { isTesseraError } from '../errors/index.js';

/**
 * BucketFactory returns a fresh, empty bucket for one test; the suite closes it afterwards.
 */
export type BucketFactory = () => Promise<Bucket> | Bucket;

/**
 * bucketAcceptanceSuite registers the Bucket contract tests (see bucket.ts) in a vitest
 * `describe(name)`. Run it for every implementation. Not exported from the package index because it
 * imports vitest; import it from test files as `./acceptance.js`.
 */
export function bucketAcceptanceSuite(name: string, factory: BucketFactory): void {
  describe(`Bucket acceptance: ${name}`, () => {
    let bkt: Bucket;
    beforeEach(async () => {
      bkt = await factory();
    });
    afterEach(async () => {
      await bkt.close();
    });

    const all = async (dir: string, recursive = false): Promise<string[]> => {
      const out: string[] = [];
      for await (const n of bkt.iter(dir, { recursive })) out.push(n);
      return out;
    };
    const bytes = (s: string) => new TextEncoder().encode(s);
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const rejection = async (p: Promise<unknown>): Promise<unknown> => {
      try {
        await p;
      } catch (err) {
        return err;
      }
      throw new Error('expected the promise to reject');
    };

    test('empty bucket: listing is empty, reads of a missing object are not-found errors', async () => {
      expect(await all('')).toEqual([]);
      expect(await all('', true)).toEqual([]);
      expect(await all('nope/')).toEqual([]);
      expect(await bkt.exists('missing')).toBe(false);
      const reads = [() => bkt.get('missing'), () => bkt.getRange('dir/missing', 0, 10), () => bkt.getRange('missing', 3, -1), () => bkt.attributes('missing')];
      for (const read of reads) {
        const err = await rejection(read());
        expect(bkt.isObjNotFoundErr(err)).toBe(true);
        expect(isTesseraError(err, 'TESSERA_OBJ_NOT_FOUND')).toBe(true);
        expect(String((err as Error).message)).toMatch(/missing/);
        expect(bkt.isAccessDeniedErr(err)).toBe(false);
      }
    });

    test('isObjNotFoundErr is false for other errors', () => {
      expect(bkt.isObjNotFoundErr(new Error('object not found'))).toBe(false);
      expect(bkt.isObjNotFoundErr(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
      expect(bkt.isObjNotFoundErr(undefined)).toBe(false);
    });

    test('upload then get returns the same bytes; exists and attributes agree', async () => {
      const data = new Uint8Array(1000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      const before = Date.now();
      await bkt.upload('01ABC/chunks/000001', data);
      data[0] = 99; // the bucket must not alias the caller's buffer
      const got = await bkt.get('01ABC/chunks/000001');
      expect(got.length).toBe(1000);
      expect(got[0]).toBe(0);
      expect(got[999]).toBe((999 * 7) & 0xff);
      expect(await bkt.exists('01ABC/chunks/000001')).toBe(true);
      expect(await bkt.exists('01ABC/chunks')).toBe(false); // a directory is not an object
      const attrs = await bkt.attributes('01ABC/chunks/000001');
      expect(attrs.size).toBe(1000);
      // S3 keeps second precision; allow clock granularity and small skew.
      expect(attrs.lastModified).toBeGreaterThanOrEqual(before - 2000);
      expect(attrs.lastModified).toBeLessThanOrEqual(Date.now() + 2000);
    });

    test('empty objects and streamed uploads', async () => {
      await bkt.upload('empty', new Uint8Array(0));
      expect(await bkt.exists('empty')).toBe(true);
      expect((await bkt.attributes('empty')).size).toBe(0);
      expect((await bkt.get('empty')).length).toBe(0);
      expect((await bkt.getRange('empty', 0, 10)).length).toBe(0);

      const reused = new Uint8Array(3);
      async function* gen(): AsyncIterable<Uint8Array> {
        for (const s of ['abc', 'def', 'ghi']) {
          reused.set(bytes(s)); // reuse one buffer: the bucket must copy what it keeps
          yield reused;
        }
        yield new Uint8Array(0);
        yield bytes('j');
      }
      await bkt.upload('streamed', gen());
      expect(text(await bkt.get('streamed'))).toBe('abcdefghij');
      await bkt.upload('empty-stream', (async function* () {})());
      expect((await bkt.attributes('empty-stream')).size).toBe(0);
    });

    test.each([
      [0, -1, '0123456789'],
      [0, 10, '0123456789'],
      [3, 4, '3456'],
      [0, 1, '0'],
      [9, 1, '9'],
      [5, -1, '56789'],
      [8, 100, '89'], // truncated at the end
      [9, -1, '9'],
      [10, 5, ''], // starts at the end
      [10, -1, ''],
      [25, 5, ''], // starts past the end
      [25, -1, ''],
      [4, 0, ''],
    ])('getRange(off=%i, length=%i)', async (off, length, want) => {
      await bkt.upload('obj', bytes('0123456789'));
      expect(text(await bkt.getRange('obj', off, length))).toBe(want);
    });

    test('getRange rejects bad arguments', async () => {
      await bkt.upload('obj', bytes('0123456789'));
      await expect(bkt.getRange('obj', -1, 2)).rejects.toBeInstanceOf(RangeError);
      await expect(bkt.getRange('obj', 0, -2)).rejects.toBeInstanceOf(RangeError);
      await expect(bkt.getRange('obj', 1.5, 2)).rejects.toBeInstanceOf(RangeError);
    });

    test('overwrite replaces content and size', async () => {
      await bkt.upload('a/obj', bytes('first version, long'));
      await bkt.upload('a/obj', bytes('second'));
      expect(text(await bkt.get('a/obj'))).toBe('second');
      expect((await bkt.attributes('a/obj')).size).toBe(6);
      expect(await all('a/')).toEqual(['a/obj']);
    });

    test('flat and recursive iteration', async () => {
      for (const n of ['a/b/c', 'a/d', 'e', 'f/g', 'f/h/i/j', 'k.json']) await bkt.upload(n, bytes(n));
      expect(await all('')).toEqual(['a/', 'e', 'f/', 'k.json']);
      expect(await all('a')).toEqual(['a/b/', 'a/d']);
      expect(await all('a/')).toEqual(['a/b/', 'a/d']);
      expect(await all('a/b')).toEqual(['a/b/c']);
      expect(await all('f/')).toEqual(['f/g', 'f/h/']);
      expect(await all('', true)).toEqual(['a/b/c', 'a/d', 'e', 'f/g', 'f/h/i/j', 'k.json']);
      expect(await all('f', true)).toEqual(['f/g', 'f/h/i/j']);
      expect(await all('f/h/', true)).toEqual(['f/h/i/j']);
      expect(await all('missing/')).toEqual([]);
      expect(await all('missing/', true)).toEqual([]);
      expect(await all('e/')).toEqual([]); // an object is not a directory
    });

    test('ULID-named blocks list in ULID order', async () => {
      const ulids = ['01HZZZZZZZZZZZZZZZZZZZZZZZ', '01H0000000000000000000000A', '01HAAAAAAAAAAAAAAAAAAAAAAA'];
      for (const u of ulids) await bkt.upload(`${u}/meta.json`, bytes('{}'));
      expect(await all('')).toEqual([...ulids].sort().map((u) => `${u}/`));
    });

    test('delete removes an object and empty directories disappear from listings', async () => {
      for (const n of ['a/b/c', 'a/d', 'e']) await bkt.upload(n, bytes(n));
      await bkt.delete('a/d');
      expect(await bkt.exists('a/d')).toBe(false);
      expect(bkt.isObjNotFoundErr(await rejection(bkt.get('a/d')))).toBe(true);
      expect(await all('a/')).toEqual(['a/b/']);
      await bkt.delete('a/b/c');
      expect(await all('')).toEqual(['e']);
      expect(await all('', true)).toEqual(['e']);
      await bkt.delete('e');
      expect(await all('', true)).toEqual([]);
    });

    test('deleting a missing object succeeds or reports not found', async () => {
      try {
        await bkt.delete('never/existed');
      } catch (err) {
        expect(bkt.isObjNotFoundErr(err)).toBe(true);
      }
      expect(await bkt.exists('never/existed')).toBe(false);
    });

    test('names with spaces, unicode and punctuation round-trip', async () => {
      const names = ['x/with space', 'x/plus+eq=amp&', 'x/ünïcödé-名前', 'x/percent%20'];
      for (const n of names) await bkt.upload(n, bytes(n));
      for (const n of names) expect(text(await bkt.get(n))).toBe(n);
      expect((await all('x/')).sort()).toEqual([...names].sort());
    });

    test.each(['', '/abs', '../x', 'a/../../x', 'a/./b', 'a//b', 'a/', 'nul\0byte'])('invalid name %j is rejected before any I/O', async (n) => {
      const err = await rejection(bkt.upload(n, bytes('x')));
      expect(isTesseraError(err, 'TESSERA_OBJSTORE_INVALID_NAME')).toBe(true);
      expect(isTesseraError(await rejection(bkt.get(n)), 'TESSERA_OBJSTORE_INVALID_NAME')).toBe(true);
      expect(isTesseraError(await rejection(bkt.exists(n)), 'TESSERA_OBJSTORE_INVALID_NAME')).toBe(true);
      expect(await all('', true)).toEqual([]);
    });

    test('iteration honours an aborted signal', async () => {
      await bkt.upload('a', bytes('a'));
      const ac = new AbortController();
      ac.abort(new Error('stop listing'));
      const it = bkt.iter('', { signal: ac.signal });
      await expect(
        (async () => {
          for await (const _ of it) {
            // consume
          }
        })(),
      ).rejects.toThrow();
    });

    test('a failing or aborted upload leaves no object and rethrows the cause', async () => {
      const boom = new Error('the source broke');
      async function* failing(): AsyncIterable<Uint8Array> {
        yield bytes('partial');
        throw boom;
      }
      expect(await rejection(bkt.upload('f/failed', failing()))).toBe(boom);
      expect(await bkt.exists('f/failed')).toBe(false);

      const ac = new AbortController();
      async function* aborting(): AsyncIterable<Uint8Array> {
        yield bytes('partial');
        ac.abort(new Error('caller gave up'));
        yield bytes('more');
      }
      await expect(bkt.upload('f/aborted', aborting(), { signal: ac.signal })).rejects.toThrow();
      expect(await bkt.exists('f/aborted')).toBe(false);
      expect(await all('', true)).toEqual([]);
    });

    test('concurrent uploads of different objects', async () => {
      const names = Array.from({ length: 20 }, (_, i) => `c/${String(i).padStart(2, '0')}`);
      await Promise.all(names.map((n) => bkt.upload(n, bytes(n.repeat(100)))));
      expect(await all('c/')).toEqual(names);
      for (const n of names) expect((await bkt.attributes(n)).size).toBe(n.length * 100);
    });
  });
}
