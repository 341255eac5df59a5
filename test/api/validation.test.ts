// Request validation as clients see it: a field past its declared bound is
// INVALID_ARGUMENT (400 over REST) naming the field, with the violations as a
// buf.validate.Violations detail on every protocol; nothing is written; and a
// caller without a valid key learns nothing about the request's shape.
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson, GrpcClient } from "../../harness/clients.js";
import { expiresIn, DAY, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe("request validation", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let admin: string;
  let audit: GrpcClient<typeof AuditService>;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    admin = kw.adminKey;
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
  });

  /** Everything an admin write could have changed. */
  async function snapshot() {
    const policies = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    const keys = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, admin);
    const events = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, admin);
    return { policies: policies.policies.length, keys: keys.apiKeys.length, events: events.auditEvents.length };
  }

  it("gRPC: names the field, carries buf.validate.Violations in grpc-status-details-bin, writes nothing", async () => {
    const before = await snapshot();
    const error = (await c.policies
      .call(PolicyService.method.adminCreateApiKeyPolicy, { name: "n".repeat(101) }, admin)
      .catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe("name: must be at most 100 characters [string.max_len]");
    // Decoded as any gRPC client would: google.rpc.Status in grpc-status-details-bin.
    const [bin] = error.metadata.get("grpc-status-details-bin") as Buffer[];
    const trailer = new Headers({ "grpc-status": String(error.code), "grpc-status-details-bin": bin!.toString("base64") });
    const details = findTrailerError(trailer)!.findDetails(ViolationsSchema);
    expect(details).toHaveLength(1);
    const { violations } = details[0]!;
    expect(violations.map((v) => [v.field?.elements.map((e) => e.fieldName).join("."), v.ruleId])).toEqual([["name", "string.max_len"]]);
    expect(await snapshot()).toEqual(before);
  });

  it("Connect JSON: the same code, message and detail", async () => {
    const { status: httpStatus, body } = await connectJson(
      kw.url,
      ApiKeyService.method.adminCreateApiKey,
      { name: "key\u0007", policyId: "P000000000000000", expireTime: new Date(kw.clock.now().getTime() + DAY).toISOString() },
      { authorization: `Bearer ${admin}` },
    );
    expect(httpStatus).toBe(400);
    expect(body).toMatchObject({ code: "invalid_argument", message: "name: must not contain control characters [keyward.display_name]" });
    expect(body.details).toEqual([expect.objectContaining({ type: "buf.validate.Violations" })]);
  });

  it("REST: 400 with grpc-gateway's body, the violations rendered as JSON", async () => {
    const before = await snapshot();
    const res = await fetch(`${kw.url}/api/v1/api_keys/policies`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "ok", permissions: Array.from({ length: 501 }, () => "keyward.keys.check") }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 3,
      message: "permissions: must contain no more than 500 item(s) [repeated.max_items]",
      details: [
        {
          "@type": "type.googleapis.com/buf.validate.Violations",
          violations: [
            expect.objectContaining({
              field: { elements: [{ fieldNumber: 3, fieldName: "permissions", fieldType: "TYPE_STRING" }] },
              ruleId: "repeated.max_items",
              message: "must contain no more than 500 item(s)",
            }),
          ],
        },
      ],
    });
    expect(await snapshot()).toEqual(before);
  });

  it("REST PATCH: a body that clears the name is refused, and the policy keeps its name", async () => {
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("keeps-name") }, admin);
    const res = await fetch(`${kw.url}/api/v1/api_keys/policies/${policy!.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(
      "policy.name: is required when update_mask names it [keyward.update.name_required]",
    );
    const after = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    expect(after.policies.find((p) => p.id === policy!.id)?.name).toBe(policy!.name);
  });

  it("CheckKey: too many permissions or an oversized key is a bad request, not a verdict", async () => {
    await expect(
      c.check.call(CheckService.method.checkKey, { key: "x", permissions: Array.from({ length: 101 }, () => "a.b.c") }, admin),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: "permissions: must contain no more than 100 item(s) [repeated.max_items]" });
    await expect(c.check.call(CheckService.method.checkKey, { key: "k".repeat(257) }, admin)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: "key: must be at most 256 characters [string.max_len]",
    });
    // A well-formed request with a bad key still gets a verdict.
    expect(await c.check.call(CheckService.method.checkKey, { key: "k".repeat(256) }, admin)).toMatchObject({ valid: false });
  });

  it("authenticates before it validates: an invalid request without a key is UNAUTHENTICATED", async () => {
    await expect(
      c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "", policyId: "", expireTime: expiresIn(kw, DAY) }),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });
});
