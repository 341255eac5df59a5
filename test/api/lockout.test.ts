// No change through the API may leave Keyward without an active key able to
// administer it (issue #15, defect 4): the last admin key cannot delete its
// own policy, retire or delete itself, move to a lesser policy, or narrow its
// policy; with a second admin key the same change goes through.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const LOCKOUT = /no active key able to administer Keyward/;

describe.each(TEST_STORES)("admin lockout on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let admin: string;
  let adminId: string;
  let adminPolicy: string;
  let readers: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    admin = kw.adminKey;
    adminId = kw.keyward.bootstrapKeyId!;
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    adminPolicy = policies.find((p) => p.name === "keyward-admin")!.id;
    readers = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "readers", permissions: ["keyward.api_keys.read"] }, admin)).policy!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const works = async (key: string) =>
    (await c.check.call(CheckService.method.checkKey, { key, permissions: ["keyward.policies.write"], clientIp: "127.0.0.1" }, key)).code === CheckCode.VALID;
  const refused = { code: status.FAILED_PRECONDITION, details: expect.stringMatching(LOCKOUT) };

  it("refuses every change that would remove the last admin key, and the key keeps working", async () => {
    await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: adminPolicy }, admin)).rejects.toMatchObject(refused);
    await expect(c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: adminId }, admin)).rejects.toMatchObject(refused);
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: adminId }, admin)).rejects.toMatchObject(refused);
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: adminId, policyId: readers }, updateMask: { paths: ["policy_id"] } }, admin),
    ).rejects.toMatchObject(refused);
    await expect(
      c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: adminPolicy, permissions: ["keyward.api_keys.write"] }, updateMask: { paths: ["permissions"] } }, admin),
    ).rejects.toMatchObject(refused);
    // A constrained key may be unable to reach the admin RPCs, so it does not count.
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: adminId, constraints: [{ type: ConstraintType.PREFIX, value: "/jobs" }] } }, admin),
    ).rejects.toMatchObject(refused);
    expect(await works(admin)).toBe(true);
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    expect(policies.find((p) => p.id === adminPolicy)).toMatchObject({ permissions: ["*"], apiKeyCount: 1 });
  });

  it("a subnet-restricted key still counts, and with another admin key the same changes go through", async () => {
    const everything = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("admins"), permissions: ["*"] }, admin)).policy!.id;
    const other = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("admin"), policyId: everything, expireTime: expiresIn(kw, DAY), allowedSubnets: ["127.0.0.0/8"] },
      admin,
    );
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: adminId }, admin);
    expect(await works(other.credentials)).toBe(true);
    // Now the subnet-limited key is the last: deleting its policy (and so itself) is refused.
    await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: everything }, other.credentials)).rejects.toMatchObject(refused);
    // keyward.* covers both admin permissions: a key on it counts too.
    const keywardOnly = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("keyward"), permissions: ["keyward.*"] }, other.credentials)).policy!.id;
    const third = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("admin"), policyId: keywardOnly, expireTime: expiresIn(kw, DAY), allowedSubnets: ["127.0.0.1/32"] },
      other.credentials,
    );
    expect((await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: everything }, other.credentials)).deletedApiKeyCount).toBe(1);
    expect(await works(third.credentials)).toBe(true);
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: third.apiKey!.id }, third.credentials)).rejects.toMatchObject(refused);
    await expect(c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: third.apiKey!.id }, third.credentials)).rejects.toMatchObject(refused);
  });

  it("two concurrent deletions of the last two admin keys: exactly one goes through", async () => {
    const fresh = await startKeyward(await store.create());
    const f = grpcClients(fresh.port);
    try {
      const { policies } = await f.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, fresh.adminKey);
      const policyId = policies.find((p) => p.name === "keyward-admin")!.id;
      const create = (name: string) => f.keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId, expireTime: expiresIn(fresh, DAY) }, fresh.adminKey);
      const a = await create("a");
      const b = await create("b");
      await f.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: fresh.keyward.bootstrapKeyId! }, a.credentials);
      // Both callers verified (and cached) first, so that both deletions pass authentication and meet in the store.
      await f.keys.call(ApiKeyService.method.adminGetApiKey, { id: a.apiKey!.id }, b.credentials);
      // Each deletes the other at once: either alone leaves one admin key, both together would leave none.
      const results = await Promise.allSettled([
        f.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: b.apiKey!.id }, a.credentials),
        f.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: a.apiKey!.id }, b.credentials),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected")!;
      // Met in the store, the guard refuses one (FAILED_PRECONDITION). The second may
      // also come after the first committed (always on PGlite's one session, and on a
      // loaded machine on PostgreSQL too): then its own key is gone (UNAUTHENTICATED).
      // Both going through, which leaves no admin key, is what must never happen.
      expect([refused.code, 16]).toContain((rejected.reason as { code: number }).code);
    } finally {
      f.close();
      await fresh.close();
    }
  });
});
