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
//
// An entry holds only what a check reads (issue #16: 100,000 cached keys took
// ~15 KiB each): the key's fields that a verdict uses, and its policy's record
// and parsed grants shared with every other cached key on the same version of
// the policy, not a copy each.
import { hash, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, CheckedPolicy, ConstraintRecord, RateLimitRecord } from "../storage/records.js";
import { parseGrants, type Grant } from "./grants.js";
import type { EffectiveLimits } from "./usage-limits.js";

/** What checks read of a key: a cached key holds these fields and no others. */
export type CheckedKey = Pick<ApiKeyRecord, "id" | "name" | "policyId" | "state" | "service" | "credits"> & {
  /** The expiry in milliseconds since the epoch: a Date costs ~100 bytes more per cached key. */
  readonly expireTimeMs: number;
  readonly allowedSubnets: readonly string[];
  readonly constraints: readonly ConstraintRecord[];
  readonly rateLimits: readonly RateLimitRecord[];
};

/** A policy as checks read it: its record and its grants, parsed once. */
export interface SharedPolicy {
  readonly policy: CheckedPolicy;
  readonly grants: readonly Grant[];
}

export interface VerifiedKey extends SharedPolicy {
  key: CheckedKey;
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

// Most keys have no subnets, constraints or limits of their own: one empty
// list for all of them rather than three each.
const NONE: readonly never[] = Object.freeze([]);
const orNone = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);

/** The fields of `key` a check reads; `policyId` is the shared policy's own string. */
export function checkedKey(key: ApiKeyRecord, policyId: string): CheckedKey {
  return {
    id: key.id,
    name: key.name,
    policyId,
    expireTimeMs: key.expireTime.getTime(),
    state: key.state,
    service: key.service,
    credits: key.credits,
    allowedSubnets: orNone(key.allowedSubnets),
    constraints: orNone(key.constraints),
    rateLimits: orNone(key.rateLimits),
  };
}

/** The cached keys on one policy, and the version of it they share. */
interface PolicyEntry extends SharedPolicy {
  digests: Set<string>;
}

/** Whether two reads of a policy are the same version: every field a check reads or reports, and its update time. */
function sameVersion(a: CheckedPolicy, b: CheckedPolicy): boolean {
  return (
    a.id === b.id &&
    a.updateTime.getTime() === b.updateTime.getTime() &&
    a.name === b.name &&
    a.description === b.description &&
    a.permissions.length === b.permissions.length &&
    a.permissions.every((p, i) => p === b.permissions[i]) &&
    a.rateLimits.length === b.rateLimits.length &&
    a.rateLimits.every((l, i) => l.limit === b.rateLimits[i]!.limit && l.periodMs === b.rateLimits[i]!.periodMs)
  );
}

export class VerificationCache {
  private readonly salt = randomBytes(32).toString("base64");
  private readonly verified: LRUCache<string, VerifiedKey> | undefined;
  private readonly failed: LRUCache<string, true> | undefined;
  /** A key's digests: one, or (its previous secret during a rotation's overlap too) a set. */
  private readonly byKey = new Map<string, string | Set<string>>();
  /** By policy id: the cached keys on it and the version they share. */
  private readonly byPolicy = new Map<string, PolicyEntry>();
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

  /**
   * The policy as read from the store, with its grants: the record cached keys
   * already share when it is the same version, else a new one (which store()
   * then shares with keys loaded after it). Cold path only.
   */
  sharedPolicy(read: CheckedPolicy): SharedPolicy {
    const held = this.byPolicy.get(read.id);
    if (held && sameVersion(held.policy, read)) return held;
    return { policy: read, grants: parseGrants(read.permissions) };
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
      this.index(digest, verified);
    } else {
      this.verified?.delete(digest);
      this.failed?.set(digest, true);
    }
  }

  invalidateKey(keyId: string): void {
    this.generationCounter++;
    this.drop(this.byKey.get(keyId));
  }

  /** Drops every key on the policy at once: none is answered from the old version after this. */
  invalidatePolicy(policyId: string): void {
    this.generationCounter++;
    this.drop(this.byPolicy.get(policyId)?.digests);
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

  private drop(digests: string | Set<string> | undefined): void {
    if (typeof digests === "string") this.verified?.delete(digests);
    // A copy: each delete unindexes the digest from the set being read.
    else if (digests) for (const digest of [...digests]) this.verified?.delete(digest);
  }

  private index(digest: string, entry: VerifiedKey): void {
    const keyId = entry.key.id;
    const held = this.byKey.get(keyId);
    if (held === undefined) this.byKey.set(keyId, digest);
    else if (typeof held === "string") {
      if (held !== digest) this.byKey.set(keyId, new Set([held, digest]));
    } else held.add(digest);
    const policy = this.byPolicy.get(entry.policy.id);
    // The first key cached on a policy makes its version the shared one; a key
    // read with another version (its change not yet notified here) keeps its
    // own, and goes with the rest when the notification comes.
    if (policy) policy.digests.add(digest);
    else this.byPolicy.set(entry.policy.id, { policy: entry.policy, grants: entry.grants, digests: new Set([digest]) });
  }

  private unindex(entry: VerifiedKey, digest: string): void {
    const keyId = entry.key.id;
    const held = this.byKey.get(keyId);
    if (held === digest) this.byKey.delete(keyId);
    else if (typeof held === "object") {
      held.delete(digest);
      if (held.size === 0) this.byKey.delete(keyId);
    }
    const policy = this.byPolicy.get(entry.policy.id);
    policy?.digests.delete(digest);
    if (policy?.digests.size === 0) this.byPolicy.delete(entry.policy.id);
  }
}
