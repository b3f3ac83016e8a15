import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { waitFor } from '../testutil/index.js';
import { watchFiles } from './watch-files.js';

test('watchFiles reports writes and renames onto a watched file; a directory that does not exist is skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'watch-files-'));
  const f = join(dir, 'sd.json');
  await writeFile(f, '[]');
  let calls = 0;
  const stop = watchFiles([f, join(dir, 'missing-dir', 'x.json')], () => calls++, 10);
  try {
    await writeFile(join(dir, 'other.json'), '[]');
    await writeFile(f, '[{"targets": ["a:1"]}]');
    await waitFor('the write seen', async () => calls >= 1);
    const before = calls;
    await writeFile(join(dir, 'tmp'), '[{"targets": ["b:1"]}]');
    await rename(join(dir, 'tmp'), f);
    await waitFor('the rename seen', async () => calls > before);
  } finally {
    stop();
    await rm(dir, { recursive: true, force: true });
  }
});
