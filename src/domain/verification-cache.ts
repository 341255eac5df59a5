// Verified keys (and recent failures), so that a warm check does no hashing,
// no argon2 and no I/O. Entries are keyed by a salted digest of the presented
// key under a per-process random salt — never by the key itself — and hold what
// the verdict needs, so expiry, state, subnets, constraints and permissions are
// still judged on every check.
//
// Failures live apart from verified keys, each store with its own bound and
// TTL (issue #14 finding 10). A well-formed unknown key costs an attacker
// nothing (its checksum is public), so failures can be made at any rate: they
// only ever push out other failures. A verified entry is added only after a
// secret verified under argon2 — which no attacker can forge, and which the
// argon2 budget paces — so plain least-recently-used eviction among verified
// keys is enough: nobody without valid keys can scan through that store, and a
// key in steady use stays at its warm end. Both stores are lru-cache.
import { hash, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, PolicyRecord } from "../storage/records.js";
import type { Grant } from "./permissions.js";
import type { EffectiveLimits } from "./usage-limits.js";

export interface VerifiedKey {
  key: ApiKeyRecord;
  policy: PolicyRecord;
  grants: readonly Grant[];
  /** Set when the presented secret is the one a rotation replaced: it stops working then. */
  secretExpireTime: Date | null;
  /** The key's usage limits, worked out once; undefined (the usual case) = none. */
  limits?: EffectiveLimits;
}

export interface CacheSettings {
  /** Verified keys kept; 0 keeps none. */
  maxEntries: number;
  /** The oldest a cached verdict may be, whatever notifications say. */
  ttlMs: number;
  /** Failed verifications (unknown key, wrong secret) kept, apart from verified keys; 0 keeps none. */
  negativeMaxEntries: number;
  /** How long a failed verification is remembered. */
  negativeTtlMs: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

// lru-cache's get() writes a `status` field onto its options object: one
// shared object per store spares the `{}` it would otherwise allocate per lookup.
const GET_VERIFIED: LRUCache.GetOptions<string, VerifiedKey, unknown> = {};
const GET_FAILED: LRUCache.GetOptions<string, true, unknown> = {};

export class VerificationCache {
  private readonly salt = randomBytes(32).toString("base64");
  private readonly verified: LRUCache<string, VerifiedKey> | undefined;
  private readonly failed: LRUCache<string, true> | undefined;
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byPolicy = new Map<string, Set<string>>();
  /** Bumped by every invalidation: a verdict loaded before a bump is not cached after it. */
  private generationCounter = 0;
  private enabled = false;
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  /** `nowMs` (milliseconds, monotonic) is for tests; by default, performance.now(). */
  constructor(settings: CacheSettings, nowMs?: () => number) {
    // ttlResolution 0: read the clock on every lookup (as a Map and a timestamp
    // did), rather than lru-cache's 1 ms memo, which arms a timer to expire it.
    // `performance` itself, not a wrapper: one call fewer per lookup.
    const perf = nowMs ? { now: nowMs } : performance;
    if (settings.maxEntries > 0) {
      this.verified = new LRUCache<string, VerifiedKey>({
        max: settings.maxEntries,
        ttl: settings.ttlMs,
        ttlResolution: 0,
        perf,
        // Evicted, expired, replaced or deleted: keep the indexes in step.
        dispose: (entry, digest) => this.unindex(entry, digest),
      });
    }
    if (settings.negativeMaxEntries > 0) {
      this.failed = new LRUCache<string, true>({ max: settings.negativeMaxEntries, ttl: settings.negativeTtlMs, ttlResolution: 0, perf });
    }
  }

  // One-shot hashing: an HMAC object per check cost several times more, and
  // the digest is only ever a key into this process's own maps.
  digest(presented: string): string {
    return hash("sha256", this.salt + presented, "base64url");
  }

  /** Verified keys held (a stale one counts until it is looked up or pushed out). */
  get verifiedEntries(): number {
    return this.verified?.size ?? 0;
  }

  /** Failed verifications held. */
  get failedEntries(): number {
    return this.failed?.size ?? 0;
  }

  get generation(): number {
    return this.generationCounter;
  }

  /** A cached verdict: the verified key, `null` for a remembered failure, undefined for a miss. */
  lookup(digest: string): VerifiedKey | null | undefined {
    if (this.enabled) {
      const verified = this.verified?.get(digest, GET_VERIFIED);
      if (verified !== undefined) {
        this.stats.hits++;
        return verified;
      }
      if (this.failed?.get(digest, GET_FAILED) !== undefined) {
        this.stats.hits++;
        return null;
      }
    }
    this.stats.misses++;
    return undefined;
  }

  /** Stores a verdict loaded while the cache stood at `generation`, unless something changed since. */
  store(digest: string, verified: VerifiedKey | undefined, generation: number): void {
    if (!this.enabled || generation !== this.generationCounter) return;
    if (verified) {
      this.failed?.delete(digest);
      if (!this.verified) return;
      this.verified.set(digest, verified);
      index(this.byKey, verified.key.id, digest);
      index(this.byPolicy, verified.policy.id, digest);
    } else {
      this.verified?.delete(digest);
      this.failed?.set(digest, true);
    }
  }

  invalidateKey(keyId: string): void {
    this.generationCounter++;
    this.drop(this.byKey.get(keyId));
  }

  invalidatePolicy(policyId: string): void {
    this.generationCounter++;
    this.drop(this.byPolicy.get(policyId));
  }

  /** Drops everything; with `enabled` false, nothing is cached until enabled again. */
  reset(enabled: boolean): void {
    this.generationCounter++;
    this.verified?.clear();
    this.failed?.clear();
    this.byKey.clear();
    this.byPolicy.clear();
    this.enabled = enabled;
  }

  private drop(digests: Set<string> | undefined): void {
    // A copy: each delete unindexes the digest from the set being read.
    if (digests) for (const digest of [...digests]) this.verified?.delete(digest);
  }

  private unindex(entry: VerifiedKey, digest: string): void {
    unindex(this.byKey, entry.key.id, digest);
    unindex(this.byPolicy, entry.policy.id, digest);
  }
}

function index(map: Map<string, Set<string>>, id: string, digest: string): void {
  let set = map.get(id);
  if (!set) map.set(id, (set = new Set()));
  set.add(digest);
}

function unindex(map: Map<string, Set<string>>, id: string, digest: string): void {
  const set = map.get(id);
  set?.delete(digest);
  if (set?.size === 0) map.delete(id);
}
