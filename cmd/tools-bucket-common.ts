import { flagString, type RunContext } from './command.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, readObjstoreFlags, type Bucket } from '../pkg/objstore/index.js';

/**
 * reportErrors turns domain errors (bad config, unreachable bucket, bad meta.json) into a message
 * naming the command (`tessera tools bucket ls: ...`, as usage errors are) and exit code 1.
 */
export function reportErrors(run: (ctx: RunContext) => Promise<number | void>): (ctx: RunContext) => Promise<number | void> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      if (!isTesseraError(err)) throw err;
      ctx.stderr.write(`${ctx.command ?? 'tessera'}: ${err.message}\n`);
      return 1;
    }
  };
}

/** openBucket opens the bucket named by the objstore flags. */
export async function openBucket(ctx: RunContext): Promise<Bucket> {
  const yaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'));
  return newBucketFromConfig(yaml, { component: 'bucket' });
}
