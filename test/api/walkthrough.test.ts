// The admin flow of the README through the stock grpc-js client: register
// permissions, policy, key, every CheckKey verdict, updates, deletes.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { formatKey } from "../../src/domain/key-format.js";
import { randomBase62 } from "../../src/domain/random.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const BILLING = [
  { name: "billing.invoices.read", description: "Read invoices" },
  { name: "billing.invoices.write", description: "Issue invoices" },
  { name: "billing.refunds.create", description: "Refund a payment" },
];

describe.each(TEST_STORES)("admin walkthrough on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let admin: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    admin = kw.adminKey;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const check = (key: string, permissions: string[] = []) =>
    c.check.call(CheckService.method.checkKey, { key, permissions }, admin);

  it("issued a bootstrap admin key that authenticates", async () => {
    expect(admin).toMatch(/^kw_[0-9A-Za-z]{16}_[0-9A-Za-z]{39}$/);
    const verdict = await check(admin, ["keyward.api_keys.write"]);
    expect(verdict).toMatchObject({ valid: true, code: CheckCode.VALID, apiKeyName: "keyward-admin", policyName: "keyward-admin" });
  });

  it("collects a service's permissions and lists them with Keyward's own", async () => {
    const registered = await c.permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: BILLING }, admin);
    expect(registered.permissions.map((p) => p.name)).toEqual(BILLING.map((p) => p.name).sort());
    const all = await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, admin);
    const names = all.permissions.map((p) => p.name);
    expect(names).toContain("keyward.keys.check");
    expect(all.permissions.find((p) => p.name === "billing.refunds.create")).toMatchObject({
      service: "billing",
      description: "Refund a payment",
      registered: true,
    });
  });

  it("takes a policy and a key to VALID, PERMISSION_DENIED, VALID after widening, NOT_FOUND after deleting the policy", async () => {
    const { policy } = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: "invoice-reader", description: "reads invoices", permissions: ["billing.invoices.read"] },
      admin,
    );
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: "reporting-job", policyId: policy!.id, expireTime: expiresIn(kw, 30 * DAY) },
      admin,
    );
    expect(created.credentials).toMatch(/^kw_/);
    expect(created.apiKey).toMatchObject({ name: "reporting-job", policyId: policy!.id, state: ApiKeyState.ACTIVE });
    const key = created.credentials;

    expect(await check(key, ["billing.invoices.read"])).toMatchObject({
      valid: true,
      code: CheckCode.VALID,
      apiKeyId: created.apiKey!.id,
      apiKeyName: "reporting-job",
      policyId: policy!.id,
      policyName: "invoice-reader",
      permissions: ["billing.invoices.read"],
    });
    expect(await check(key, [])).toMatchObject({ valid: true, code: CheckCode.VALID });
    expect(await check(key, ["billing.invoices.read", "billing.refunds.create"])).toMatchObject({
      valid: false,
      code: CheckCode.PERMISSION_DENIED,
      apiKeyId: created.apiKey!.id,
      apiKeyName: "",
    });

    await c.policies.call(
      PolicyService.method.adminUpdateApiKeyPolicy,
      { policy: { id: policy!.id, permissions: ["billing.invoices.read", "billing.refunds.*"] }, updateMask: { paths: ["permissions"] } },
      admin,
    );
    expect(await check(key, ["billing.invoices.read", "billing.refunds.create"])).toMatchObject({ valid: true, code: CheckCode.VALID });

    const deleted = await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: policy!.id }, admin);
    expect(deleted.deletedApiKeyCount).toBe(1);
    expect(await check(key, [])).toMatchObject({ valid: false, code: CheckCode.NOT_FOUND, apiKeyId: "" });
    await expect(c.keys.call(ApiKeyService.method.adminGetApiKey, { id: created.apiKey!.id }, admin)).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it("answers MALFORMED for a mistyped key and NOT_FOUND for an unknown id or a wrong secret", async () => {
    const { apiKey, credentials } = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("verdicts"), policyId: await adminPolicyId(), expireTime: expiresIn(kw, DAY) },
      admin,
    );
    const last = credentials.at(-1) === "A" ? "B" : "A";
    expect(await check(credentials.slice(0, -1) + last)).toMatchObject({ valid: false, code: CheckCode.MALFORMED });
    expect(await check("not a key")).toMatchObject({ code: CheckCode.MALFORMED });
    expect(await check("")).toMatchObject({ code: CheckCode.MALFORMED });
    expect(await check(formatKey("kw", randomBase62(16), randomBase62(33)))).toMatchObject({ code: CheckCode.NOT_FOUND });
    const forged = formatKey("kw", apiKey!.id, randomBase62(33));
    expect(await check(forged)).toMatchObject({ valid: false, code: CheckCode.NOT_FOUND, apiKeyId: "" });
  });

  it("answers EXPIRED once the key's expire_time has passed", async () => {
    const { credentials, apiKey } = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("short-lived"), policyId: await adminPolicyId(), expireTime: expiresIn(kw, 60_000) },
      admin,
    );
    expect(await check(credentials)).toMatchObject({ code: CheckCode.VALID });
    kw.clock.advance(61_000);
    expect(await check(credentials)).toMatchObject({ valid: false, code: CheckCode.EXPIRED, apiKeyId: apiKey!.id });
  });

  it("refuses a malformed requested permission as INVALID_ARGUMENT", async () => {
    await expect(check(admin, ["Billing"])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("permissions[0]") });
  });

  it("gets, lists in pages, filters by policy, updates and deletes keys", async () => {
    const { policy } = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: uniqueName("paging"), permissions: ["billing.invoices.read"] },
      admin,
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { apiKey } = await c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: uniqueName("page-key"), policyId: policy!.id, expireTime: expiresIn(kw, DAY) },
        admin,
      );
      ids.push(apiKey!.id);
    }
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 2, pageToken, policyId: policy!.id }, admin);
      expect(page.apiKeys.length).toBeLessThanOrEqual(2);
      seen.push(...page.apiKeys.map((k) => k.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "");
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    const all = await c.keys.call(ApiKeyService.method.adminListApiKeys, {}, admin);
    expect(all.apiKeys.length).toBeGreaterThan(5);
    await expect(c.keys.call(ApiKeyService.method.adminListApiKeys, { pageToken: "garbage!" }, admin)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("page_token"),
    });

    const id = ids[0]!;
    const got = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, admin);
    expect(got.apiKey).toMatchObject({ id, policyId: policy!.id, state: ApiKeyState.ACTIVE });

    const renamed = await c.keys.call(
      ApiKeyService.method.adminUpdateApiKey,
      { apiKey: { id, name: "renamed-key", policyId: "Ign0redW1th0utMa" }, updateMask: { paths: ["name"] } },
      admin,
    );
    expect(renamed.apiKey).toMatchObject({ id, name: "renamed-key", policyId: policy!.id });
    const later = expiresIn(kw, 2 * DAY);
    const moved = await c.keys.call(
      ApiKeyService.method.adminUpdateApiKey,
      { apiKey: { id, policyId: await adminPolicyId(), expireTime: later } },
      admin,
    );
    expect(moved.apiKey).toMatchObject({ name: "renamed-key", policyId: await adminPolicyId(), expireTime: later });

    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, name: "x" }, updateMask: { paths: ["state"] } }, admin),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("update_mask.paths[0]") });
    const other = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: ids[1]! }, admin);
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, name: other.apiKey!.name }, updateMask: { paths: ["name"] } }, admin),
    ).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: "Unknown000000000", name: "y" }, updateMask: { paths: ["name"] } }, admin),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });

    await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id }, admin);
    await expect(c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, admin)).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id }, admin)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("validates key creation and changes nothing on a bad request", async () => {
    const policyId = await adminPolicyId();
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ["missing expiry", { name: "k1", policyId }, status.INVALID_ARGUMENT, "expire_time"],
      ["past expiry", { name: "k2", policyId, expireTime: expiresIn(kw, -1000) }, status.INVALID_ARGUMENT, "expire_time"],
      ["beyond the max TTL", { name: "k3", policyId, expireTime: expiresIn(kw, 400 * DAY) }, status.INVALID_ARGUMENT, "expire_time"],
      ["blank name", { name: "  ", policyId, expireTime: expiresIn(kw, DAY) }, status.INVALID_ARGUMENT, "name"],
      ["control character in name", { name: "a\u0007b", policyId, expireTime: expiresIn(kw, DAY) }, status.INVALID_ARGUMENT, "name"],
      ["no policy", { name: "k4", expireTime: expiresIn(kw, DAY) }, status.INVALID_ARGUMENT, "policy_id"],
      ["unknown policy", { name: "k5", policyId: "Unknown000000000", expireTime: expiresIn(kw, DAY) }, status.NOT_FOUND, "policy_id"],
    ];
    const before = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, admin);
    for (const [label, input, code, field] of cases) {
      await expect(c.keys.call(ApiKeyService.method.adminCreateApiKey, input, admin), label).rejects.toMatchObject({
        code,
        details: expect.stringContaining(field),
      });
    }
    const after = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, admin);
    expect(after.apiKeys.length).toBe(before.apiKeys.length);
    const name = uniqueName("dup");
    await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId, expireTime: expiresIn(kw, DAY) }, admin);
    await expect(
      c.keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId, expireTime: expiresIn(kw, DAY) }, admin),
    ).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
  });

  it("validates policies: registered permissions only, patterns over registered services, unique names", async () => {
    const create = (name: string, permissions: string[]) =>
      c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name, permissions }, admin);
    await expect(create(uniqueName("p"), ["billing.invoices.delete"])).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("not a registered permission"),
    });
    await expect(create(uniqueName("p"), ["billing.invoices.read", "shipping.*"])).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("permissions[1]"),
    });
    await expect(create(uniqueName("p"), ["billing"])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const { policy } = await create(uniqueName("p"), ["billing.*", "billing.*", "keyward.keys.check", "*"]);
    expect(policy!.permissions).toEqual(["billing.*", "keyward.keys.check", "*"]);
    await expect(create(policy!.name, [])).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(
      c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: "Unknown000000000", name: "x" } }, admin),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: "Unknown000000000" }, admin)).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    const listed = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    expect(listed.policies.map((p) => p.name)).toContain(policy!.name);
  });

  it("keeps a permission a service stopped registering on its policies, flagged unregistered", async () => {
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "ledger", permissions: [{ name: "ledger.entries.read" }, { name: "ledger.entries.write" }] },
      admin,
    );
    const { policy } = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: uniqueName("ledger"), permissions: ["ledger.entries.write", "ledger.*"] },
      admin,
    );
    const { credentials } = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("ledger-key"), policyId: policy!.id, expireTime: expiresIn(kw, DAY) },
      admin,
    );
    // Registration replaces the list: `write` is dropped, `audit` is new.
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "ledger", permissions: [{ name: "ledger.entries.read" }, { name: "ledger.audit.read" }] },
      admin,
    );
    const all = await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, admin);
    expect(all.permissions.find((p) => p.name === "ledger.entries.write")).toMatchObject({ registered: false });
    // The explicit grant still holds; the pattern covers what is registered now, and nothing else.
    expect(await check(credentials, ["ledger.entries.write"])).toMatchObject({ code: CheckCode.VALID });
    expect(await check(credentials, ["ledger.audit.read"])).toMatchObject({ code: CheckCode.VALID });
    expect(await check(credentials, ["ledger.never.registered"])).toMatchObject({ code: CheckCode.PERMISSION_DENIED });
    // New grants must name registered permissions.
    await expect(
      c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("x"), permissions: ["ledger.entries.write"] }, admin),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    // Re-registering the same list is idempotent.
    const again = await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "ledger", permissions: [{ name: "ledger.entries.read" }, { name: "ledger.audit.read" }] },
      admin,
    );
    expect(again.permissions.filter((p) => p.registered).map((p) => p.name)).toEqual(["ledger.audit.read", "ledger.entries.read"]);
  });

  it("rejects registrations that break the naming rules", async () => {
    const register = (service: string, names: string[]) =>
      c.permissions.call(PermissionService.method.registerPermissions, { service, permissions: names.map((name) => ({ name })) }, admin);
    await expect(register("Billing", [])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("service") });
    await expect(register("billing", ["shipping.parcels.read"])).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("permissions[0].name"),
    });
    // Two to five segments (issue #17): one or six is refused.
    await expect(register("billing", ["billing"])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(register("billing", ["billing.a.b.c.d.e"])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(register("billing", ["billing.a.b", "billing.a.b"])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(register("keyward", ["keyward.x.y"])).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  async function adminPolicyId(): Promise<string> {
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    return policies.find((p) => p.name === "keyward-admin")!.id;
  }
});
