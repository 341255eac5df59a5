// Issue #14 finding 10: well-formed forged keys cost an attacker nothing (the
// checksum is public), so they must not push verified keys out of the
// verification cache — otherwise every real caller goes back through argon2
// and, at scale, into RESOURCE_EXHAUSTED. Failures are remembered in a store
// of their own, bounded by KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { formatKey } from "../../src/domain/key-format.js";
import { newId, randomBase62 } from "../../src/domain/random.js";
import { grpcClients, keyWithPermissions, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { metricValue } from "../support/metrics.js";
import { TEST_STORES } from "../support/stores.js";

const MAX_ENTRIES = 50;
const NEGATIVE_MAX_ENTRIES = 20;
const FORGED = 500;

describe.each(TEST_STORES)("verification cache under forged keys ($name)", (testStore) => {
  let kw: RunningKeyward;
  let c: Clients;
  let service: { id: string; credentials: string };

  beforeAll(async () => {
    kw = await startKeyward(await testStore.create(), {
      config: { cache: { maxEntries: MAX_ENTRIES, negativeMaxEntries: NEGATIVE_MAX_ENTRIES, ttlMs: 60_000, negativeTtlMs: 10_000 } },
    });
    c = grpcClients(kw.port);
    service = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const check = (key: string, caller = kw.adminKey) =>
    c.check.call(CheckService.method.checkKey, { key }, caller).then(
      (v) => v.code,
      (e: { code: number }) => (e.code === status.RESOURCE_EXHAUSTED ? "RESOURCE_EXHAUSTED" : Promise.reject(e)),
    );
  const argon2Runs = () => metricValue(kw.url, "keyward_argon2_verifications_total");
  const entries = (kind: string) => metricValue(kw.url, "keyward_cache_entries", { kind });

  /** Checks `keys` in batches (as a flood from many connections would), returning every verdict. */
  async function flood(keys: string[]): Promise<Array<CheckCode | string>> {
    const verdicts: Array<CheckCode | string> = [];
    for (let i = 0; i < keys.length; i += 25) verdicts.push(...(await Promise.all(keys.slice(i, i + 25).map((k) => check(k)))));
    return verdicts;
  }

  it("keeps warm keys warm through many more distinct forged keys than the cache holds", async () => {
    // Warm the admin key (it authenticates every call) and a service key.
    expect(await check(service.credentials)).toBe(CheckCode.VALID);
    const before = await argon2Runs();

    // Well-formed keys with valid checksums and random ids: unknown to the store.
    const forged = Array.from({ length: FORGED }, () => formatKey("kw", newId(), randomBase62(33)));
    const verdicts = await flood(forged);
    expect(verdicts.every((v) => v === CheckCode.NOT_FOUND)).toBe(true);

    // The service key, idle throughout the flood, is still answered from memory.
    expect(await check(service.credentials)).toBe(CheckCode.VALID);
    expect(await check(service.credentials, service.credentials)).toBe(CheckCode.VALID);
    expect(await argon2Runs()).toBe(before);

    // Forged keys still read as unknown, and a broken checksum as malformed.
    expect(await check(forged[0]!)).toBe(CheckCode.NOT_FOUND);
    expect(await check(forged[FORGED - 1]!)).toBe(CheckCode.NOT_FOUND);
    const tampered = forged[1]!.slice(0, -1) + (forged[1]!.endsWith("A") ? "B" : "A");
    expect(await check(tampered)).toBe(CheckCode.MALFORMED);

    // Remembered failures are bounded on their own; verified keys are untouched.
    expect(await entries("failed")).toBeLessThanOrEqual(NEGATIVE_MAX_ENTRIES);
    expect(await entries("verified")).toBe(2);
  }, 60_000);

  it("does not let forged secrets for a real key id add verified entries or evict it", async () => {
    expect(await check(service.credentials)).toBe(CheckCode.VALID);

    // The key id is public; the secrets are not: each one costs argon2 (within the budget), and fails.
    const forged = Array.from({ length: 60 }, () => formatKey("kw", service.id, randomBase62(33)));
    const verdicts = await flood(forged);
    expect(verdicts.every((v) => v === CheckCode.NOT_FOUND || v === "RESOURCE_EXHAUSTED")).toBe(true);
    expect(verdicts).toContain(CheckCode.NOT_FOUND);

    const before = await argon2Runs();
    expect(await check(service.credentials)).toBe(CheckCode.VALID);
    expect(await argon2Runs()).toBe(before);
    // Still just the admin key and the service key: a positive needs a secret that verifies.
    expect(await entries("verified")).toBe(2);
    expect(await entries("failed")).toBeLessThanOrEqual(NEGATIVE_MAX_ENTRIES);
  });
});
