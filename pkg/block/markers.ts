import type { Bucket, BucketReader } from '../objstore/index.js';
import { isUlid } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';

/** DELETION_MARK_FILENAME is the object name of a deletion mark under `<ULID>/` (blocks.md §3). */
export const DELETION_MARK_FILENAME = 'deletion-mark.json';
/** NO_COMPACT_MARK_FILENAME is the object name of a no-compact mark under `<ULID>/`. */
export const NO_COMPACT_MARK_FILENAME = 'no-compact-mark.json';
/** NO_DOWNSAMPLE_MARK_FILENAME is the object name of a no-downsample mark under `<ULID>/`. */
export const NO_DOWNSAMPLE_MARK_FILENAME = 'no-downsample-mark.json';
/** MARKER_VERSION is the only marker format version. */
export const MARKER_VERSION = 1;

/** DeletionMark is `deletion-mark.json`: the block is scheduled for removal. */
export interface DeletionMark {
  readonly id: string;
  readonly version: number;
  readonly details?: string;
  /** deletionTime is in Unix seconds, as Thanos writes it. */
  readonly deletionTime: number;
}

/** NoCompactMark is `no-compact-mark.json`: the block is excluded from compaction. */
export interface NoCompactMark {
  readonly id: string;
  readonly version: number;
  readonly details?: string;
  /** noCompactTime is in Unix seconds. */
  readonly noCompactTime: number;
  readonly reason: string;
}

function parseMarkerObject(text: string, file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `parse ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `parse ${file}: not a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  if (o['version'] !== MARKER_VERSION) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `validate ${file}: unexpected version ${JSON.stringify(o['version'])}, want ${MARKER_VERSION}`);
  }
  if (typeof o['id'] !== 'string' || !isUlid(o['id'])) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `validate ${file}: id ${JSON.stringify(o['id'])} is not a ULID`);
  }
  return o;
}

/** parseDeletionMark parses and validates deletion-mark.json text; `file` names it in errors. */
export function parseDeletionMark(text: string, file = DELETION_MARK_FILENAME): DeletionMark {
  const o = parseMarkerObject(text, file);
  const t = o['deletion_time'];
  if (typeof t !== 'number' || !Number.isSafeInteger(t)) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `validate ${file}: deletion_time must be an integer (Unix seconds)`);
  }
  return {
    id: o['id'] as string,
    version: MARKER_VERSION,
    deletionTime: t,
    ...(typeof o['details'] === 'string' && o['details'] !== '' ? { details: o['details'] } : {}),
  };
}

/** parseNoCompactMark parses and validates no-compact-mark.json text. */
export function parseNoCompactMark(text: string, file = NO_COMPACT_MARK_FILENAME): NoCompactMark {
  const o = parseMarkerObject(text, file);
  const t = o['no_compact_time'];
  if (typeof t !== 'number' || !Number.isSafeInteger(t)) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `validate ${file}: no_compact_time must be an integer (Unix seconds)`);
  }
  return {
    id: o['id'] as string,
    version: MARKER_VERSION,
    noCompactTime: t,
    reason: typeof o['reason'] === 'string' ? o['reason'] : '',
    ...(typeof o['details'] === 'string' && o['details'] !== '' ? { details: o['details'] } : {}),
  };
}

/** formatDeletionMark renders a deletion mark as Thanos writes it (tab-indented JSON). */
export function formatDeletionMark(m: DeletionMark): string {
  const o: Record<string, unknown> = { id: m.id, version: m.version };
  if (m.details !== undefined) o['details'] = m.details;
  o['deletion_time'] = m.deletionTime;
  return JSON.stringify(o, null, '\t');
}

/**
 * readDeletionMark reads `<ulid>/deletion-mark.json`: undefined when absent; a ThanosBlockError
 * (MarkerCorrupt) when it cannot be parsed (callers treat that as a partial upload and ignore it).
 */
export async function readDeletionMark(bkt: BucketReader, ulid: string, signal?: AbortSignal): Promise<DeletionMark | undefined> {
  const name = `${ulid}/${DELETION_MARK_FILENAME}`;
  let data: Uint8Array;
  try {
    data = await bkt.get(name, signal !== undefined ? { signal } : {});
  } catch (err) {
    if (bkt.isObjNotFoundErr(err)) return undefined;
    throw err;
  }
  return parseDeletionMark(new TextDecoder().decode(data), name);
}

/**
 * markForDeletion uploads a deletion mark for ulid unless one exists (markers are created only if
 * absent, blocks.md §3). `now` is in Unix milliseconds. Returns whether a mark was written.
 */
export async function markForDeletion(bkt: Bucket, ulid: string, opts: { now?: number; details?: string; signal?: AbortSignal } = {}): Promise<boolean> {
  const name = `${ulid}/${DELETION_MARK_FILENAME}`;
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  if (await bkt.exists(name, ro)) return false;
  const mark: DeletionMark = {
    id: ulid,
    version: MARKER_VERSION,
    deletionTime: Math.floor((opts.now ?? Date.now()) / 1000),
    ...(opts.details !== undefined ? { details: opts.details } : {}),
  };
  await bkt.upload(name, new TextEncoder().encode(formatDeletionMark(mark)), ro);
  return true;
}
