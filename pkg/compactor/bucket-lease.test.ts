import { afterEach, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { InMemoryBucket } from '../objstore/index.js';
import { BucketLease, LEASE_OBJECT } from './bucket-lease.js';
import { CompactorErrorCode } from './compactor-errors.js';

const leases: BucketLease[] = [];
function lease(bucket: InMemoryBucket, owner: string, o: { ttlMs?: number; now?: () => number } = {}): BucketLease {
  const l = new BucketLease({ bucket, owner, ttlMs: o.ttlMs ?? 60_000, settleMs: 0, ...(o.now !== undefined ? { now: o.now } : {}) });
  leases.push(l);
  return l;
}
afterEach(async () => {
  for (const l of leases.splice(0)) await l.release();
});

describe('BucketLease', () => {
  test('a second compactor cannot take a held lease and is told who holds it', async () => {
    const bkt = new InMemoryBucket();
    const a = lease(bkt, 'host-a:/data');
    await a.acquire({ wait: false });
    expect(a.held()).toBe(true);
    const b = lease(bkt, 'host-b:/data');
    const holder = await b.tryAcquire();
    expect(holder?.owner).toBe('host-a:/data');
    const err = await b.acquire({ wait: false }).catch((e: unknown) => e);
    expect(isTesseraError(err, CompactorErrorCode.LeaseHeld)).toBe(true);
    expect((err as Error).message).toMatch(/leased by compactor "host-a:\/data".*another tessera compact is running/);
    expect(b.held()).toBe(false);
  });

  test('the same owner (a restart) takes its lease back at once', async () => {
    const bkt = new InMemoryBucket();
    const first = lease(bkt, 'me');
    await first.acquire({ wait: false });
    const restarted = lease(bkt, 'me');
    expect(await restarted.tryAcquire()).toBeUndefined();
    // The old holder notices at its next renewal.
    await first.renew();
    expect(first.signal.aborted).toBe(true);
    expect(first.held()).toBe(false);
  });

  test('an expired lease is taken over; the old holder loses it on renewal', async () => {
    const bkt = new InMemoryBucket();
    let t = 1_000_000;
    const now = () => t;
    const a = lease(bkt, 'a', { ttlMs: 1000, now });
    await a.acquire({ wait: false });
    const b = lease(bkt, 'b', { ttlMs: 1000, now });
    expect(await b.tryAcquire()).toBeDefined();
    t += 1001;
    expect(a.held()).toBe(false);
    expect(await b.tryAcquire()).toBeUndefined();
    await a.renew();
    expect(a.signal.aborted).toBe(true);
    expect(() => a.assertHeld()).toThrow(/no longer held/);
    expect(b.held()).toBe(true);
  });

  test('renewal extends the expiry; release deletes the object and a waiter gets the lease', async () => {
    const bkt = new InMemoryBucket();
    let t = 5_000_000;
    const a = lease(bkt, 'a', { ttlMs: 10_000, now: () => t });
    await a.acquire({ wait: false });
    t += 8000;
    await a.renew();
    t += 8000;
    expect(a.held()).toBe(true);
    const b = new BucketLease({ bucket: bkt, owner: 'b', ttlMs: 10_000, settleMs: 0, now: () => t });
    leases.push(b);
    const waiting = b.acquire({ wait: true, pollMs: 20 });
    await a.release();
    expect(await bkt.exists(LEASE_OBJECT)).toBe(false);
    await waiting;
    expect(b.held()).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(await bkt.get(LEASE_OBJECT))).owner).toBe('b');
  });

  test('losing the write race means not holding the lease', async () => {
    const bkt = new InMemoryBucket();
    const a = new BucketLease({ bucket: bkt, owner: 'a', ttlMs: 60_000, settleMs: 30 });
    const b = new BucketLease({ bucket: bkt, owner: 'b', ttlMs: 60_000, settleMs: 30 });
    leases.push(a, b);
    const [ra, rb] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    // Exactly one wins.
    expect([ra === undefined, rb === undefined].filter(Boolean)).toHaveLength(1);
    expect([a.held(), b.held()].filter(Boolean)).toHaveLength(1);
  });
});
