import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { globFiles, readRuleFiles } from './read-rule-files.js';

let dir = '';
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('readRuleFiles', () => {
  test('globs within path elements, sorted, each file once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-rf-'));
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    for (const f of ['a/x.yml', 'a/y.yaml', 'a/z.yml', 'b/x.yml', 'top.yml']) await writeFile(join(dir, f), `# ${f}\n`);
    expect(await globFiles(join(dir, '*', 'x.yml'))).toEqual([join(dir, 'a/x.yml'), join(dir, 'b/x.yml')]);
    expect(await globFiles(join(dir, 'a', '[xy].y*ml'))).toEqual([join(dir, 'a/x.yml'), join(dir, 'a/y.yaml')]);
    expect(await globFiles(join(dir, 'a', '?.yml'))).toEqual([join(dir, 'a/x.yml'), join(dir, 'a/z.yml')]);
    expect(await globFiles(join(dir, 'missing.yml'))).toEqual([]);
    const files = await readRuleFiles([join(dir, 'a', '*.yml'), join(dir, 'a', 'x.yml'), join(dir, 'top.yml')]);
    expect(files.map((f) => [f.path, f.text])).toEqual([
      [join(dir, 'a/x.yml'), '# a/x.yml\n'],
      [join(dir, 'a/z.yml'), '# a/z.yml\n'],
      [join(dir, 'top.yml'), '# top.yml\n'],
    ]);
  });
});
