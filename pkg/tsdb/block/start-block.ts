import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkSegmentWriter } from '../chunks/index.js';
import { newUlid } from '../meta/index.js';

/** StartedBlock is a fresh `<ulid>.tmp-for-creation` directory with its chunk segment writer. */
export interface StartedBlock {
  readonly ulid: string;
  readonly tmp: string;
  readonly chunks: ChunkSegmentWriter;
}

/**
 * startBlock begins a block in parentDir (created if needed) for every block writer: it picks the
 * ulid (opts.ulid or a fresh one), replaces any leftover `<ulid>.tmp-for-creation` with an empty
 * one and opens the chunk segment writer in its `chunks` directory.
 */
export async function startBlock(parentDir: string, opts: { readonly ulid?: string; readonly segmentSize?: number }): Promise<StartedBlock> {
  const ulid = opts.ulid ?? newUlid();
  const tmp = join(parentDir, `${ulid}.tmp-for-creation`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const segOpts = opts.segmentSize === undefined ? {} : { segmentSize: opts.segmentSize };
  const chunks = await ChunkSegmentWriter.create(join(tmp, 'chunks'), segOpts);
  return { ulid, tmp, chunks };
}
