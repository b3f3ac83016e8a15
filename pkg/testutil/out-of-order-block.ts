import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XorChunk, staleNaN } from '../chunkenc/index.js';
import { crc32c } from '../encoding/index.js';
import { Labels } from '../labels/index.js';
import { BlockReader, BlockWriter, type WrittenBlock } from '../tsdb/index.js';

/**
 * writeOutOfOrderBlock writes a [0, 2h) block whose one series `{__name__="m"}` has two chunks
 * where the index says the second starts at the first one's maxTime (45 min): an out-of-order
 * chunk as Thanos's index verifier reports it. The first chunk holds values 0..3 every 15 minutes,
 * the second holds the sample at 45 min again (value 3, or 99 with `conflict`) and 4..7. Test
 * helper: our writers refuse such chunks, so the index entry is patched (delta 1 → 0, CRC redone).
 * With `stale`, the sample at 75 min is a stale marker instead of 5.
 */
export async function writeOutOfOrderBlock(parentDir: string, opts: { ulid?: string; conflict?: boolean; stale?: boolean } = {}): Promise<WrittenBlock> {
  const q = 15 * 60_000;
  const c1 = new XorChunk();
  const a1 = c1.appender();
  for (let k = 0; k < 4; k++) a1.append(k * q, k);
  const c2 = new XorChunk();
  const a2 = c2.appender();
  a2.append(3 * q, opts.conflict === true ? 99 : 3);
  for (let k = 4; k < 8; k++) a2.append(k * q, k === 5 && opts.stale === true ? staleNaN() : k);
  const w = await BlockWriter.create(parentDir, { ...(opts.ulid !== undefined ? { ulid: opts.ulid } : {}), minTime: 0, maxTime: 2 * 3_600_000 });
  await w.addChunkSeries(Labels.fromRecord({ __name__: 'm' }), [
    { ref: 0, minTime: 0, maxTime: 3 * q, chunk: c1 },
    { ref: 0, minTime: 3 * q + 1, maxTime: 7 * q, chunk: c2 },
  ]);
  const b = await w.flush();
  const indexPath = join(b.dir, 'index');
  const buf = new Uint8Array(await readFile(indexPath));
  const r = await BlockReader.open(b.dir);
  const p = r.index.allPostings();
  p.next();
  const off = p.at() * 16;
  r.close();
  const uv = (at: number): [number, number] => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = buf[at++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return [v, at];
      mul *= 128;
    }
  };
  const [len, body] = uv(off);
  let at = body;
  // label count, name ref, value ref, chunk count, mint, maxt - mint, ref; then the delta.
  for (let i = 0; i < 7; i++) at = uv(at)[1];
  if (uv(at)[0] !== 1) throw new Error(`patch ${indexPath}: unexpected series entry layout`);
  buf[at] = 0;
  new DataView(buf.buffer, buf.byteOffset).setUint32(body + len, crc32c(buf, 0, body, body + len));
  await writeFile(indexPath, buf);
  return b;
}
