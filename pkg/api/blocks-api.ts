import express, { type Router } from 'express';
import { formatBlockMeta, type BlockMeta } from '../tsdb/index.js';

/** BlockMarkJson is a marker file's JSON (deletion-mark.json or no-compact-mark.json) as read. */
export type BlockMarkJson = Readonly<Record<string, unknown>>;

/** BlockMarksJson are the marks of one block. */
export interface BlockMarksJson {
  readonly deletion?: BlockMarkJson;
  readonly noCompact?: BlockMarkJson;
}

/** GO_ZERO_TIME is Go's time.Time{} in JSON: Thanos's refreshedAt before the first refresh. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * BlocksInfo is one view of /api/v1/blocks (Thanos's BlocksInfo): the metas of a refresh, the
 * label that titles block groups, when it was refreshed and the last refresh's error. A failed
 * refresh keeps the blocks of the last good one, as in Thanos. Beyond Thanos's fields it carries
 * `marks` (deletion and no-compact marks by ULID), which Thanos's UI ignores.
 */
export class BlocksInfo {
  readonly label: string;
  #blocks: readonly BlockMeta[] = [];
  #marks: ReadonlyMap<string, BlockMarksJson> = new Map();
  #refreshedAt = GO_ZERO_TIME;
  #err: string | null = null;
  #json: string | undefined;

  constructor(label = '') {
    this.label = label;
  }

  /** set records a successful refresh. */
  set(blocks: Iterable<BlockMeta>, marks: ReadonlyMap<string, BlockMarksJson> = new Map(), now = new Date()): void {
    this.#blocks = [...blocks].sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0));
    this.#marks = marks;
    this.#refreshedAt = now.toISOString();
    this.#err = null;
    this.#json = undefined;
  }

  /** setError records a failed refresh: the blocks of the last good one stay. */
  setError(err: unknown, now = new Date()): void {
    this.#refreshedAt = now.toISOString();
    this.#err = err instanceof Error ? err.message : String(err);
    this.#json = undefined;
  }

  /** blocks are the metas of the last good refresh, sorted by min time. */
  get blocks(): readonly BlockMeta[] {
    return this.#blocks;
  }

  /** json renders the view as Thanos's BlocksInfo JSON (memoized until the next refresh). */
  json(): string {
    if (this.#json !== undefined) return this.#json;
    const marks: Record<string, BlockMarksJson> = {};
    for (const [id, m] of this.#marks) if (m.deletion !== undefined || m.noCompact !== undefined) marks[id] = m;
    const blocks = this.#blocks.map((m) => formatBlockMeta(m).trim()).join(',');
    this.#json = `{"label":${JSON.stringify(this.label)},"blocks":[${blocks}],"refreshedAt":${JSON.stringify(this.#refreshedAt)},"err":${JSON.stringify(this.#err)},"marks":${JSON.stringify(marks)}}`;
    return this.#json;
  }
}

/** MarkAction is an admin action of POST /api/v1/blocks/mark (Thanos's names). */
export type MarkAction = 'DELETION' | 'NO_COMPACTION';

/** BlocksRouterOptions configure createBlocksRouter. */
export interface BlocksRouterOptions {
  /** global is the view of the whole bucket (default of GET /blocks). */
  readonly global: BlocksInfo;
  /** loaded is the view of `?view=loaded` (the blocks a store serves); default global. */
  readonly loaded?: BlocksInfo;
  /**
   * mark, when set, serves POST /blocks/mark (form: id, action DELETION|NO_COMPACTION, detail);
   * leave it out with --disable-admin-operations.
   */
  readonly mark?: (id: string, action: MarkAction, detail: string) => Promise<void>;
}

/**
 * createBlocksRouter serves Thanos's blocks API under the API root (mount at `<prefix>/api/v1`):
 * GET /blocks[?view=loaded] answers `{"status":"success","data":BlocksInfo}`.
 */
export function createBlocksRouter(o: BlocksRouterOptions): Router {
  const router = express.Router();
  router.get('/blocks', (req, res) => {
    const info = req.query['view'] === 'loaded' ? (o.loaded ?? o.global) : o.global;
    res.type('application/json').send(`{"status":"success","data":${info.json()}}`);
  });
  router.post('/blocks/mark', express.urlencoded({ extended: false }), (req, res) => {
    const fail = (status: number, errorType: string, error: string): void => {
      res.status(status).json({ status: 'error', errorType, error });
    };
    if (o.mark === undefined) return fail(403, 'forbidden', 'admin operations are disabled');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const id = String(body['id'] ?? '');
    const action = String(body['action'] ?? '');
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return fail(400, 'bad_data', `id "${id}" is not a ULID`);
    if (action !== 'DELETION' && action !== 'NO_COMPACTION') return fail(400, 'bad_data', `action "${action}" is not DELETION or NO_COMPACTION`);
    o.mark(id, action, String(body['detail'] ?? '')).then(
      () => res.json({ status: 'success' }),
      (err: unknown) => fail(500, 'internal', `mark block ${id} (${action}): ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  return router;
}
