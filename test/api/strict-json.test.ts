// An admin API refuses what it does not understand (issue #15, defects 3 and 6):
// an unknown JSON field is INVALID_ARGUMENT naming it on every protocol, an
// update that changes nothing is refused and audited as nothing, and every JSON
// decoding error names the field and shows the form it expects.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe("strict JSON input", () => {
  let kw: RunningKeyward;
  let auth: Record<string, string>;
  let policyId: string;
  let keyId: string;
  const expireTime = () => new Date(Date.now() + 86_400_000).toISOString();
  const call = (method: Parameters<typeof connectJson>[1], body: unknown) => connectJson(kw.url, method, body, auth);
  async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${kw.url}/api/v1${path}`, {
      method,
      headers: { "content-type": "application/json", ...auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const keyNames = async () => ((await call(ApiKeyService.method.adminListApiKeys, {})).body.apiKeys as Array<{ name: string }>).map((k) => k.name);
  const actionsOn = async (target: string) =>
    ((await call(AuditService.method.adminListAuditEvents, { target })).body.auditEvents as Array<{ action: string }>).map((e) => e.action);

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    auth = { authorization: `Bearer ${kw.adminKey}` };
    const policy = await call(PolicyService.method.adminCreateApiKeyPolicy, { name: "checkers", permissions: ["keyward.keys.check"] });
    policyId = (policy.body.policy as { id: string }).id;
    const key = await call(ApiKeyService.method.adminCreateApiKey, { name: "job", policyId, expireTime: expireTime() });
    keyId = (key.body.apiKey as { id: string }).id;
  });
  afterAll(async () => {
    await kw?.close();
  });

  describe("unknown fields", () => {
    it("Connect JSON: a misspelt field on create is invalid_argument naming it, and nothing is created", async () => {
      const res = await call(ApiKeyService.method.adminCreateApiKey, { name: "limited", policyId, expireTime: expireTime(), allowedSubnet: ["10.0.0.0/8"] });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_argument");
      expect(res.body.message).toMatch(/allowedSubnet/);
      expect(res.body.message).toMatch(/unknown field/);
      expect(await keyNames()).not.toContain("limited");
    });

    it("Connect JSON: a misspelt field in an update is refused, changes nothing and is not audited", async () => {
      const before = await actionsOn(`api_keys/${keyId}`);
      const res = await call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: keyId, nmae: "renamed" } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/api_key\.nmae.*unknown field|unknown field.*nmae/) });
      expect(await keyNames()).toContain("job");
      expect(await actionsOn(`api_keys/${keyId}`)).toEqual(before);
    });

    it("gRPC-Web+JSON: a misspelt field is INVALID_ARGUMENT naming it", async () => {
      const json = Buffer.from(JSON.stringify({ name: "limited", policyId, expireTime: expireTime(), allowedSubnet: ["10.0.0.0/8"] }));
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), json]);
      frame.writeUInt32BE(json.length, 1);
      const res = await fetch(`${kw.url}/keyward.v1.ApiKeyService/AdminCreateApiKey`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+json", ...auth },
        body: frame,
      });
      // The status is in the headers (trailers-only) or in the trailer frame of the body.
      const trailers = `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${Buffer.from(await res.arrayBuffer()).toString("latin1")}`;
      expect(trailers).toMatch(/grpc-status: ?3\b/);
      expect(decodeURIComponent(/grpc-message: ?([^\r\n]*)/.exec(trailers)?.[1] ?? "")).toMatch(/allowedSubnet.*unknown field/);
      expect(await keyNames()).not.toContain("limited");
    });

    it("REST: a misspelt field is 400 naming it", async () => {
      const res = await rest("POST", "/api_keys", { name: "limited", policyId, expireTime: expireTime(), allowedSubnet: ["10.0.0.0/8"] });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/allowedSubnet.*unknown field/);
      expect(await keyNames()).not.toContain("limited");
    });
  });

  describe("an update that changes nothing", () => {
    it("REST PATCH {} on a key is 400 and writes no audit event", async () => {
      const before = await actionsOn(`api_keys/${keyId}`);
      const res = await rest("PATCH", `/api_keys/${keyId}`, {});
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/nothing to update/);
      expect(await actionsOn(`api_keys/${keyId}`)).toEqual(before);
    });

    it("REST PATCH {} on a policy is 400 and writes no audit event", async () => {
      const before = await actionsOn(`policies/${policyId}`);
      const res = await rest("PATCH", `/api_keys/policies/${policyId}`, {});
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/nothing to update/);
      expect(await actionsOn(`policies/${policyId}`)).toEqual(before);
    });

    it("Connect: AdminUpdateApiKey and AdminUpdateApiKeyPolicy with no mask and no fields are invalid_argument", async () => {
      const before = await actionsOn(`api_keys/${keyId}`);
      const key = await call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: keyId } });
      expect(key).toMatchObject({ status: 400, body: { code: "invalid_argument", message: expect.stringMatching(/nothing to update/) } });
      const policy = await call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: policyId }, updateMask: "" });
      expect(policy).toMatchObject({ status: 400, body: { code: "invalid_argument", message: expect.stringMatching(/nothing to update/) } });
      expect(await actionsOn(`api_keys/${keyId}`)).toEqual(before);
    });
  });

  describe("decoding errors name the field and the expected form", () => {
    const cases: Array<[string, "connect" | "rest", () => Promise<{ status: number; body: Record<string, unknown> }>, RegExp]> = [
      ["a date for a timestamp", "connect", () => call(ApiKeyService.method.adminCreateApiKey, { name: "t", policyId, expireTime: "2027-01-01" }), /^expire_time: expected an RFC 3339 timestamp such as 2027-01-01T00:00:00Z/],
      ["a date for a timestamp", "rest", () => rest("POST", "/api_keys", { name: "t", policyId, expireTime: "2027-01-01" }), /^expire_time: expected an RFC 3339 timestamp such as 2027-01-01T00:00:00Z/],
      ["a nested timestamp", "rest", () => rest("PATCH", `/api_keys/${keyId}`, { expireTime: 5 }), /^api_key\.expire_time: expected an RFC 3339 timestamp/],
      ["an hour for a duration", "connect", () => call(ApiKeyService.method.adminRotateApiKey, { id: keyId, overlap: "1h" }), /^overlap: expected a duration such as "3600s"/],
      ["an hour for a duration", "rest", () => rest("POST", `/api_keys/${keyId}:rotate`, { overlap: "1h" }), /^overlap: expected a duration such as "3600s"/],
      ["an unknown enum name", "connect", () => call(ApiKeyService.method.adminListApiKeys, { state: "ACTIVE" }), /^state: expected one of API_KEY_STATE_UNSPECIFIED, API_KEY_STATE_ACTIVE, API_KEY_STATE_RETIRED/],
      ["an unknown enum name", "rest", () => rest("GET", "/api_keys?state=ACTIVE"), /^state: expected one of .*API_KEY_STATE_ACTIVE/],
      ["a number for a string", "connect", () => call(ApiKeyService.method.adminCreateApiKey, { name: 5, policyId, expireTime: expireTime() }), /^name: expected a string, got a number/],
      ["a string for a list", "connect", () => call(PolicyService.method.adminCreateApiKeyPolicy, { name: "p", permissions: "keyward.keys.check" }), /^permissions: expected an array, got a string/],
      ["a number inside a list", "rest", () => rest("POST", "/api_keys/policies", { name: "p", permissions: ["keyward.keys.check", 7] }), /^permissions\[1\]: expected a string, got a number/],
      ["a string for a number", "connect", () => call(ApiKeyService.method.adminListApiKeys, { pageSize: "ten" }), /^page_size: expected an integer/],
      ["a bad field mask", "connect", () => call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: keyId }, updateMask: ["name"] }), /^update_mask: expected a field mask such as "name,expireTime"/],
      ["an unknown constraint type", "connect", () => call(ApiKeyService.method.adminCreateApiKey, { name: "t", policyId, expireTime: expireTime(), constraints: [{ type: "SUFFIX", value: "/x" }] }), /^constraints\[0\]\.type: expected one of .*CONSTRAINT_TYPE_PREFIX/],
    ];
    it.each(cases)("%s over %s", async (_name, _protocol, send, message) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    });
  });
});
