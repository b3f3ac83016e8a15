import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { LRUCache } from 'lru-cache';

/** A bcrypt hash of a password nobody has; checked when the user is unknown, so timing does not tell. */
const DUMMY_HASH = '$2b$10$8aiqysyRUE8FWDXDuDGC0ObUlPYWzxLM8RLVLzeCpHRaQZ.V0mCpW';

/**
 * BasicAuth checks HTTP basic credentials against the bcrypt hashes of a web config's
 * basic_auth_users, as Prometheus's exporter-toolkit does. bcrypt is slow by design (tens of ms
 * at cost 10), so successful checks are cached: the key is a SHA-256 of user, hash and password
 * (the password itself is never kept), so a changed hash or password misses the cache.
 */
export class BasicAuth {
  readonly #users: ReadonlyMap<string, string>;
  readonly #ok = new LRUCache<string, true>({ max: 1024 });

  constructor(users: ReadonlyMap<string, string>) {
    this.#users = users;
  }

  /** enabled reports whether any user is configured (else every request passes). */
  get enabled(): boolean {
    return this.#users.size > 0;
  }

  /** check verifies an Authorization header value; true lets the request through. */
  async check(authorization: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const creds = parseBasic(authorization);
    if (creds === undefined) return false;
    const hash = this.#users.get(creds.user);
    const key = createHash('sha256').update(creds.user).update('\0').update(hash ?? '').update('\0').update(creds.password).digest('hex');
    if (hash !== undefined && this.#ok.has(key)) return true;
    let ok: boolean;
    try {
      ok = await bcrypt.compare(creds.password, hash ?? DUMMY_HASH);
    } catch {
      ok = false;
    }
    if (hash === undefined) return false;
    if (ok) this.#ok.set(key, true);
    return ok;
  }
}

/** parseBasic decodes `Basic base64(user:password)`; undefined when absent or malformed. */
function parseBasic(h: string | undefined): { user: string; password: string } | undefined {
  if (h === undefined) return undefined;
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (m === null) return undefined;
  const raw = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return undefined;
  return { user: raw.slice(0, i), password: raw.slice(i + 1) };
}
