import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** HashFunc is the hash Thanos may record per file in `thanos.files` (`--hash-func`); 'none' records none. */
export type HashFunc = 'SHA256' | 'none';

/**
 * sha256File returns the `thanos.files` hash of a local file, given by path or by an open handle
 * (read with positional reads from offset 0; the handle stays open), hex-encoded.
 */
export async function sha256File(src: string | FileHandle): Promise<{ hashFunc: string; value: string }> {
  const fh = typeof src === 'string' ? await open(src, 'r') : src;
  try {
    const h = createHash('sha256');
    const buf = new Uint8Array(1 << 20);
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return { hashFunc: 'SHA256', value: h.digest('hex') };
  } finally {
    if (typeof src === 'string') await fh.close();
  }
}
