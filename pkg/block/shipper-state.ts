import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';

/** ShipperState is the content of thanos.shipper.json: `{"version":1,"uploaded":[ULID,...]}`. */
export interface ShipperState {
  readonly version: 1;
  readonly uploaded: readonly string[];
}

/**
 * readShipperState reads the shipper state file. A missing file is an empty state; an unreadable
 * or corrupt file is also treated as empty (as Thanos does: blocks are then re-checked against the
 * bucket, never uploaded twice when their meta.json is there) and reported through `onCorrupt`.
 */
export async function readShipperState(path: string, onCorrupt?: (err: Error) => void): Promise<ShipperState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, uploaded: [] };
    throw new ThanosBlockError(BlockErrorCode.ShipperState, `read shipper state ${path}`, { cause: err });
  }
  try {
    const j = JSON.parse(text) as { version?: unknown; uploaded?: unknown };
    if (j.version !== 1) throw new Error(`unexpected version ${String(j.version)}`);
    const up = Array.isArray(j.uploaded) ? j.uploaded.filter((u): u is string => typeof u === 'string') : [];
    return { version: 1, uploaded: up };
  } catch (err) {
    onCorrupt?.(new ThanosBlockError(BlockErrorCode.ShipperState, `parse shipper state ${path}`, { cause: err }));
    return { version: 1, uploaded: [] };
  }
}

/**
 * writeShipperState writes the state atomically: a temporary file in the same directory is
 * written and fsynced, renamed over the target, and the directory is fsynced, so a crash leaves
 * either the old or the new content.
 */
export async function writeShipperState(path: string, state: ShipperState): Promise<void> {
  const tmp = `${path}.tmp`;
  const body = JSON.stringify({ version: 1, uploaded: [...state.uploaded] }, null, '\t') + '\n';
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dh = await open(dirname(path), 'r');
    try {
      await dh.sync();
    } catch {
      // Some filesystems refuse fsync on directories; the rename is still atomic.
    } finally {
      await dh.close();
    }
  } catch (err) {
    throw new ThanosBlockError(BlockErrorCode.ShipperState, `write shipper state ${path}`, { cause: err });
  }
}
