// REST under /api/v1 with real HTTP requests (fetch), as operators' scripts
// use it: every row of design §4, grpc-gateway's statuses, CORS, OpenAPI.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const run = promisify(execFile);

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe.each(TEST_STORES)("REST on $name", (store) => {
  let kw: RunningKeyward;
  let api: string;
  const rest = async (method: string, path: string, body?: unknown, key: string | null = kw.adminKey): Promise<Reply> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { config: { corsOrigins: ["https://admin.example.com"] } });
    api = `${kw.url}/api/v1`;
  });
  afterAll(async () => {
    await kw?.close();
  });

  const expireTime = () => new Date(kw.clock.now().getTime() + 86_400_000).toISOString();

  it("serves every REST path of design §4", async () => {
    // RegisterPermissions: PUT /api/v1/services/{service}/permissions
    expect(await rest("PUT", "/services/billing/permissions", { permissions: [{ name: "billing.invoices.read", description: "Read" }] })).toMatchObject({
      status: 200,
      body: { permissions: [{ name: "billing.invoices.read", service: "billing", registered: true }] },
    });
    // AdminGetApiKeyPermissions
    const permissions = await rest("GET", "/api_keys/permissions");
    expect((permissions.body.permissions as Array<{ name: string }>).map((p) => p.name)).toContain("keyward.keys.check");
    // AdminCreateApiKeyPolicy, AdminGetApiKeyPolicies
    const policy = await rest("POST", "/api_keys/policies", { name: "readers", description: "r", permissions: ["billing.invoices.read"] });
    expect(policy).toMatchObject({ status: 200, body: { policy: { name: "readers", apiKeyCount: 0 } } });
    const policyId = (policy.body.policy as { id: string }).id;
    expect((await rest("GET", "/api_keys/policies")).body.policies).toEqual(expect.arrayContaining([expect.objectContaining({ id: policyId })]));
    // AdminGetApiKeyPolicy
    expect(await rest("GET", `/api_keys/policies/${policyId}`)).toMatchObject({ status: 200, body: { policy: { id: policyId, name: "readers" } } });
    // AdminUpdateApiKeyPolicy: PATCH with body `policy`, mask inferred from the body
    expect(await rest("PATCH", `/api_keys/policies/${policyId}`, { description: "updated" })).toMatchObject({
      status: 200,
      body: { policy: { name: "readers", description: "updated", permissions: ["billing.invoices.read"] } },
    });
    // AdminCreateApiKey
    const created = await rest("POST", "/api_keys", { name: "job", policyId, expireTime: expireTime() });
    expect(created).toMatchObject({ status: 200, body: { apiKey: { name: "job", state: "API_KEY_STATE_ACTIVE" }, credentials: expect.stringMatching(/^kw_/) } });
    const id = (created.body.apiKey as { id: string }).id;
    const credentials = created.body.credentials as string;
    // AdminGetApiKey, AdminListApiKeys (paged, filtered)
    expect(await rest("GET", `/api_keys/${id}`)).toMatchObject({ status: 200, body: { apiKey: { id, policyId } } });
    expect((await rest("GET", `/api_keys?policyId=${policyId}&pageSize=10`)).body.apiKeys).toHaveLength(1);
    expect((await rest("GET", `/api_keys?policy_id=${policyId}&state=API_KEY_STATE_RETIRED`)).body.apiKeys).toHaveLength(0);
    // AdminUpdateApiKey: PATCH /api/v1/api_keys/{api_key.id} with body `api_key`
    expect(await rest("PATCH", `/api_keys/${id}`, { name: "job-2" })).toMatchObject({ status: 200, body: { apiKey: { id, name: "job-2", policyId } } });
    expect(await rest("PATCH", `/api_keys/${id}?updateMask=name`, { name: "job-3", policyId: "Ign0red000000000" })).toMatchObject({
      status: 200,
      body: { apiKey: { name: "job-3", policyId } },
    });
    // CheckKey: POST /api/v1/api_keys:check, every field emitted
    expect(await rest("POST", "/api_keys:check", { key: credentials, permissions: ["billing.invoices.read"] })).toMatchObject({
      status: 200,
      body: { valid: true, code: "CHECK_CODE_VALID", apiKeyId: id, policyName: "readers" },
    });
    expect(await rest("POST", "/api_keys:check", { key: "kw_nope" })).toMatchObject({ status: 200, body: { valid: false, code: "CHECK_CODE_MALFORMED", apiKeyId: "" } });
    // AdminRotateApiKey, AdminRetireApiKey
    const rotated = await rest("POST", `/api_keys/${id}:rotate`, { overlap: "60s" });
    expect(rotated).toMatchObject({ status: 200, body: { credentials: expect.stringMatching(new RegExp(`^kw_${id}_`)) } });
    expect(await rest("POST", `/api_keys/${id}:retire`, {})).toMatchObject({ status: 200, body: { apiKey: { state: "API_KEY_STATE_RETIRED" } } });
    // AdminListAuditEvents
    const events = await rest("GET", `/audit_events?target=api_keys/${id}&pageSize=2`);
    expect(events).toMatchObject({ status: 200, body: { auditEvents: [{ action: "AdminRetireApiKey" }, { action: "AdminRotateApiKey" }], nextPageToken: expect.any(String) } });
    // AdminDeleteApiKey, AdminDeleteApiKeyPolicy
    expect(await rest("DELETE", `/api_keys/${id}`)).toMatchObject({ status: 200 });
    expect(await rest("DELETE", `/api_keys/policies/${policyId}`)).toMatchObject({ status: 200, body: { deletedApiKeyCount: 0 } });
  });

  it("maps errors as grpc-gateway does, with {code, message, details} and no stack trace", async () => {
    const reader = await rest("POST", "/api_keys/policies", { name: "lister", permissions: ["keyward.api_keys.read"] });
    const readerKey = (await rest("POST", "/api_keys", { name: "lister-key", policyId: (reader.body.policy as { id: string }).id, expireTime: expireTime() })).body.credentials as string;
    const retired = await rest("POST", "/api_keys", { name: "to-retire", policyId: (reader.body.policy as { id: string }).id, expireTime: expireTime() });
    const retiredId = (retired.body.apiKey as { id: string }).id;
    await rest("POST", `/api_keys/${retiredId}:retire`, {});
    const cases: Array<[string, string, string, unknown, string | null, number, number]> = [
      ["invalid argument", "POST", "/api_keys/policies", { name: "" }, kw.adminKey, 400, 3],
      ["unauthenticated", "GET", "/api_keys", undefined, null, 401, 16],
      ["permission denied", "POST", "/api_keys/policies", { name: "x" }, readerKey, 403, 7],
      ["not found", "GET", "/api_keys/Unknown000000000", undefined, kw.adminKey, 404, 5],
      ["already exists", "POST", "/api_keys/policies", { name: "lister" }, kw.adminKey, 409, 6],
      ["failed precondition", "POST", `/api_keys/${retiredId}:retire`, {}, kw.adminKey, 400, 9],
      ["unknown path", "GET", "/no/such/thing", undefined, kw.adminKey, 404, 5],
      ["malformed JSON", "POST", "/api_keys/policies", "{nope", kw.adminKey, 400, 3],
      ["unknown body field", "POST", "/api_keys/policies", { nmae: "x" }, kw.adminKey, 400, 3],
      ["bad value", "GET", "/api_keys?pageSize=many", undefined, kw.adminKey, 400, 3],
      ["unknown query parameter", "GET", "/api_keys?colour=blue", undefined, kw.adminKey, 400, 3],
      ["body on a GET", "GET", "/api_keys/policies", { a: 1 }, kw.adminKey, 400, 3],
    ];
    for (const [label, method, path, body, key, httpStatus, code] of cases) {
      const reply = method === "GET" && body !== undefined ? await getWithBody(path, body, key!) : await rest(method, path, body, key);
      expect(reply.status, label).toBe(httpStatus);
      // Only a field that breaks its declared rule comes with details (buf.validate.Violations, test/api/validation.test.ts).
      const details = label === "invalid argument" ? [expect.objectContaining({ "@type": "type.googleapis.com/buf.validate.Violations" })] : [];
      expect(reply.body, label).toEqual({ code, message: expect.any(String), details });
      expect(reply.body.message as string, label).not.toMatch(/\n\s+at /);
    }
    expect((await rest("POST", "/api_keys/policies", { nmae: "x" })).body.message).toContain("nmae");
    expect((await rest("GET", "/api_keys?pageSize=many")).body.message).toContain("page_size");
  });

  // fetch refuses a body on GET; a raw request shows what curl -X GET -d would do.
  async function getWithBody(path: string, body: unknown, key: string): Promise<Reply> {
    const { stdout } = await run("curl", ["-s", "-X", "GET", `${api}${path}`, "-H", `authorization: Bearer ${key}`, "-d", JSON.stringify(body), "-w", "\n%{http_code}"]);
    const [text, status] = [stdout.slice(0, stdout.lastIndexOf("\n")), stdout.slice(stdout.lastIndexOf("\n") + 1)];
    return { status: Number(status), headers: new Headers(), body: JSON.parse(text) as Record<string, unknown> };
  }

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const reply = await rest("PATCH", "/api_keys/policies");
    expect(reply.status).toBe(405);
    expect(reply.headers.get("allow")).toBe("GET, POST");
    expect((await rest("GET", "/api_keys/abc:rotate")).headers.get("allow")).toBe("POST");
  });

  it("refuses a body over the limit with 413 and writes nothing", async () => {
    const before = (await rest("GET", "/api_keys/policies")).body.policies as unknown[];
    const reply = await rest("POST", "/api_keys/policies", { name: "huge", description: "x".repeat(2 * 1024 * 1024) });
    expect(reply.status).toBe(413);
    expect((await rest("GET", "/api_keys/policies")).body.policies).toHaveLength(before.length);
  });

  it("answers CORS preflights for configured origins only, on REST and Connect", async () => {
    for (const path of ["/api/v1/api_keys", "/keyward.v1.ApiKeyService/AdminListApiKeys"]) {
      const allowed = await fetch(`${kw.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: "https://admin.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
      expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
      const refused = await fetch(`${kw.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
      });
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    }
    const simple = await fetch(`${api}/api_keys/policies`, { headers: { origin: "https://admin.example.com", authorization: `Bearer ${kw.adminKey}` } });
    expect(simple.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
  });

  it("serves an OpenAPI 3.1 document, without a key, that validates and lists every REST path", async () => {
    const res = await fetch(`${api}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const operationIds = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId: string }).operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(operations.sort()).toEqual(
      [
        "POST /api/v1/api_keys",
        "GET /api/v1/api_keys/{id}",
        "GET /api/v1/api_keys",
        "GET /api/v1/api_keys/{id}/usage",
        "GET /api/v1/usage",
        "PATCH /api/v1/api_keys/{api_key.id}",
        "DELETE /api/v1/api_keys/{id}",
        "POST /api/v1/api_keys/{id}:retire",
        "POST /api/v1/api_keys/{id}:rotate",
        "GET /api/v1/api_keys/policies",
        "POST /api/v1/api_keys/policies",
        "PATCH /api/v1/api_keys/policies/{policy.id}",
        "GET /api/v1/api_keys/policies/{id}",
        "DELETE /api/v1/api_keys/policies/{id}",
        "GET /api/v1/api_keys/permissions",
        "PUT /api/v1/services/{service}/permissions",
        "POST /api/v1/webhook_endpoints",
        "GET /api/v1/webhook_endpoints",
        "DELETE /api/v1/webhook_endpoints/{id}",
        "GET /api/v1/webhook_endpoints/{id}/deliveries",
        "POST /api/v1/webhook_endpoints/{id}:enable",
        "POST /api/v1/webhook_endpoints/{id}:rotateSecret",
        "GET /api/v1/audit_events",
        "POST /api/v1/api_keys:check",
        "POST /api/v1/api_keys:revoke",
      ].sort(),
    );
    // The one operation that takes no key says so; the rest inherit the document's bearer.
    const security = (path: string, method: string) => (doc.paths[path]![method] as { security?: unknown }).security;
    expect(security("/api/v1/api_keys:revoke", "post")).toEqual([]);
    expect(security("/api/v1/api_keys:check", "post")).toBeUndefined();
  });

  it("states the field bounds of proto/ in the OpenAPI schemas (maxLength, maxItems, minimum)", async () => {
    const doc = (await (await fetch(`${api}/openapi.json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
      paths: Record<string, { get?: { parameters: Array<{ name: string; schema: Record<string, unknown> }> } }>;
    };
    const policy = doc.components.schemas["keyward.v1.AdminCreateApiKeyPolicyRequest"]!.properties;
    expect(policy.name).toMatchObject({ type: "string", maxLength: 100 });
    expect(policy.permissions).toMatchObject({ type: "array", maxItems: 500, items: { type: "string", maxLength: 200 } });
    expect(doc.components.schemas["keyward.v1.CheckKeyRequest"]!.properties.key).toMatchObject({ maxLength: 256 });
    expect(doc.paths["/api/v1/api_keys"]!.get!.parameters.find((p) => p.name === "pageSize")!.schema).toMatchObject({ minimum: 0 });
  });
});
