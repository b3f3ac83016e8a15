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

/**
 * NoCompactReason values Thanos writes into `no-compact-mark.json` (any string is accepted on read).
 */
export const NoCompactReason = {
  Manual: 'manual',
  IndexSizeExceeding: 'index-size-exceeding',
  OutOfOrderChunks: 'block-index-out-of-order-chunk',
  DownsampleVerticalCompaction: 'downsample-vertical-compaction',
} as const;

/** DeletionMark is `deletion-mark.json` with Thanos's JSON field names: the block is scheduled for removal. */
export interface DeletionMark {
  readonly id: string;
  readonly version: number;
  readonly details?: string;
  /** deletion_time is in Unix seconds, as Thanos writes it. */
  readonly deletion_time: number;
}

/** NoCompactMark is `no-compact-mark.json`: the block is excluded from compaction. */
export interface NoCompactMark {
  readonly id: string;
  readonly version: number;
  readonly details?: string;
  /** no_compact_time is in Unix seconds. */
  readonly no_compact_time: number;
  readonly reason: string;
}

/** NoDownsampleMark is `no-downsample-mark.json`: the block is excluded from downsampling. */
export interface NoDownsampleMark {
  readonly id: string;
  readonly version: number;
  readonly details?: string;
  /** no_downsample_time is in Unix seconds. */
  readonly no_downsample_time: number;
  readonly reason: string;
}

/** MarkerKind names a marker file; each kind has its JSON time field. */
type MarkerKind = typeof DELETION_MARK_FILENAME | typeof NO_COMPACT_MARK_FILENAME | typeof NO_DOWNSAMPLE_MARK_FILENAME;

const TIME_FIELD: Record<MarkerKind, string> = {
  [DELETION_MARK_FILENAME]: 'deletion_time',
  [NO_COMPACT_MARK_FILENAME]: 'no_compact_time',
  [NO_DOWNSAMPLE_MARK_FILENAME]: 'no_downsample_time',
};

/** Parses and validates the fields every marker has; returns the object and its time field. */
function parseMarker(text: string, kind: MarkerKind, file: string): { o: Record<string, unknown>; time: number } {
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
  const field = TIME_FIELD[kind];
  const t = o[field];
  if (typeof t !== 'number' || !Number.isSafeInteger(t)) {
    throw new ThanosBlockError(BlockErrorCode.MarkerCorrupt, `validate ${file}: ${field} must be an integer (Unix seconds)`);
  }
  return { o, time: t };
}

function details(o: Record<string, unknown>): { details?: string } {
  return typeof o['details'] === 'string' && o['details'] !== '' ? { details: o['details'] } : {};
}

/** parseDeletionMark parses and validates deletion-mark.json text; `file` names it in errors. */
export function parseDeletionMark(text: string, file = DELETION_MARK_FILENAME): DeletionMark {
  const { o, time } = parseMarker(text, DELETION_MARK_FILENAME, file);
  return { id: o['id'] as string, version: MARKER_VERSION, ...details(o), deletion_time: time };
}

/** parseNoCompactMark parses and validates no-compact-mark.json text. */
export function parseNoCompactMark(text: string, file = NO_COMPACT_MARK_FILENAME): NoCompactMark {
  const { o, time } = parseMarker(text, NO_COMPACT_MARK_FILENAME, file);
  return { id: o['id'] as string, version: MARKER_VERSION, ...details(o), no_compact_time: time, reason: typeof o['reason'] === 'string' ? o['reason'] : '' };
}

/** parseNoDownsampleMark parses and validates no-downsample-mark.json text. */
export function parseNoDownsampleMark(text: string, file = NO_DOWNSAMPLE_MARK_FILENAME): NoDownsampleMark {
  const { o, time } = parseMarker(text, NO_DOWNSAMPLE_MARK_FILENAME, file);
  return { id: o['id'] as string, version: MARKER_VERSION, ...details(o), no_downsample_time: time, reason: typeof o['reason'] === 'string' ? o['reason'] : '' };
}

/**
 * formatMarker renders a marker as Thanos's json.Marshal does: compact, fields in Go struct order
 * (id, version, details when non-empty, then the time field and reason).
 */
export function formatMarker(m: DeletionMark | NoCompactMark | NoDownsampleMark): string {
  const o: Record<string, unknown> = { id: m.id, version: m.version };
  if (m.details !== undefined && m.details !== '') o['details'] = m.details;
  if ('deletion_time' in m) o['deletion_time'] = m.deletion_time;
  if ('no_compact_time' in m) o['no_compact_time'] = m.no_compact_time;
  if ('no_downsample_time' in m) o['no_downsample_time'] = m.no_downsample_time;
  if ('reason' in m) o['reason'] = m.reason;
  return JSON.stringify(o);
}

/** formatDeletionMark renders a deletion mark as Thanos writes it. */
export function formatDeletionMark(m: DeletionMark): string {
  return formatMarker(m);
}

async function readMarkerText(bkt: BucketReader, name: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  let data: Uint8Array;
  try {
    data = await bkt.get(name, signal !== undefined ? { signal } : {});
  } catch (err) {
    if (bkt.isObjNotFoundErr(err)) return undefined;
    throw err;
  }
  return new TextDecoder().decode(data);
}

/**
 * readDeletionMark reads `<ulid>/deletion-mark.json`: undefined when absent; a ThanosBlockError
 * (MarkerCorrupt) when it cannot be parsed (callers treat that as a partial upload and ignore it).
 */
export async function readDeletionMark(bkt: BucketReader, ulid: string, signal?: AbortSignal): Promise<DeletionMark | undefined> {
  const name = `${ulid}/${DELETION_MARK_FILENAME}`;
  const text = await readMarkerText(bkt, name, signal);
  return text === undefined ? undefined : parseDeletionMark(text, name);
}

/** readNoCompactMark reads `<ulid>/no-compact-mark.json` like {@link readDeletionMark}. */
export async function readNoCompactMark(bkt: BucketReader, ulid: string, signal?: AbortSignal): Promise<NoCompactMark | undefined> {
  const name = `${ulid}/${NO_COMPACT_MARK_FILENAME}`;
  const text = await readMarkerText(bkt, name, signal);
  return text === undefined ? undefined : parseNoCompactMark(text, name);
}

/** readNoDownsampleMark reads `<ulid>/no-downsample-mark.json` like {@link readDeletionMark}. */
export async function readNoDownsampleMark(bkt: BucketReader, ulid: string, signal?: AbortSignal): Promise<NoDownsampleMark | undefined> {
  const name = `${ulid}/${NO_DOWNSAMPLE_MARK_FILENAME}`;
  const text = await readMarkerText(bkt, name, signal);
  return text === undefined ? undefined : parseNoDownsampleMark(text, name);
}

/** MarkOptions tune the mark* functions. `now` is in Unix milliseconds (default Date.now()). */
export interface MarkOptions {
  readonly now?: number;
  readonly details?: string;
  readonly signal?: AbortSignal;
}

/** Uploads `<ulid>/<file>` unless it exists (markers are created only if absent, blocks.md §3). */
async function writeMarkerOnce(bkt: Bucket, ulid: string, file: MarkerKind, body: () => string, signal: AbortSignal | undefined): Promise<boolean> {
  const name = `${ulid}/${file}`;
  const ro = signal !== undefined ? { signal } : {};
  try {
    if (await bkt.exists(name, ro)) return false;
    await bkt.upload(name, new TextEncoder().encode(body()), { contentType: 'application/json', ...ro });
  } catch (err) {
    throw new ThanosBlockError(BlockErrorCode.MarkerWrite, `write ${name} to bucket ${bkt.name()}`, { cause: err, block: ulid });
  }
  return true;
}

const unixSeconds = (ms: number | undefined): number => Math.floor((ms ?? Date.now()) / 1000);

/**
 * markForDeletion uploads a deletion mark for ulid unless one exists, as Thanos's
 * block.MarkForDeletion. Returns whether a mark was written.
 */
export function markForDeletion(bkt: Bucket, ulid: string, opts: MarkOptions = {}): Promise<boolean> {
  return writeMarkerOnce(
    bkt,
    ulid,
    DELETION_MARK_FILENAME,
    () => formatMarker({ id: ulid, version: MARKER_VERSION, ...(opts.details !== undefined ? { details: opts.details } : {}), deletion_time: unixSeconds(opts.now) }),
    opts.signal,
  );
}

/**
 * markForNoCompact uploads a no-compact mark with the reason (see {@link NoCompactReason}) unless
 * one exists, as Thanos's block.MarkForNoCompact. Returns whether a mark was written.
 */
export function markForNoCompact(bkt: Bucket, ulid: string, reason: string, opts: MarkOptions = {}): Promise<boolean> {
  return writeMarkerOnce(
    bkt,
    ulid,
    NO_COMPACT_MARK_FILENAME,
    () => formatMarker({ id: ulid, version: MARKER_VERSION, ...(opts.details !== undefined ? { details: opts.details } : {}), no_compact_time: unixSeconds(opts.now), reason }),
    opts.signal,
  );
}

/** markForNoDownsample uploads a no-downsample mark unless one exists. Returns whether a mark was written. */
export function markForNoDownsample(bkt: Bucket, ulid: string, reason: string, opts: MarkOptions = {}): Promise<boolean> {
  return writeMarkerOnce(
    bkt,
    ulid,
    NO_DOWNSAMPLE_MARK_FILENAME,
    () => formatMarker({ id: ulid, version: MARKER_VERSION, ...(opts.details !== undefined ? { details: opts.details } : {}), no_downsample_time: unixSeconds(opts.now), reason }),
    opts.signal,
  );
}
