import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, flagBool, flagList, flagString, type Command, type RunContext } from './command.js';
import { globalFlags, loggerFromFlags, objstoreFlags } from './common-flags.js';
import { fileOrInlineFlag, modelDurationFlag } from './flag-values.js';
import { openBucket, reportErrors } from './tools-bucket-common.js';
import {
  BlockErrorCode,
  DELETION_MARK_FILENAME,
  NO_COMPACT_MARK_FILENAME,
  NO_DOWNSAMPLE_MARK_FILENAME,
  NoCompactReason,
  downloadBlock,
  markForDeletion,
  markForNoCompact,
  markForNoDownsample,
  MetaFetcher,
  parseRelabelConfigs,
} from '../pkg/block/index.js';
import { BucketLease, Compactor, CompactorErrorCode, findOverlaps, formatIssues, newStreamingMerger, verifyBlock } from '../pkg/compactor/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import type { Bucket } from '../pkg/objstore/index.js';
import { META_FILENAME, isUlid } from '../pkg/tsdb/index.js';

const MARKERS = [DELETION_MARK_FILENAME, NO_COMPACT_MARK_FILENAME, NO_DOWNSAMPLE_MARK_FILENAME] as const;

function toolLogger(ctx: RunContext) {
  return loggerFromFlags(ctx, 'bucket');
}

/**
 * withCompactor runs fn with a Compactor over the bucket while holding the compactor lease, so a
 * tool never races a running `tessera compact` (it exits naming the holder instead).
 */
async function withCompactor(ctx: RunContext, opts: { deleteDelayMs?: number; consistencyDelayMs?: number; retentionMs?: Map<number, number>; downsampling?: boolean; disable1d?: boolean; downsampleConcurrency?: number }, fn: (c: Compactor) => Promise<void>): Promise<number> {
  const logger = toolLogger(ctx);
  const bkt = await openBucket(ctx);
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bucket-tool-'));
  const lease = new BucketLease({ bucket: bkt, owner: `${hostname()}:tools-bucket:${process.pid}`, ttlMs: 60_000, logger });
  try {
    const relabelText = await fileOrInlineFlag(ctx, 'selector.relabel-config', BlockErrorCode.RelabelConfig);
    const c = new Compactor({
      bucket: bkt,
      dataDir,
      merger: newStreamingMerger(),
      lease,
      logger,
      relabel: parseRelabelConfigs(relabelText),
      ...opts,
    });
    try {
      await lease.acquire({ wait: false });
    } catch (err) {
      if (!isTesseraError(err, CompactorErrorCode.LeaseHeld)) throw err;
      ctx.stderr.write(`${ctx.command ?? 'tessera'}: ${err.message}\n`);
      return 1;
    }
    await fn(c);
    return 0;
  } finally {
    await lease.release();
    await rm(dataDir, { recursive: true, force: true });
    await bkt.close();
  }
}

const markCommand: Command = {
  name: 'mark',
  help: 'Mark blocks for deletion or no-compact / no-downsample (or remove such marks) safely, as Thanos does.',
  flags: {
    ...objstoreFlags,
    ...globalFlags,
    id: { type: 'string', multiple: true, help: 'ULID of a block to mark (repeatable).' },
    marker: { type: 'string', help: `Marker to put: ${MARKERS.join(', ')}.` },
    details: { type: 'string', default: '', help: 'Human readable details to be put into the marker.' },
    remove: { type: 'boolean', default: false, help: 'Remove the marker instead of adding it.' },
  },
  run: reportErrors(async (ctx) => {
    const ids = flagList(ctx, 'id');
    if (ids.length === 0) throw new UsageError('--id is required');
    for (const id of ids) if (!isUlid(id)) throw new UsageError(`--id: "${id}" is not a ULID`);
    const marker = flagString(ctx, 'marker');
    if (!(MARKERS as readonly string[]).includes(marker)) throw new UsageError(`--marker: "${marker}" is not one of ${MARKERS.join(', ')}`);
    const details = flagString(ctx, 'details');
    const remove = flagBool(ctx, 'remove');
    const bkt = await openBucket(ctx);
    try {
      for (const id of ids) {
        if (!(await bkt.exists(`${id}/${META_FILENAME}`))) {
          ctx.stderr.write(`${ctx.command ?? 'tessera'}: block ${id} not found in bucket ${bkt.name()} (no ${id}/${META_FILENAME})\n`);
          return 1;
        }
      }
      for (const id of ids) {
        const name = `${id}/${marker}`;
        if (remove) {
          if (await bkt.exists(name)) {
            await bkt.delete(name);
            ctx.stdout.write(`removed ${name}\n`);
          } else ctx.stdout.write(`${name} does not exist\n`);
          continue;
        }
        const o = details !== '' ? { details } : {};
        const wrote =
          marker === DELETION_MARK_FILENAME
            ? await markForDeletion(bkt, id, o)
            : marker === NO_COMPACT_MARK_FILENAME
              ? await markForNoCompact(bkt, id, NoCompactReason.Manual, o)
              : await markForNoDownsample(bkt, id, 'manual', o);
        ctx.stdout.write(wrote ? `marked ${name}\n` : `${name} already exists\n`);
      }
      return 0;
    } finally {
      await bkt.close();
    }
  }),
};

const logFlags = {
  ...globalFlags,
  'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs selecting the blocks to work on by their external labels.' },
  'selector.relabel-config': { type: 'string', default: '', help: 'Relabel configs in YAML selecting the blocks to work on by their external labels (alternative to --selector.relabel-config-file).' },
} as const;

const blockSyncConcurrencyFlag = {
  'block-sync-concurrency': { type: 'string', default: '20', help: 'Accepted for Thanos compatibility and ignored.' },
} as const;

const cleanupCommand: Command = {
  name: 'cleanup',
  help: 'Delete blocks marked for deletion longer ago than --delete-delay and aborted partial uploads, and mark blocks whose data a compacted block already holds.',
  flags: {
    ...objstoreFlags,
    ...logFlags,
    'delete-delay': { type: 'string', default: '48h', help: 'Time before a block marked for deletion is deleted from the bucket.' },
    'consistency-delay': { type: 'string', default: '30m', help: 'Minimum age of fresh (non-compacted) blocks before they are considered.' },
    ...blockSyncConcurrencyFlag,
  },
  run: reportErrors(async (ctx) => {
    const deleteDelayMs = modelDurationFlag(ctx, 'delete-delay');
    const consistencyDelayMs = modelDurationFlag(ctx, 'consistency-delay');
    return withCompactor(ctx, { deleteDelayMs, consistencyDelayMs }, async (c) => {
      const r = await c.cleanup();
      ctx.stdout.write(`deleted ${r.deleted} blocks, marked ${r.markedForDeletion} outdated blocks for deletion\n`);
    });
  }),
};

const retentionCommand: Command = {
  name: 'retention',
  help: 'Mark for deletion the blocks past the retention of their resolution (deleted by cleanup or the compactor after --delete-delay).',
  flags: {
    ...objstoreFlags,
    ...logFlags,
    'retention.resolution-raw': { type: 'string', default: '0d', help: 'How long to retain raw samples. 0d = forever.' },
    'retention.resolution-5m': { type: 'string', default: '0d', help: 'How long to retain 5m-resolution samples. 0d = forever.' },
    'retention.resolution-1h': { type: 'string', default: '0d', help: 'How long to retain 1h-resolution samples. 0d = forever.' },
    'retention.resolution-1d': { type: 'string', default: '0d', help: 'How long to retain 1d-resolution samples (Tessera only). 0d = forever.' },
    'consistency-delay': { type: 'string', default: '30m', help: 'Minimum age of fresh (non-compacted) blocks before they are considered.' },
    'delete-delay': { type: 'string', default: '48h', help: 'Time before a block marked for deletion is deleted (by cleanup or the compactor); here it only decides which marked blocks still count.' },
    ...blockSyncConcurrencyFlag,
  },
  run: reportErrors(async (ctx) => {
    const retentionMs = new Map<number, number>([
      [0, modelDurationFlag(ctx, 'retention.resolution-raw')],
      [300_000, modelDurationFlag(ctx, 'retention.resolution-5m')],
      [3_600_000, modelDurationFlag(ctx, 'retention.resolution-1h')],
      [86_400_000, modelDurationFlag(ctx, 'retention.resolution-1d')],
    ]);
    const consistencyDelayMs = modelDurationFlag(ctx, 'consistency-delay');
    const deleteDelayMs = modelDurationFlag(ctx, 'delete-delay');
    return withCompactor(ctx, { retentionMs, consistencyDelayMs, deleteDelayMs }, async (c) => {
      const n = await c.applyRetention();
      ctx.stdout.write(`marked ${n} blocks for deletion\n`);
    });
  }),
};

const verifyCommand: Command = {
  name: 'verify',
  help: 'Verify the blocks of a bucket: overlapping blocks of one group, index issues (unsorted series or labels, chunks outside the block range, out-of-order or overlapping chunks) and unreadable chunks. Exits 1 when issues are found.',
  flags: {
    ...objstoreFlags,
    id: { type: 'string', multiple: true, help: 'Verify only these blocks (repeatable); default every block.' },
    issues: { type: 'string', short: 'i', multiple: true, default: ['index_known_issues', 'overlapped_blocks'], help: 'Issues to verify (repeatable, as Thanos): index_known_issues (index and chunks; repairable with --repair) and overlapped_blocks (from meta.json). duplicated_compaction is not supported.' },
    'index.skip': { type: 'boolean', default: false, help: 'Only check overlaps from meta.json (no block download); the same as leaving index_known_issues out of --issues.' },
    repair: { type: 'boolean', short: 'r', default: false, help: 'Repair raw blocks whose only issue is out-of-order chunks, when their samples allow it: upload a rewritten copy and mark the original for deletion (under the compactor lease).' },
    ...logFlags,
  },
  run: reportErrors(async (ctx) => {
    const only = new Set(flagList(ctx, 'id'));
    for (const id of only) if (!isUlid(id)) throw new UsageError(`--id: "${id}" is not a ULID`);
    const checks = new Set(flagList(ctx, 'issues').flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''));
    for (const c of checks) {
      if (c === 'duplicated_compaction') throw new UsageError('--issues: duplicated_compaction is not supported (index_known_issues, overlapped_blocks)');
      if (c !== 'index_known_issues' && c !== 'overlapped_blocks') throw new UsageError(`--issues: unknown issue "${c}" (index_known_issues, overlapped_blocks)`);
    }
    const bkt = await openBucket(ctx);
    let issues = 0;
    try {
      const fetched = await new MetaFetcher({ bucket: bkt }).fetch();
      const metas = [...fetched.metas.values()].filter((m) => only.size === 0 || only.has(m.ulid));
      for (const o of checks.has('overlapped_blocks') ? findOverlaps(metas) : []) {
        issues++;
        ctx.stdout.write(`overlap: ${o.a.ulid} [${o.a.minTime}, ${o.a.maxTime}) and ${o.b.ulid} [${o.b.minTime}, ${o.b.maxTime}) in group ${o.groupKey}\n`);
      }
      for (const [id, err] of fetched.partial) {
        if (only.size > 0 && !only.has(id)) continue;
        ctx.stdout.write(`partial block (not loaded by stores): ${id}: ${err.message}\n`);
      }
      if (checks.has('index_known_issues') && !flagBool(ctx, 'index.skip')) {
        const found = await verifyIndexes(ctx, bkt, metas.map((m) => m.ulid));
        issues += found.count;
        if (flagBool(ctx, 'repair') && found.outOfOrder.length > 0) {
          const code = await withCompactor(ctx, {}, async (c) => {
            for (const id of found.outOfOrder) {
              const r = await c.repairBlock(id);
              ctx.stdout.write(r.into !== undefined ? `repaired ${id} into ${r.into} (original marked for deletion)\n` : `not repaired ${id}: ${r.reason ?? ''}\n`);
              if (r.into !== undefined) issues--;
            }
          });
          if (code !== 0) return code;
        }
      }
    } finally {
      await bkt.close();
    }
    ctx.stdout.write(issues === 0 ? 'no issues found\n' : `${issues} issues found\n`);
    return issues === 0 ? 0 : 1;
  }),
};

async function verifyIndexes(ctx: RunContext, bkt: Bucket, ids: readonly string[]): Promise<{ count: number; outOfOrder: string[] }> {
  let issues = 0;
  const outOfOrder: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'tessera-verify-'));
  try {
    for (const id of ids) {
      const bdir = join(dir, id);
      try {
        await downloadBlock(bkt, id, bdir);
      } catch (err) {
        issues++;
        ctx.stdout.write(`unreadable block ${id}: ${(err as Error).message}\n`);
        continue;
      }
      const h = await verifyBlock(bdir, { readChunks: true });
      if (h.issues.length > 0) {
        issues += h.issues.length;
        if (h.issues.every((i) => i.kind === 'out-of-order-chunks')) outOfOrder.push(id);
        ctx.stdout.write(`block ${id}: ${formatIssues(h.issues)}\n`);
      }
      await rm(bdir, { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { count: issues, outOfOrder };
}

const downsampleCommand: Command = {
  name: 'downsample',
  help: 'Downsample the blocks of the bucket that are due (raw → 5m at 40h, 5m → 1h at 10d, 1h → 1d at 14d), as the compactor does; the inputs stay.',
  flags: {
    ...objstoreFlags,
    ...logFlags,
    'downsampling.disable-1d': { type: 'boolean', default: false, help: 'Do not write 1d blocks (for buckets Thanos also works on).' },
    'downsample.concurrency': { type: 'string', default: '1', help: 'Number of blocks downsampled at once.' },
    'consistency-delay': { type: 'string', default: '30m', help: 'Minimum age of fresh (non-compacted) blocks before they are considered.' },
  },
  run: reportErrors(async (ctx) => {
    const conc = flagString(ctx, 'downsample.concurrency');
    if (!/^[1-9]\d*$/.test(conc)) throw new UsageError(`--downsample.concurrency: "${conc}" is not a positive integer`);
    const consistencyDelayMs = modelDurationFlag(ctx, 'consistency-delay');
    let failed = false;
    const code = await withCompactor(ctx, { consistencyDelayMs, downsampling: true, disable1d: flagBool(ctx, 'downsampling.disable-1d'), downsampleConcurrency: Number(conc) }, async (c) => {
      const r = await c.downsample();
      ctx.stdout.write(`downsampled ${r.downsampled} blocks${r.quarantined.length > 0 ? `, marked ${r.quarantined.length} no-downsample` : ''}${r.failedGroups.length > 0 ? `, ${r.failedGroups.length} failed` : ''}\n`);
      failed = r.failedGroups.length > 0;
    });
    return code !== 0 ? code : failed ? 1 : 0;
  }),
};

/** bucketMaintenanceCommands are the `tools bucket` subcommands that change or check a bucket's blocks. */
export const bucketMaintenanceCommands: readonly Command[] = [markCommand, cleanupCommand, retentionCommand, verifyCommand, downsampleCommand];
