// The verification cache on its own (issue #14 finding 10): failures are kept
// apart from verified keys and bounded on their own, so unknown keys — which
// cost an attacker nothing — never push a verified key out; among verified
// keys, the least recently used goes first; TTLs, invalidation and the
// generation rule hold for both.
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord, PolicyRecord } from "../../src/storage/records.js";
import { VerificationCache, type CacheSettings, type VerifiedKey } from "../../src/domain/verification-cache.js";

const SETTINGS: CacheSettings = { maxEntries: 4, ttlMs: 60_000, negativeMaxEntries: 3, negativeTtlMs: 10_000 };

function verified(keyId: string, policyId = "policy"): VerifiedKey {
  const at = new Date(0);
  const key: ApiKeyRecord = {
    id: keyId, name: keyId, policyId, expireTime: new Date(8.64e15), allowedSubnets: [], constraints: [], service: null, state: "active",
    createTime: at, updateTime: at, lastUsedTime: null, creatorKeyId: null, retireTime: null, retirerKeyId: null, rateLimits: [], credits: null, labels: {},
  };
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
});
