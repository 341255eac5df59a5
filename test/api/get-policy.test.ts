// AdminGetApiKeyPolicy (GET /api/v1/api_keys/policies/{id}) over the three
// ways callers reach it: grpc-js, Connect JSON and REST, on every test store.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson, GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const UNKNOWN = "Unknown000000000";

describe.each(TEST_STORES)("AdminGetApiKeyPolicy on $name", (store) => {
  let kw: RunningKeyward;
  let policies: GrpcClient<typeof PolicyService>;
  let policyId: string;
  // A key that may read keys but not policies: refused.
  let keysReader: string;

  const rest = async (path: string, key: string) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    policies = new GrpcClient(PolicyService, kw.port);
    const keys = new GrpcClient(ApiKeyService, kw.port);
    const created = await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "key-readers", permissions: ["keyward.api_keys.read"] }, kw.adminKey);
    policyId = created.policy!.id;
    const key = await keys.call(ApiKeyService.method.adminCreateApiKey, { name: "reader", policyId, expireTime: expiresIn(kw, DAY) }, kw.adminKey);
    keysReader = key.credentials;
    keys.close();
  });
  afterAll(async () => {
    policies?.close();
    await kw?.close();
  });

  it("reads one policy with its key count over grpc-js", async () => {
    const { policy } = await policies.call(PolicyService.method.adminGetApiKeyPolicy, { id: policyId }, kw.adminKey);
    expect(policy).toMatchObject({ id: policyId, name: "key-readers", permissions: ["keyward.api_keys.read"], apiKeyCount: 1 });
  });

  it("answers an unknown id with NOT_FOUND and a caller without keyward.policies.read with PERMISSION_DENIED over grpc-js", async () => {
    await expect(policies.call(PolicyService.method.adminGetApiKeyPolicy, { id: UNKNOWN }, kw.adminKey)).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: `policy "${UNKNOWN}" not found`,
    });
    await expect(policies.call(PolicyService.method.adminGetApiKeyPolicy, { id: policyId }, keysReader)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    await expect(policies.call(PolicyService.method.adminGetApiKeyPolicy, { id: "" }, kw.adminKey)).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it("serves it over Connect JSON", async () => {
    const call = (id: string, key: string) => connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicy, { id }, { authorization: `Bearer ${key}` });
    expect(await call(policyId, kw.adminKey)).toMatchObject({ status: 200, body: { policy: { id: policyId, name: "key-readers", apiKeyCount: 1 } } });
    expect(await call(UNKNOWN, kw.adminKey)).toMatchObject({ status: 404, body: { code: "not_found" } });
    expect(await call(policyId, keysReader)).toMatchObject({ status: 403, body: { code: "permission_denied" } });
  });

  it("serves GET /api/v1/api_keys/policies/{id} over REST", async () => {
    expect(await rest(`/api_keys/policies/${policyId}`, kw.adminKey)).toMatchObject({
      status: 200,
      body: { policy: { id: policyId, name: "key-readers", permissions: ["keyward.api_keys.read"], apiKeyCount: 1 } },
    });
    expect(await rest(`/api_keys/policies/${UNKNOWN}`, kw.adminKey)).toEqual({ status: 404, body: { code: 5, message: `policy "${UNKNOWN}" not found`, details: [] } });
    expect(await rest(`/api_keys/policies/${policyId}`, keysReader)).toMatchObject({ status: 403, body: { code: 7 } });
  });
});
