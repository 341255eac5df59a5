// Issue #14: a restricted caller manages only what is at least as restricted
// as itself; a rotated-out secret cannot act as an admin; refusals do not show
// a policy's grants to a caller who may not read policies; deleting a policy
// audits every key it deletes. Through grpc-js against a real server.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState, ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("narrowing and rotated-out secrets on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let audit: GrpcClient<typeof AuditService>;
  let admin: string;
  let readers: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    admin = kw.adminKey;
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "jobs", permissions: [{ name: "jobs.runs.read" }] }, admin);
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.invoices.read" }] }, admin);
    readers = await newPolicy(["jobs.runs.read"]);
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
  });

  interface KeyInput {
    policyId?: string;
    allowedSubnets?: string[];
    constraints?: Array<{ type: ConstraintType; value: string }>;
  }
  const newPolicy = async (permissions: string[], as = admin) =>
    (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("policy"), permissions }, as)).policy!.id;
  const createKey = (input: KeyInput, as = admin) =>
    c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("key"), policyId: readers, expireTime: expiresIn(kw, DAY), ...input }, as);
  const codeOf = async (key: string) =>
    (await c.check.call(CheckService.method.checkKey, { key, permissions: ["jobs.runs.read"], method: "GET", path: "/keyward.v1.ApiKeyService/AdminGetApiKey", clientIp: "127.0.0.1" }, admin)).code;
  const rotate = (id: string, overlapSeconds: number, as: string) =>
    c.keys.call(ApiKeyService.method.adminRotateApiKey, { id, overlap: { seconds: BigInt(overlapSeconds) } }, as);
  const stateOf = async (id: string) => (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, admin)).apiKey!.state;

  /** Two callers holding keyward.api_keys.write (and policies.write): one limited by subnet, one by path. */
  async function restrictedCallers(): Promise<Array<{ label: string; credentials: string }>> {
    const issuer = await newPolicy(["keyward.api_keys.*", "keyward.policies.*", "jobs.runs.read"]);
    const bySubnet = await createKey({ policyId: issuer, allowedSubnets: ["127.0.0.0/8"] });
    const byPath = await createKey({
      policyId: issuer,
      constraints: [
        { type: ConstraintType.PREFIX, value: "/keyward.v1.ApiKeyService" },
        { type: ConstraintType.PREFIX, value: "/keyward.v1.PolicyService" },
      ],
    });
    return [
      { label: "subnet-limited", credentials: bySubnet.credentials },
      { label: "path-limited", credentials: byPath.credentials },
    ];
  }

  it("refuses a restricted caller rotating, retiring or deleting a key less restricted than itself", async () => {
    for (const caller of await restrictedCallers()) {
      const open = await createKey({});
      const id = open.apiKey!.id;
      // Rotation would hand the caller fresh credentials that work from anywhere, for any path.
      await expect(rotate(id, 0, caller.credentials), caller.label).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(c.keys.call(ApiKeyService.method.adminRetireApiKey, { id }, caller.credentials), caller.label).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id }, caller.credentials), caller.label).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      expect(await codeOf(open.credentials), caller.label).toBe(CheckCode.VALID);
      expect(await stateOf(id), caller.label).toBe(ApiKeyState.ACTIVE);

      // A key at least as restricted as the caller stays the caller's to manage.
      const narrow = await createKey({
        allowedSubnets: ["127.0.0.1/32"],
        constraints: [{ type: ConstraintType.PREFIX, value: "/keyward.v1.ApiKeyService/AdminGetApiKey" }],
      });
      const nid = narrow.apiKey!.id;
      const rotated = await rotate(nid, 0, caller.credentials);
      expect(await codeOf(rotated.credentials), caller.label).toBe(CheckCode.VALID);
      await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: nid }, caller.credentials);
      await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: nid }, caller.credentials);
    }
  });

  it("refuses a restricted caller changing or deleting a policy that holds a key less restricted than itself", async () => {
    for (const caller of await restrictedCallers()) {
      const shared = await newPolicy(["jobs.runs.read"]);
      const open = await createKey({ policyId: shared });
      const updates = [
        { policy: { id: shared, description: "mine now" }, updateMask: { paths: ["description"] } },
        { policy: { id: shared, permissions: ["jobs.runs.read", "keyward.api_keys.read"] }, updateMask: { paths: ["permissions"] } },
      ];
      for (const update of updates) {
        await expect(c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, update, caller.credentials), caller.label).rejects.toMatchObject({
          code: status.PERMISSION_DENIED,
        });
      }
      await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: shared }, caller.credentials), caller.label).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      expect(await codeOf(open.credentials), caller.label).toBe(CheckCode.VALID);

      // A policy whose every key is at least as restricted as the caller stays the caller's to manage.
      const own = await newPolicy(["jobs.runs.read"]);
      await createKey({ policyId: own, allowedSubnets: ["127.0.0.1/32"], constraints: [{ type: ConstraintType.EXACT, value: "/keyward.v1.ApiKeyService/AdminGetApiKey" }] });
      await c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: own, description: "ok" }, updateMask: { paths: ["description"] } }, caller.credentials);
      const deleted = await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: own }, caller.credentials);
      expect(deleted.deletedApiKeyCount, caller.label).toBe(1);
    }
  });

  it("lets a rotated-out secret pass checks during the overlap, but not rotate its key or take any admin action", async () => {
    const policy = await newPolicy(["keyward.*", "jobs.runs.read"]);
    const leaked = await createKey({ policyId: policy });
    const id = leaked.apiKey!.id;
    // The owner rotates the leaked key with an hour of overlap for its services.
    const owners = await rotate(id, 3600, admin);

    expect(await codeOf(leaked.credentials)).toBe(CheckCode.VALID);
    // A service still running on the old secret keeps checking keys until it switches.
    const asCaller = await c.check.call(CheckService.method.checkKey, { key: owners.credentials, permissions: ["jobs.runs.read"] }, leaked.credentials);
    expect(asCaller.code).toBe(CheckCode.VALID);

    // The old secret cannot take the key over: no self-rotation (which would kill the owner's secret) ...
    for (const overlap of [0, 60]) {
      const refused = rotate(id, overlap, leaked.credentials);
      await expect(refused).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      await expect(refused).rejects.toMatchObject({ details: expect.stringContaining("rotated out") });
    }
    expect(await codeOf(owners.credentials)).toBe(CheckCode.VALID);
    // ... and no other admin action either, read or write.
    const other = await createKey({});
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ["create a key", () => createKey({ policyId: policy }, leaked.credentials)],
      ["rotate another key", () => rotate(other.apiKey!.id, 0, leaked.credentials)],
      ["list keys", () => c.keys.call(ApiKeyService.method.adminListApiKeys, {}, leaked.credentials)],
      ["update its own key", () => c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, name: uniqueName("mine") }, updateMask: { paths: ["name"] } }, leaked.credentials)],
      ["create a policy", () => newPolicy(["jobs.runs.read"], leaked.credentials)],
    ];
    for (const [label, attempt] of attempts) await expect(attempt(), label).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await codeOf(other.credentials)).toBe(CheckCode.VALID);
    // Each refused write is in the audit log under the key's own id: a sign the old secret is in other hands.
    const refusals = await audit.call(AuditService.method.adminListAuditEvents, { actorKeyId: id, pageSize: 100 }, admin);
    expect(refusals.auditEvents).toContainEqual(expect.objectContaining({ action: "AdminRotateApiKey", target: `api_keys/${id}`, outcome: "Unauthenticated" }));

    // The owner's current secret may rotate itself; with no overlap the leaked secret dies at once.
    const again = await rotate(id, 0, owners.credentials);
    expect(again.previousExpireTime).toBeUndefined();
    expect(await codeOf(leaked.credentials)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(owners.credentials)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(again.credentials)).toBe(CheckCode.VALID);
  });

  it("ends a running overlap at the next rotation, whatever overlap that one gives", async () => {
    const first = await createKey({});
    const id = first.apiKey!.id;
    const second = await rotate(id, 3600, admin);
    // Rotating again during the overlap: the first secret dies, the second becomes the previous one.
    const third = await rotate(id, 3600, admin);
    expect(await codeOf(first.credentials)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(second.credentials)).toBe(CheckCode.VALID);
    expect(await codeOf(third.credentials)).toBe(CheckCode.VALID);
    const fourth = await rotate(id, 0, admin);
    for (const dead of [first, second, third]) expect(await codeOf(dead.credentials)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(fourth.credentials)).toBe(CheckCode.VALID);
  });

  it("names a policy's grants in a refusal only to a caller that may read policies", async () => {
    const secret = await newPolicy(["billing.invoices.read"]);
    const writer = await createKey({ policyId: await newPolicy(["keyward.api_keys.write"]) });
    const reader = await createKey({ policyId: await newPolicy(["keyward.api_keys.write", "keyward.policies.read"]) });
    const putOn = (as: string) => createKey({ policyId: secret }, as);

    const blind = await putOn(writer.credentials).catch((e: { code: number; details: string }) => e);
    expect(blind).toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining("grants more than your key holds") });
    expect((blind as { details: string }).details).not.toContain("billing");
    await expect(putOn(reader.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining("billing.invoices.read") });

    // Also for a caller managing the policy itself without keyward.policies.read.
    const manager = await createKey({ policyId: await newPolicy(["keyward.policies.write"]) });
    const refused = await c.policies
      .call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: secret, description: "x" }, updateMask: { paths: ["description"] } }, manager.credentials)
      .catch((e: { code: number; details: string }) => e);
    expect(refused).toMatchObject({ code: status.PERMISSION_DENIED });
    expect((refused as { details: string }).details).not.toContain("billing");
  });

  it("audits every key a policy deletion deletes, in the same transaction", async () => {
    const doomed = await newPolicy(["jobs.runs.read"]);
    const keys = [await createKey({ policyId: doomed }), await createKey({ policyId: doomed })];
    const deleted = await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: doomed }, admin);
    expect(deleted.deletedApiKeyCount).toBe(2);
    for (const key of keys) {
      const events = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${key.apiKey!.id}` }, admin);
      expect(events.auditEvents.map((e) => e.action)).toEqual(["AdminDeleteApiKeyPolicy", "AdminCreateApiKey"]);
      expect(events.auditEvents[0]).toMatchObject({ outcome: "OK", actorKeyId: kw.keyward.bootstrapKeyId, changedFields: [] });
    }
    const forPolicy = await audit.call(AuditService.method.adminListAuditEvents, { target: `policies/${doomed}` }, admin);
    expect(forPolicy.auditEvents[0]).toMatchObject({ action: "AdminDeleteApiKeyPolicy", outcome: "OK" });
  });
});
