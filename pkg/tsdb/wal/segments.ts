import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** PAGE_SIZE is the WAL page size: record fragments never cross a page (32 KiB). */
export const PAGE_SIZE = 32 * 1024;
/** RECORD_HEADER_SIZE is a fragment header: type byte, BE16 length, BE32 CRC32-Castagnoli of the data. */
export const RECORD_HEADER_SIZE = 7;
/** DEFAULT_SEGMENT_SIZE is Prometheus's WAL segment size (128 MiB). */
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

/** Fragment types (low 3 bits of the header's first byte; bits 3/4 flag snappy/zstd compression). */
export const FragmentType = { PageTerm: 0, Full: 1, First: 2, Middle: 3, Last: 4 } as const;

/** segmentName is the file name of segment i: eight decimal digits. */
export function segmentName(i: number): string {
  return String(i).padStart(8, '0');
}

/** listSegments returns the indices of the segment files in dir, ascending (empty when dir is missing). */
export async function listSegments(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Checkpoint is a `checkpoint.NNNNNNNN` directory: the WAL content up to segment index. */
export interface Checkpoint {
  readonly dir: string;
  readonly index: number;
}

/** listCheckpoints returns the finished checkpoints in walDir, ascending by index. */
export async function listCheckpoints(walDir: string): Promise<Checkpoint[]> {
  let names: string[];
  try {
    names = await readdir(walDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .map((n) => /^checkpoint\.(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ dir: join(walDir, m[0]), index: Number(m[1]) }))
    .sort((a, b) => a.index - b.index);
}

/** checkpointName is the directory name of the checkpoint covering segments up to i. */
export function checkpointName(i: number): string {
  return `checkpoint.${segmentName(i)}`;
}
