import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { forbidden, throttled, unauthenticated } from '../errors/errors.js';
import { GROUPS_TOPIC, mayReadEveryGroup, type AuthTable, type Principal } from './principal.js';
import { unmatchableHash, verifySecret, type SecretHash } from './secret-hash.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What a request asks to do. Produce and consume are asked twice: without the topic before the
 * body or query is read (so a stranger is refused before the broker does any work for him), then
 * with it; the second time is answered from the request's cached principal.
 *  - `describe`: read cluster metadata, the topic list and metrics: any authenticated principal.
 *  - `admin`: create topics and change the cluster.
 */
export type Action =
  | { op: 'produce'; topic?: string }
  | { op: 'consume'; topic?: string }
  | { op: 'admin' }
  | { op: 'describe' };

/** Byte direction of a quota: in = produce request bodies, out = consume answers. */
export type Direction = 'in' | 'out';

/** The HTTP layer's one door to authentication, permissions and quotas. */
export interface Gate {
  /** False when the broker runs without --auth-file (every call allowed). */
  readonly enabled: boolean;
  /**
   * The principal behind `req` when it may do `action` now; else throws 401 UNAUTHENTICATED,
   * 403 FORBIDDEN or 429 THROTTLED (in that order of checks). Null when the gate is open.
   */
  authorize(req: IncomingMessage, action: Action): Promise<Principal | null>;
  /** Counts bytes moved for `req`'s principal against its quota (throttling its next requests). */
  charge(req: IncomingMessage, direction: Direction, bytes: number): void;
}

/** The gate without --auth-file: everything is allowed, nothing is counted. */
export const OPEN_GATE: Gate = {
  enabled: false,
  authorize: () => Promise.resolve(null),
  charge: () => {},
};

/** Verified tokens kept; past this the cache starts over (a bound on what strangers can make us hold). */
const MAX_CACHED_TOKENS = 10_000;
const TOKEN_HINT = 'send Authorization: Bearer <principal>:<secret> (docs/security.md)';
/**
 * Distinct tokens being checked at once. A check is an scrypt run (~50 ms) on libuv's thread pool,
 * which the logs' file writes share: a flood of made-up tokens must not starve the disk. Past the
 * limit a token is answered 429 (retriable) instead of checked; the same token checked by several
 * requests at once costs one run.
 */
const MAX_CONCURRENT_CHECKS = 2;
const BUSY_RETRY_MS = 200;

/** Tokens checked against the auth file's hashes; permissions; a token bucket per principal and direction. */
export class AuthGate implements Gate {
  readonly enabled = true;
  private table: AuthTable;
  /** sha256(token) -> principal, for the current table only: scrypt costs ~50 ms, a hot path cannot pay it per request. */
  private verified = new Map<string, Principal>();
  private readonly byRequest = new WeakMap<IncomingMessage, Principal>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly checking = new Map<string, Promise<Principal>>();

  constructor(
    table: AuthTable,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.table = table;
  }

  get principalCount(): number {
    return this.table.principals.size;
  }

  /** Swap in a reloaded auth file: tokens are checked again, quota balances are kept (at the new rates). */
  replace(table: AuthTable): void {
    this.table = table;
    this.verified = new Map();
    for (const key of [...this.buckets.keys()]) {
      const [direction, name] = splitKey(key);
      const rate = table.principals.get(name)?.[direction === 'in' ? 'inBytesPerSecond' : 'outBytesPerSecond'] ?? null;
      if (rate === null) this.buckets.delete(key);
      else this.buckets.get(key)!.setRate(rate, this.nowMs());
    }
  }

  async authorize(req: IncomingMessage, action: Action): Promise<Principal> {
    const principal = await this.authenticate(req);
    permit(principal, action);
    if (action.op === 'produce' || action.op === 'consume') {
      const direction: Direction = action.op === 'produce' ? 'in' : 'out';
      const bucket = this.bucket(principal, direction);
      const waitMs = bucket ? bucket.waitMs(this.nowMs()) : 0;
      if (waitMs > 0) {
        throw throttled(
          `principal '${principal.name}' is over its ${action.op} quota of ${bucket!.rate} bytes/s; retry after ${(waitMs / 1000).toFixed(1)} s`,
          waitMs,
        );
      }
    }
    return principal;
  }

  charge(req: IncomingMessage, direction: Direction, bytes: number): void {
    const principal = this.byRequest.get(req);
    if (principal) this.bucket(principal, direction)?.charge(bytes, this.nowMs());
  }

  private async authenticate(req: IncomingMessage): Promise<Principal> {
    const known = this.byRequest.get(req);
    if (known) return known;
    const header = req.headers.authorization;
    if (header === undefined) throw unauthenticated(`this broker needs a token: ${TOKEN_HINT}`);
    const match = /^Bearer +(.+)$/i.exec(header);
    if (!match) throw unauthenticated(`the Authorization header is not a bearer token: ${TOKEN_HINT}`);
    const principal = await this.principalOf(match[1]!.trim());
    this.byRequest.set(req, principal);
    return principal;
  }

  /**
   * The principal whose `name:secret` token this is (401 otherwise), checked once per token and
   * cached like a REST bearer token: the Kafka listener's SASL/PLAIN uses it too.
   */
  async principalOf(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64');
    const cache = this.verified;
    let principal = cache.get(key);
    if (!principal) {
      let check = this.checking.get(key);
      if (!check) {
        if (this.checking.size >= MAX_CONCURRENT_CHECKS) {
          throw throttled(`too many tokens are being checked at once; retry after ${BUSY_RETRY_MS} ms`, BUSY_RETRY_MS);
        }
        check = verify(this.table, token).finally(() => this.checking.delete(key));
        this.checking.set(key, check);
      }
      principal = await check;
      if (cache === this.verified) {
        if (cache.size >= MAX_CACHED_TOKENS) cache.clear();
        cache.set(key, principal);
      }
    }
    return principal;
  }

  /**
   * `principal` as the auth file says now: the same name with the same secret hash, with the
   * permissions and quotas of the current file. Null when the name is gone or its secret changed.
   * The Kafka listener asks it at every request, since a connection authenticates once and may
   * stay open for days: without it, a principal removed or narrowed by SIGHUP kept every right it
   * had on the connections it opened before (REST tokens are checked anew after a reload).
   */
  current(principal: Principal): Principal | null {
    const now = this.table.principals.get(principal.name);
    if (!now) return null;
    if (now === principal) return now;
    return sameSecretHash(now.secretHash, principal.secretHash) ? now : null;
  }

  /**
   * Counts `bytes` moved by `principal` against its quota and answers how long it is now in debt
   * (ms, 0 when within it): the Kafka listener reports that as throttle_time_ms and stops reading
   * the connection for as long, as Kafka does (KIP-219).
   */
  chargePrincipal(principal: Principal, direction: Direction, bytes: number): number {
    const bucket = this.bucket(principal, direction);
    if (!bucket) return 0;
    const now = this.nowMs();
    bucket.charge(bytes, now);
    return Math.ceil(bucket.waitMs(now));
  }

  private bucket(principal: Principal, direction: Direction): TokenBucket | undefined {
    const rate = direction === 'in' ? principal.inBytesPerSecond : principal.outBytesPerSecond;
    if (rate === null) return undefined;
    const key = `${direction}:${principal.name}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(rate, this.nowMs());
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

/** The principal whose secret the token carries; 401 otherwise, without saying whether the name exists. */
async function verify(table: AuthTable, token: string): Promise<Principal> {
  const colon = token.indexOf(':');
  const name = colon > 0 ? token.slice(0, colon) : '';
  const principal = table.principals.get(name);
  // An unknown name is checked against a hash nothing matches, so it takes as long as a wrong secret.
  const matches = await verifySecret(token.slice(colon + 1), principal?.secretHash ?? unmatchableHash());
  if (!principal || !matches) throw unauthenticated(`the token is not valid: no principal with that name and secret (${colon > 0 ? 'check the secret' : 'expected <principal>:<secret>'})`);
  return principal;
}

/** Throws 403 FORBIDDEN when `principal` may not do `action` (the Kafka listener asks it too). */
export function permit(principal: Principal, action: Action): void {
  const who = `principal '${principal.name}'`;
  switch (action.op) {
    case 'describe':
      return;
    case 'admin':
      if (!principal.admin) throw forbidden(`${who} may not create topics or change the cluster (it is not admin)`);
      return;
    case 'produce':
    case 'consume': {
      if (action.op === 'consume' && action.topic === GROUPS_TOPIC && !mayReadEveryGroup(principal)) {
        throw forbidden(`${who} may not consume ${GROUPS_TOPIC}: it holds every consumer group, and the principal's groups patterns allow only some`);
      }
      const patterns = principal[action.op];
      if (action.topic === undefined) {
        if (!patterns.any) throw forbidden(`${who} may not ${action.op} on any topic`);
      } else if (!patterns.matches(action.topic)) {
        throw forbidden(`${who} may not ${action.op} on topic '${action.topic}'`);
      }
    }
  }
}

function splitKey(key: string): [Direction, string] {
  const colon = key.indexOf(':');
  return [key.slice(0, colon) as Direction, key.slice(colon + 1)];
}

function sameSecretHash(a: SecretHash, b: SecretHash): boolean {
  return a.N === b.N && a.r === b.r && a.p === b.p && a.salt.equals(b.salt) && a.key.equals(b.key);
}
