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
import { connectJson } from "../support/clients.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

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
      expect.arrayContaining([{ name: "billing.invoices.read", service: "billing", registered: true }]),
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
