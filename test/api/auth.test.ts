// Authentication and authorization of Keyward's own API (design §5), over the
// Connect protocol's JSON encoding with fetch and over grpc-js.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("authentication and authorization on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.invoices.read" }, { name: "billing.invoices.write" }] },
      kw.adminKey,
    );
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const listPolicies = (headers: Record<string, string>) => connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicies, {}, headers);

  it("accepts the key as Authorization: Bearer, api-key or x-api-key", async () => {
    for (const headers of <Array<Record<string, string>>>[
      { authorization: `Bearer ${kw.adminKey}` },
      { authorization: `bearer ${kw.adminKey}` },
      { "api-key": kw.adminKey },
      { "x-api-key": kw.adminKey },
    ]) {
      const res = await listPolicies(headers);
      expect(res.status, JSON.stringify(Object.keys(headers))).toBe(200);
    }
  });

  it("answers UNAUTHENTICATED (401) without a valid key, saying nothing of why a key failed", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["no key", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["basic auth", { authorization: "Basic dXNlcjpwYXNz" }],
      ["garbage", { authorization: "Bearer nonsense" }],
      ["mistyped", { authorization: `Bearer ${kw.adminKey.slice(0, -1)}${kw.adminKey.endsWith("x") ? "y" : "x"}` }],
    ];
    for (const [label, headers] of cases) {
      const res = await listPolicies(headers);
      expect(res.status, label).toBe(401);
      expect(res.body.code, label).toBe("unauthenticated");
      expect(JSON.stringify(res.body), label).not.toContain(kw.adminKey.slice(20));
    }
    await expect(c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {})).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("tells a caller who sends the key without the Bearer prefix how to send it, without echoing the key", async () => {
    const res = await listPolicies({ authorization: kw.adminKey });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: "unauthenticated", message: "the Authorization header holds no Bearer key: send the key as 'Authorization: Bearer <key>'" });
    const missing = await listPolicies({});
    expect(missing.body.message).toBe("missing API key: send the key as 'Authorization: Bearer <key>'");
  });

  it("refuses an expired caller key", async () => {
    const { credentials } = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("soon"), policyId: (await keyWithPermissions(kw, c, ["keyward.policies.read"])).policyId, expireTime: expiresIn(kw, 60_000) },
      kw.adminKey,
    );
    expect((await listPolicies({ authorization: `Bearer ${credentials}` })).status).toBe(200);
    kw.clock.advance(120_000);
    const res = await listPolicies({ authorization: `Bearer ${credentials}` });
    expect(res).toMatchObject({ status: 401, body: { code: "unauthenticated", message: "the API key has expired" } });
  });

  it("needs the RPC's keyward.* permission, else PERMISSION_DENIED (403)", async () => {
    const checker = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    const registrar = await keyWithPermissions(kw, c, ["keyward.permissions.register"]);
    const reader = await keyWithPermissions(kw, c, ["keyward.api_keys.read", "keyward.policies.read"]);

    // CheckKey needs keyward.keys.check.
    expect((await connectJson(kw.url, CheckService.method.checkKey, { key: kw.adminKey }, { authorization: `Bearer ${checker.credentials}` })).body).toMatchObject({ valid: true });
    const denied = await connectJson(kw.url, CheckService.method.checkKey, { key: kw.adminKey }, { authorization: `Bearer ${reader.credentials}` });
    expect(denied).toMatchObject({ status: 403, body: { code: "permission_denied" } });
    expect(denied.body.message).toContain("keyward.keys.check");

    // RegisterPermissions needs keyward.permissions.register.
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "mail", permissions: [{ name: "mail.messages.send" }] }, registrar.credentials);
    await expect(
      c.permissions.call(PermissionService.method.registerPermissions, { service: "mail", permissions: [] }, checker.credentials),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    // Reads need *.read; writes need *.write.
    await c.keys.call(ApiKeyService.method.adminListApiKeys, {}, reader.credentials);
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: checker.id }, reader.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "x" }, reader.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, checker.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("never lets a caller grant, or manage, more than its own policy holds", async () => {
    // Every keyward permission, but no billing ones.
    const operator = await keyWithPermissions(kw, c, ["keyward.*"]);
    const as = operator.credentials;
    const createPolicy = (permissions: string[]) =>
      c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("esc"), permissions }, as);

    for (const escalation of [["billing.invoices.read"], ["billing.*"], ["*"], ["keyward.keys.check", "billing.invoices.write"]]) {
      await expect(createPolicy(escalation), escalation.join()).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    }
    const narrow = await createPolicy(["keyward.keys.check", "keyward.policies.*"]);
    expect(narrow.policy!.permissions).toEqual(["keyward.keys.check", "keyward.policies.*"]);

    // Widening a policy it manages beyond its own holdings is refused, and changes nothing.
    await expect(
      c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: narrow.policy!.id, permissions: ["billing.invoices.read"] } }, as),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const unchanged = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, kw.adminKey);
    expect(unchanged.policies.find((p) => p.id === narrow.policy!.id)!.permissions).toEqual(["keyward.keys.check", "keyward.policies.*"]);

    // A key on a policy holding more than the caller is refused, on create and on update.
    const billing = await keyWithPermissions(kw, c, ["billing.invoices.read"]);
    await expect(
      c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("k"), policyId: billing.policyId, expireTime: expiresIn(kw, DAY) }, as),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const own = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("k"), policyId: narrow.policy!.id, expireTime: expiresIn(kw, DAY) },
      as,
    );
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: own.apiKey!.id, policyId: billing.policyId } }, as),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    // Keys and policies holding more than the caller cannot be changed or deleted by it.
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: billing.id }, as)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: billing.policyId }, as)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(
      c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: billing.policyId, name: "hijacked" } }, as),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    // The bootstrap admin holds `*` and can grant anything.
    const wide = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: uniqueName("wide"), permissions: ["billing.*", "keyward.*"] },
      kw.adminKey,
    );
    expect(wide.policy!.permissions).toEqual(["billing.*", "keyward.*"]);
  });

  it("serves health without a key, over gRPC and at /healthz", async () => {
    const res = await connectJson(kw.url, Health.method.check, {});
    expect(res).toMatchObject({ status: 200, body: { status: "SERVING" } });
    const unknown = await connectJson(kw.url, Health.method.check, { service: "nope.v1.Nope" });
    expect(unknown.body.code).toBe("not_found");
    const healthz = await fetch(`${kw.url}/healthz`);
    expect(healthz.status).toBe(200);
  });
});
