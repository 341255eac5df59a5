// Every RPC is served over the Connect protocol's JSON encoding on HTTP/1.1
// (what browsers and curl speak), and health streams over gRPC.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe("Connect JSON over HTTP/1.1", () => {
  let kw: RunningKeyward;
  let auth: Record<string, string>;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    auth = { authorization: `Bearer ${kw.adminKey}` };
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("serves every RPC of every service", async () => {
    const call = (method: Parameters<typeof connectJson>[1], body: unknown) => connectJson(kw.url, method, body, auth);
    expect(await call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.invoices.read" }] })).toMatchObject({ status: 200 });
    expect((await call(PermissionService.method.adminGetApiKeyPermissions, {})).body.permissions).toEqual(
      expect.arrayContaining([{ name: "billing.invoices.read", service: "billing", description: "", registered: true }]),
    );
    const created = await call(PolicyService.method.adminCreateApiKeyPolicy, { name: "readers", permissions: ["billing.invoices.read"] });
    const policy = created.body.policy as { id: string };
    expect(created).toMatchObject({ status: 200, body: { policy: { name: "readers", permissions: ["billing.invoices.read"] } } });
    expect((await call(PolicyService.method.adminGetApiKeyPolicies, {})).body.policies).toHaveLength(2);
    expect(await call(PolicyService.method.adminGetApiKeyPolicy, { id: policy.id })).toMatchObject({ status: 200, body: { policy: { id: policy.id, name: "readers" } } });
    // JSON field masks are comma-separated lowerCamel paths.
    expect(await call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: policy.id, description: "d", name: "x" }, updateMask: "description" })).toMatchObject({
      status: 200,
      body: { policy: { name: "readers", description: "d" } },
    });
    const expireTime = new Date(Date.now() + 86_400_000).toISOString();
    const key = await call(ApiKeyService.method.adminCreateApiKey, { name: "job", policyId: policy.id, expireTime });
    expect(key).toMatchObject({ status: 200, body: { apiKey: { name: "job", state: "API_KEY_STATE_ACTIVE" }, credentials: expect.stringMatching(/^kw_/) } });
    const id = (key.body.apiKey as { id: string }).id;
    expect(await call(ApiKeyService.method.adminGetApiKey, { id })).toMatchObject({ status: 200, body: { apiKey: { id } } });
    expect((await call(ApiKeyService.method.adminListApiKeys, { policyId: policy.id })).body.apiKeys).toHaveLength(1);
    expect(await call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, name: "job-2" }, updateMask: "name" })).toMatchObject({
      status: 200,
      body: { apiKey: { name: "job-2" } },
    });
    expect(await call(CheckService.method.checkKey, { key: key.body.credentials, permissions: ["billing.invoices.read"] })).toMatchObject({
      status: 200,
      body: { valid: true, code: "CHECK_CODE_VALID", apiKeyId: id, policyName: "readers" },
    });
    const rotated = await call(ApiKeyService.method.adminRotateApiKey, { id, overlap: "60s" });
    expect(rotated).toMatchObject({ status: 200, body: { credentials: expect.stringMatching(new RegExp(`^kw_${id}_`)), previousExpireTime: expect.any(String) } });
    expect(await call(ApiKeyService.method.adminRetireApiKey, { id })).toMatchObject({ status: 200, body: { apiKey: { state: "API_KEY_STATE_RETIRED" } } });
    const events = await call(AuditService.method.adminListAuditEvents, { target: `api_keys/${id}` });
    expect((events.body.auditEvents as Array<{ action: string }>).map((e) => e.action)).toEqual([
      "AdminRetireApiKey",
      "AdminRotateApiKey",
      "AdminUpdateApiKey",
      "AdminCreateApiKey",
    ]);
    expect(await call(ApiKeyService.method.adminDeleteApiKey, { id })).toMatchObject({ status: 200 });
    expect(await call(PolicyService.method.adminDeleteApiKeyPolicy, { id: policy.id })).toMatchObject({ status: 200 });
  });

  it("takes the admin API's newer fields over Connect JSON: ttl, labels, the key list's filters, policy paging, usage", async () => {
    const call = (method: Parameters<typeof connectJson>[1], body: unknown) => connectJson(kw.url, method, body, auth);
    const policy = (await call(PolicyService.method.adminCreateApiKeyPolicy, { name: "connect-newer", permissions: ["keyward.keys.check"] })).body.policy as { id: string };
    const created = await call(ApiKeyService.method.adminCreateApiKey, { name: "connect-newer-key", policyId: policy.id, ttl: "86400s", service: "", labels: { team: "payments" } });
    expect(created.status).toBe(200);
    const key = created.body.apiKey as { id: string; labels: Record<string, string>; expireTime: string; createTime: string };
    expect(key.labels).toEqual({ team: "payments" });
    expect(Math.abs(Date.parse(key.expireTime) - Date.parse(key.createTime) - 86_400_000)).toBeLessThan(1_000);
    // Exactly one of expire_time and ttl.
    expect((await call(ApiKeyService.method.adminCreateApiKey, { name: "connect-both", policyId: policy.id })).status).toBe(400);
    const ids = async (filter: Record<string, unknown>) =>
      ((await call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000, ...filter })).body.apiKeys as { id: string }[]).map((k) => k.id);
    expect(await ids({ label: ["team=payments"], nameContains: "CONNECT-NEWER" })).toEqual([key.id]);
    expect(await ids({ label: ["team=payments"], idleFor: "3600s" })).toEqual([]);
    expect(await ids({ label: ["team=payments"], service: "billing" })).toEqual([]);
    const page = await call(PolicyService.method.adminGetApiKeyPolicies, { pageSize: 1, nameContains: "connect-newer" });
    expect(page.body).toMatchObject({ policies: [{ id: policy.id }], nextPageToken: "" });
    const usage = await call(ApiKeyService.method.adminGetApiKeyUsage, { id: key.id });
    expect(usage).toMatchObject({ status: 200, body: { buckets: [] } });
  });

  it("answers a malformed JSON body with invalid_argument and an unknown path with 404", async () => {
    const res = await fetch(`${kw.url}/keyward.v1.PolicyService/AdminCreateApiKeyPolicy`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    expect((await fetch(`${kw.url}/nope`)).status).toBe(404);
  });

  it("streams health with grpc.health.v1.Health/Watch", async () => {
    const client = new grpc.Client(`127.0.0.1:${kw.port}`, grpc.credentials.createInsecure());
    try {
      const call = client.makeServerStreamRequest(
        `/${Health.typeName}/${Health.method.watch.name}`,
        (m: ReturnType<typeof create<typeof HealthCheckRequestSchema>>) => Buffer.from(toBinary(HealthCheckRequestSchema, m)),
        (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
        create(HealthCheckRequestSchema, { service: "keyward.v1.CheckService" }),
      );
      const first = await new Promise((resolve, reject) => {
        call.once("data", resolve);
        call.once("error", reject);
      });
      expect(first).toMatchObject({ status: HealthCheckResponse_ServingStatus.SERVING });
      call.cancel();
    } finally {
      client.close();
    }
  });
});

// REST and Connect JSON write empty fields the same way (README, "Empty fields
// in JSON"): a field without presence is always there with its zero value; a
// field with presence (a timestamp, a message) is there only when set.
describe.each(TEST_STORES)("empty fields in REST and Connect JSON on $name", (store) => {
  let kw: RunningKeyward;
  let auth: Record<string, string>;
  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, { method, headers: { ...auth, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    auth = { authorization: `Bearer ${kw.adminKey}` };
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("answers the same JSON for the same call, zero values included", async () => {
    const policy = (await rest("POST", "/api_keys/policies", { name: "plain", permissions: ["keyward.keys.check"] })).body.policy as { id: string };
    const created = await rest("POST", "/api_keys", { name: "plain-key", policyId: policy.id, ttl: "3600s" });
    const key = created.body.apiKey as { id: string };
    const pairs: Array<[Parameters<typeof connectJson>[1], unknown, string, string]> = [
      [ApiKeyService.method.adminGetApiKey, { id: key.id }, "GET", `/api_keys/${key.id}`],
      [ApiKeyService.method.adminListApiKeys, { policyId: policy.id }, "GET", `/api_keys?policyId=${policy.id}`],
      [ApiKeyService.method.adminListApiKeys, { nameContains: "nothing like it" }, "GET", "/api_keys?nameContains=nothing%20like%20it"],
      [PolicyService.method.adminGetApiKeyPolicy, { id: policy.id }, "GET", `/api_keys/policies/${policy.id}`],
      [PolicyService.method.adminGetApiKeyPolicies, { nameContains: "plain" }, "GET", "/api_keys/policies?nameContains=plain"],
      [CheckService.method.checkKey, { key: "not a key" }, "POST", "/api_keys:check"],
    ];
    for (const [method, body, verb, path] of pairs) {
      const overConnect = await connectJson(kw.url, method, body, auth);
      const overRest = await rest(verb, path, verb === "POST" ? body : undefined);
      expect(overConnect, `${method.name}`).toEqual(overRest);
    }
    const got = (await connectJson(kw.url, ApiKeyService.method.adminGetApiKey, { id: key.id }, auth)).body.apiKey as Record<string, unknown>;
    // No presence: always written, with the zero value.
    expect(got).toMatchObject({ allowedSubnets: [], constraints: [], service: "", labels: {}, rateLimits: [], retirerKeyId: "" });
    // Presence: left out while unset.
    expect(got).not.toHaveProperty("lastUsedTime");
    expect(got).not.toHaveProperty("retireTime");
    expect(got).not.toHaveProperty("credits");
    const list = await connectJson(kw.url, ApiKeyService.method.adminListApiKeys, { nameContains: "nothing like it" }, auth);
    expect(list.body).toEqual({ apiKeys: [], nextPageToken: "" });
    const check = await connectJson(kw.url, CheckService.method.checkKey, { key: "not a key" }, auth);
    expect(check.body).toMatchObject({ valid: false, code: "CHECK_CODE_MALFORMED", apiKeyId: "", permissions: [] });
  });
});
