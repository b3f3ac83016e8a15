import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../block/index.js';
import type { Bucket } from '../objstore/index.js';
import { CompactorError, CompactorErrorCode } from './compactor-errors.js';

/** LEASE_OBJECT is the bucket object holding the compactor lease (not a block: Thanos ignores it). */
export const LEASE_OBJECT = 'tessera-compactor-lease.json';

/** LeaseRecord is the content of the lease object. */
export interface LeaseRecord {
  /** owner identifies the compactor (host and data dir): a restarted compactor takes its own lease back. */
  readonly owner: string;
  /** token is random per acquisition; reading it back proves our write won. */
  readonly token: string;
  readonly pid: number;
  /** acquired and expires are Unix ms. */
  readonly acquired: number;
  readonly expires: number;
}

/** Options of a BucketLease. */
export interface BucketLeaseOptions {
  readonly bucket: Bucket;
  readonly owner: string;
  /** ttlMs is how long a lease lasts without renewal (renewed every ttl/4). */
  readonly ttlMs: number;
  /** settleMs is the wait between writing the lease and reading it back (default min(1 s, ttl/100)). */
  readonly settleMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * BucketLease keeps two compactors off one bucket. The lease is an object in the bucket with an
 * owner, a random token and an expiry. Acquiring writes it when it is absent, expired or ours,
 * then reads it back after a short settle time: whoever's token is there holds it (object stores
 * have no compare-and-swap; the last writer wins and the others see it). The holder renews it
 * every ttl/4 and checks the token each time; when it finds another token, or cannot renew before
 * the expiry, the lease is lost and `signal` aborts, so the holder stops before its next write.
 */
export class BucketLease {
  readonly #o: BucketLeaseOptions;
  readonly #now: () => number;
  #token = '';
  #expires = 0;
  #ac = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;

  constructor(opts: BucketLeaseOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** signal aborts when the lease is lost after acquire(). */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** held reports whether we hold an unexpired lease. */
  held(): boolean {
    return this.#token !== '' && !this.#ac.signal.aborted && this.#now() < this.#expires;
  }

  /** read returns the current lease record, undefined when there is none or it does not parse. */
  async read(signal?: AbortSignal): Promise<LeaseRecord | undefined> {
    let data: Uint8Array;
    try {
      data = await this.#o.bucket.get(LEASE_OBJECT, signal !== undefined ? { signal } : {});
    } catch (err) {
      if (this.#o.bucket.isObjNotFoundErr(err)) return undefined;
      throw err;
    }
    try {
      const r = JSON.parse(new TextDecoder().decode(data)) as Partial<LeaseRecord>;
      if (typeof r.owner !== 'string' || typeof r.token !== 'string' || typeof r.expires !== 'number') return undefined;
      return { owner: r.owner, token: r.token, pid: r.pid ?? 0, acquired: r.acquired ?? 0, expires: r.expires };
    } catch {
      return undefined;
    }
  }

  /**
   * tryAcquire takes the lease if it is free, expired or already ours. Returns undefined on
   * success, or the record of the compactor that holds it.
   */
  async tryAcquire(signal?: AbortSignal): Promise<LeaseRecord | undefined> {
    const cur = await this.read(signal);
    const now = this.#now();
    if (cur !== undefined && cur.owner !== this.#o.owner && cur.expires > now) return cur;
    const token = randomUUID();
    await this.#write(token, now, signal);
    const settle = this.#o.settleMs ?? Math.min(1000, Math.floor(this.#o.ttlMs / 100));
    if (settle > 0) await sleep(settle, undefined, signal !== undefined ? { signal } : {});
    const back = await this.read(signal);
    if (back === undefined || back.token !== token) {
      return back ?? { owner: 'unknown', token: '', pid: 0, acquired: now, expires: now + this.#o.ttlMs };
    }
    this.#token = token;
    this.#expires = now + this.#o.ttlMs;
    if (this.#ac.signal.aborted) this.#ac = new AbortController();
    this.#o.logger?.info('acquired compactor lease', { object: LEASE_OBJECT, owner: this.#o.owner, expires: new Date(this.#expires).toISOString() });
    this.#schedule();
    return undefined;
  }

  /**
   * acquire takes the lease; when another compactor holds it, it waits (polling every pollMs)
   * if `wait`, else fails with a CompactorError (LeaseHeld) naming the holder.
   */
  async acquire(opts: { wait: boolean; pollMs?: number; signal?: AbortSignal }): Promise<void> {
    for (;;) {
      const holder = await this.tryAcquire(opts.signal);
      if (holder === undefined) return;
      const msg = `bucket ${this.#o.bucket.name()} is leased by compactor "${holder.owner}" (pid ${holder.pid}) until ${new Date(holder.expires).toISOString()}: another tessera compact is running on this bucket`;
      if (!opts.wait) throw new CompactorError(CompactorErrorCode.LeaseHeld, msg);
      this.#o.logger?.warn(`${msg}; waiting`, {});
      const wait = Math.max(10, Math.min(opts.pollMs ?? this.#o.ttlMs / 4, holder.expires - this.#now() + 10));
      await sleep(wait, undefined, opts.signal !== undefined ? { signal: opts.signal } : {});
    }
  }

  /** assertHeld throws a CompactorError (LeaseLost) unless we hold the lease. */
  assertHeld(): void {
    if (!this.held()) throw new CompactorError(CompactorErrorCode.LeaseLost, `compactor lease ${LEASE_OBJECT} in bucket ${this.#o.bucket.name()} is no longer held by ${this.#o.owner}`);
  }

  /** renew extends the lease now; it is lost (signal aborts) when someone else's token is there. */
  async renew(signal?: AbortSignal): Promise<void> {
    if (this.#token === '') return;
    try {
      const cur = await this.read(signal);
      if (cur === undefined || cur.token !== this.#token) {
        this.#lose(`the lease object now holds ${cur === undefined ? 'nothing' : `owner "${cur.owner}"`}`);
        return;
      }
      const now = this.#now();
      await this.#write(this.#token, now, signal, cur.acquired);
      this.#expires = now + this.#o.ttlMs;
    } catch (err) {
      this.#o.logger?.warn('renew compactor lease', { err });
      if (this.#now() >= this.#expires) this.#lose('it expired before it could be renewed');
    }
  }

  /** release stops renewing and deletes the lease object if it is still ours. */
  async release(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#renewing;
    if (this.#token === '') return;
    const token = this.#token;
    this.#token = '';
    try {
      const cur = await this.read();
      if (cur?.token === token) await this.#o.bucket.delete(LEASE_OBJECT);
    } catch (err) {
      this.#o.logger?.warn('release compactor lease', { err });
    }
  }

  async #write(token: string, now: number, signal: AbortSignal | undefined, acquired = now): Promise<void> {
    const rec: LeaseRecord = { owner: this.#o.owner, token, pid: process.pid, acquired, expires: now + this.#o.ttlMs };
    await this.#o.bucket.upload(LEASE_OBJECT, new TextEncoder().encode(JSON.stringify(rec)), signal !== undefined ? { signal } : {});
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#renewing = this.renew().finally(() => {
        this.#renewing = undefined;
        if (this.#token !== '' && !this.#ac.signal.aborted) this.#schedule();
      });
    }, Math.max(10, Math.floor(this.#o.ttlMs / 4)));
    this.#timer.unref();
  }

  #lose(why: string): void {
    this.#o.logger?.error('lost compactor lease; stopping work', { why });
    this.#token = '';
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ac.abort(new CompactorError(CompactorErrorCode.LeaseLost, `compactor lease ${LEASE_OBJECT} in bucket ${this.#o.bucket.name()} lost: ${why}`));
  }
}
