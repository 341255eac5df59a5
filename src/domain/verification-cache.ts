// Verified keys (and recent failures), so that a warm check does no hashing,
// no argon2 and no I/O. Entries are keyed by an HMAC of the presented key
// under a per-process random key — never by the key itself — and hold what the
// verdict needs, so expiry, state, subnets, constraints and permissions are
// still judged on every check.
import { hash, randomBytes } from "node:crypto";
import type { ApiKeyRecord, PolicyRecord } from "../storage/records.js";
import type { Grant } from "./permissions.js";

export interface VerifiedKey {
  key: ApiKeyRecord;
  policy: PolicyRecord;
  grants: readonly Grant[];
  /** Set when the presented secret is the one a rotation replaced: it stops working then. */
  secretExpireTime: Date | null;
}

type Entry = { verified: VerifiedKey; storedAt: number } | { verified: undefined; storedAt: number };

export interface CacheSettings {
  maxEntries: number;
  /** The oldest a cached verdict may be, whatever notifications say. */
  ttlMs: number;
  /** How long a failed verification (unknown key, wrong secret) is remembered. */
  negativeTtlMs: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

export class VerificationCache {
  private readonly salt = randomBytes(32).toString("base64");
  private readonly entries = new Map<string, Entry>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byPolicy = new Map<string, Set<string>>();
  /** Bumped by every invalidation: a verdict loaded before a bump is not cached after it. */
  private generationCounter = 0;
  private enabled = false;
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly settings: CacheSettings,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  // One-shot hashing: an HMAC object per check cost several times more, and
  // the digest is only ever a key into this process's own map.
  digest(presented: string): string {
    return hash("sha256", this.salt + presented, "base64url");
  }

  get size(): number {
    return this.entries.size;
  }

  get generation(): number {
    return this.generationCounter;
  }

  /** A cached verdict: the verified key, `null` for a remembered failure, undefined for a miss. */
  lookup(digest: string): VerifiedKey | null | undefined {
    const entry = this.enabled ? this.entries.get(digest) : undefined;
    if (entry) {
      const age = this.nowMs() - entry.storedAt;
      if (age <= (entry.verified ? this.settings.ttlMs : this.settings.negativeTtlMs)) {
        this.stats.hits++;
        return entry.verified ?? null;
      }
      this.remove(digest);
    }
    this.stats.misses++;
    return undefined;
  }

  /** Stores a verdict loaded while the cache stood at `generation`, unless something changed since. */
  store(digest: string, verified: VerifiedKey | undefined, generation: number): void {
    if (!this.enabled || generation !== this.generationCounter) return;
    this.remove(digest);
    if (this.entries.size >= this.settings.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
    this.entries.set(digest, { verified, storedAt: this.nowMs() });
    if (verified) {
      index(this.byKey, verified.key.id, digest);
      index(this.byPolicy, verified.policy.id, digest);
    }
  }

  invalidateKey(keyId: string): void {
    this.generationCounter++;
    for (const digest of this.byKey.get(keyId) ?? []) this.remove(digest);
  }

  invalidatePolicy(policyId: string): void {
    this.generationCounter++;
    for (const digest of this.byPolicy.get(policyId) ?? []) this.remove(digest);
  }

  /** Drops everything; with `enabled` false, nothing is cached until enabled again. */
  reset(enabled: boolean): void {
    this.generationCounter++;
    this.entries.clear();
    this.byKey.clear();
    this.byPolicy.clear();
    this.enabled = enabled;
  }

  private remove(digest: string): void {
    const entry = this.entries.get(digest);
    if (!entry) return;
    this.entries.delete(digest);
    if (entry.verified) {
      unindex(this.byKey, entry.verified.key.id, digest);
      unindex(this.byPolicy, entry.verified.policy.id, digest);
    }
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
