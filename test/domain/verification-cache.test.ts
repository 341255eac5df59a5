// The verification cache on its own (issue #14 finding 10): failures are kept
// apart from verified keys and bounded on their own, so unknown keys — which
// cost an attacker nothing — never push a verified key out; among verified
// keys, the least recently used goes first; TTLs, invalidation and the
// generation rule hold for both.
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord, PolicyRecord } from "../../src/storage/records.js";
import { VerificationCache, checkedKey, type CacheSettings, type VerifiedKey } from "../../src/domain/verification-cache.js";

const SETTINGS: CacheSettings = { maxEntries: 4, ttlMs: 60_000, negativeMaxEntries: 3, negativeTtlMs: 10_000 };

function keyRecord(keyId: string, policyId: string): ApiKeyRecord {
  const at = new Date(0);
  return {
    id: keyId, name: keyId, policyId, expireTime: new Date(8.64e15), allowedSubnets: [], constraints: [], service: null, state: "active",
    createTime: at, updateTime: at, lastUsedTime: null, creatorKeyId: null, retireTime: null, retirerKeyId: null, rateLimits: [], credits: null, labels: {},
  };
}

function verified(keyId: string, policyId = "policy"): VerifiedKey {
  const at = new Date(0);
  const key = checkedKey(keyRecord(keyId, policyId), policyId);
  const policy: PolicyRecord = { id: policyId, name: policyId, description: "", permissions: [], createTime: at, updateTime: at, apiKeyCount: 1, rateLimits: [] };
  return { key, policy, grants: [], secretExpireTime: null };
}

function cacheAt(settings: Partial<CacheSettings> = {}) {
  let now = 1_000;
  const cache = new VerificationCache({ ...SETTINGS, ...settings }, () => now);
  cache.reset(true);
  return { cache, advance: (ms: number) => void (now += ms) };
}

/** Stores a verdict as a check would: loaded at the current generation. */
const put = (cache: VerificationCache, name: string, value: VerifiedKey | undefined) => cache.store(cache.digest(name), value, cache.generation);
const get = (cache: VerificationCache, name: string) => cache.lookup(cache.digest(name));

describe("VerificationCache", () => {
  it("keeps every verified key however many failures are stored after it", () => {
    const { cache } = cacheAt();
    const a = verified("a");
    put(cache, "key-a", a);
    for (let i = 0; i < 1_000; i++) put(cache, `forged-${i}`, undefined);
    expect(get(cache, "key-a")).toBe(a);
    expect(cache.verifiedEntries).toBe(1);
    expect(cache.failedEntries).toBe(SETTINGS.negativeMaxEntries);
    // The most recent failures are still remembered.
    expect(get(cache, "forged-999")).toBeNull();
    expect(get(cache, "forged-0")).toBeUndefined();
  });

  it("evicts the least recently used verified key, not the oldest, when full", () => {
    const { cache } = cacheAt();
    const a = verified("a");
    put(cache, "key-a", a);
    for (const name of ["b", "c", "d"]) put(cache, `key-${name}`, verified(name));
    // "a" is the oldest but in steady use; "b" is idle.
    expect(get(cache, "key-a")).toBe(a);
    put(cache, "key-e", verified("e"));
    expect(get(cache, "key-a")).toBe(a);
    expect(get(cache, "key-b")).toBeUndefined();
    expect(cache.verifiedEntries).toBe(SETTINGS.maxEntries);
  });

  it("forgets a verified key after the TTL and a failure after the negative TTL", () => {
    const { cache, advance } = cacheAt();
    put(cache, "key-a", verified("a"));
    put(cache, "forged", undefined);
    advance(SETTINGS.negativeTtlMs);
    expect(get(cache, "forged")).toBeNull();
    advance(1);
    expect(get(cache, "forged")).toBeUndefined();
    expect(get(cache, "key-a")).not.toBeUndefined();
    advance(SETTINGS.ttlMs - SETTINGS.negativeTtlMs);
    expect(get(cache, "key-a")).toBeUndefined();
    expect(cache.verifiedEntries + cache.failedEntries).toBe(0);
  });

  it("drops a key's and a policy's entries on invalidation, including after evictions", () => {
    const { cache } = cacheAt();
    put(cache, "key-a", verified("a", "p1"));
    put(cache, "key-a-previous", verified("a", "p1"));
    put(cache, "key-b", verified("b", "p2"));
    put(cache, "key-c", verified("c", "p2"));
    put(cache, "key-d", verified("d", "p3"));
    cache.invalidateKey("a");
    expect(get(cache, "key-a")).toBeUndefined();
    expect(get(cache, "key-a-previous")).toBeUndefined();
    expect(get(cache, "key-b")).not.toBeUndefined();
    cache.invalidatePolicy("p2");
    expect(get(cache, "key-b")).toBeUndefined();
    expect(get(cache, "key-c")).toBeUndefined();
    expect(get(cache, "key-d")).not.toBeUndefined();
    expect(cache.verifiedEntries).toBe(1);
  });

  it("does not store a verdict loaded before an invalidation", () => {
    const { cache } = cacheAt();
    const generation = cache.generation;
    cache.invalidateKey("a");
    cache.store(cache.digest("key-a"), verified("a"), generation);
    cache.store(cache.digest("forged"), undefined, generation);
    expect(get(cache, "key-a")).toBeUndefined();
    expect(get(cache, "forged")).toBeUndefined();
  });

  it("stores nothing while disabled, and forgets everything on reset", () => {
    const { cache } = cacheAt();
    put(cache, "key-a", verified("a"));
    put(cache, "forged", undefined);
    cache.reset(false);
    expect(cache.verifiedEntries + cache.failedEntries).toBe(0);
    put(cache, "key-a", verified("a"));
    expect(get(cache, "key-a")).toBeUndefined();
    cache.reset(true);
    put(cache, "key-a", verified("a"));
    expect(get(cache, "key-a")).not.toBeUndefined();
  });

  it("remembers no failures when their bound is 0, and nothing when both are", () => {
    const { cache } = cacheAt({ negativeMaxEntries: 0 });
    put(cache, "key-a", verified("a"));
    put(cache, "forged", undefined);
    expect(get(cache, "forged")).toBeUndefined();
    expect(get(cache, "key-a")).not.toBeUndefined();
    const { cache: off } = cacheAt({ maxEntries: 0, negativeMaxEntries: 0 });
    put(off, "key-a", verified("a"));
    expect(get(off, "key-a")).toBeUndefined();
    expect(off.verifiedEntries + off.failedEntries).toBe(0);
  });

  it("counts hits and misses", () => {
    const { cache } = cacheAt();
    put(cache, "key-a", verified("a"));
    put(cache, "forged", undefined);
    get(cache, "key-a");
    get(cache, "forged");
    get(cache, "unknown");
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
  });

  describe("policies shared among cached keys (issue #16)", () => {
    const read = (permissions: string[], updatedAtMs = 0): PolicyRecord => ({
      id: "p", name: "p", description: "", permissions: [...permissions], createTime: new Date(0), updateTime: new Date(updatedAtMs), apiKeyCount: 0, rateLimits: [],
    });
    /** A key as a check loads it: its policy as just read from the store, shared when the cache holds that version. */
    function loaded(cache: VerificationCache, keyId: string, policy: PolicyRecord): VerifiedKey {
      const shared = cache.sharedPolicy(policy);
      const key = checkedKey(keyRecord(keyId, policy.id), shared.policy.id);
      return { key, policy: shared.policy, grants: shared.grants, secretExpireTime: null };
    }

    it("gives keys on one version of a policy one record and one grant list", () => {
      const { cache } = cacheAt();
      const a = loaded(cache, "a", read(["shop.orders.read"]));
      put(cache, "key-a", a);
      // Each load reads the policy afresh: an equal read is the held record.
      const b = loaded(cache, "b", read(["shop.orders.read"]));
      put(cache, "key-b", b);
      expect(b.policy).toBe(a.policy);
      expect(b.grants).toBe(a.grants);
      expect(b.grants).toEqual([{ kind: "exact", permission: { name: "shop.orders.read", service: "shop" } }]);
      // Nor does a key hold lists of its own for what it does not have.
      expect(b.key.allowedSubnets).toBe(a.key.allowedSubnets);
    });

    it("never hands a key another version than it read, and drops every key on a changed policy at once", () => {
      const { cache } = cacheAt();
      put(cache, "key-a", loaded(cache, "a", read(["shop.orders.read"])));
      put(cache, "key-b", loaded(cache, "b", read(["shop.orders.read"])));
      // Read after a change whose notification has not arrived yet: its own version.
      const changed = loaded(cache, "c", read(["shop.orders.read", "shop.orders.write"], 1));
      expect(changed.policy.permissions).toEqual(["shop.orders.read", "shop.orders.write"]);
      expect(changed.grants).toHaveLength(2);
      put(cache, "key-c", changed);
      cache.invalidatePolicy("p");
      for (const name of ["key-a", "key-b", "key-c"]) expect(get(cache, name)).toBeUndefined();
      expect(cache.verifiedEntries).toBe(0);
      // Keys loaded after the change share its version, not the dropped one.
      const a = loaded(cache, "a", read(["shop.orders.read", "shop.orders.write"], 1));
      put(cache, "key-a", a);
      const b = loaded(cache, "b", read(["shop.orders.read", "shop.orders.write"], 1));
      expect(b.policy).toBe(a.policy);
      expect(b.policy).not.toBe(changed.policy);
    });

    it("lets a policy's record go once no cached key is on it", () => {
      const { cache } = cacheAt({ maxEntries: 1 });
      const a = loaded(cache, "a", read(["shop.orders.read"]));
      put(cache, "key-a", a);
      put(cache, "key-other", loaded(cache, "other", { ...read([]), id: "q" })); // pushes key-a out
      expect(get(cache, "key-a")).toBeUndefined();
      expect(loaded(cache, "b", read(["shop.orders.read"])).policy).not.toBe(a.policy);
    });
  });
});
