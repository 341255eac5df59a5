// Issue #14 finding 3: a path constraint must not be walked out of with a
// form that a service's router reads differently from the raw string Keyward
// judges (a backslash read as '/', ';' path parameters stripped before '..' is
// resolved, double or overlong encodings, fullwidth dots...). Such a path is
// CONSTRAINT_DENIED for a constrained key (fail closed), through CheckKey and
// for Keyward's own REST callers alike.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe("path forms that routers read differently", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let admin: string;
  let jobsKey: string;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    admin = kw.adminKey;
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "jobs", permissions: [{ name: "jobs.runs.read" }] }, admin);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("jobs"), permissions: ["jobs.runs.read"] }, admin);
    jobsKey = (
      await c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: uniqueName("jobs"), policyId: policy!.id, expireTime: expiresIn(kw, DAY), constraints: [{ type: ConstraintType.PREFIX, value: "/jobs" }] },
        admin,
      )
    ).credentials;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const codeOf = async (path: string) =>
    (await c.check.call(CheckService.method.checkKey, { key: jobsKey, permissions: ["jobs.runs.read"], method: "GET", path }, admin)).code;

  it.each([
    ["a backslash read as '/'", "/jobs/..\\admin"],
    ["backslashes only", "/jobs\\..\\admin"],
    ["'..;' (Tomcat/Spring path parameter)", "/jobs/..;/admin"],
    ["'..;' with a parameter", "/jobs/..;jsessionid=1/admin"],
    ["'.;' segment", "/jobs/.;/7"],
    ["a ';' anywhere", "/jobs;x/7"],
    ["encoded ';'", "/jobs/..%3b/admin"],
    ["double-encoded '.'", "/jobs/%252e%252e/admin"],
    ["IIS %u encoding", "/jobs/%u002e%u002e/admin"],
    ["overlong UTF-8 '.'", "/jobs/%c0%ae%c0%ae/admin"],
    ["overlong UTF-8 '/'", "/jobs/..%c0%afadmin"],
    ["overlong UTF-8 '\\'", "/jobs/..%c1%9cadmin"],
    ["fullwidth dots", "/jobs/\uff0e\uff0e/admin"],
    ["encoded fullwidth dots", "/jobs/%ef%bc%8e%ef%bc%8e/admin"],
    ["a NUL", "/jobs/x\u0000/../admin"],
    ["an encoded NUL", "/jobs/x%00"],
    ["'...' segment", "/jobs/.../admin"],
    ["'.. ' with a trailing space (Windows strips it)", "/jobs/..%20/admin"],
    ["an empty segment ('//' collapsed, or a network path)", "/jobs//admin"],
    ["encoded '?' (a re-parsing service truncates there)", "/jobs/%3f"],
  ])("%s: %j is CONSTRAINT_DENIED", async (_what, path) => {
    expect(await codeOf(path)).toBe(CheckCode.CONSTRAINT_DENIED);
  });

  it.each([
    ["a plain child", "/jobs/7"],
    ["encoded letters, any case of hex", "/jobs/%41%7e%7E"],
    ["an encoded space", "/jobs/my%20job"],
    ["UTF-8", "/jobs/caf%C3%A9"],
    ["a decoded non-ASCII name", "/jobs/café"],
    ["a dot inside a name", "/jobs/report.csv"],
  ])("%s: %j stays VALID", async (_what, path) => {
    expect(await codeOf(path)).toBe(CheckCode.VALID);
  });
});

describe("Keyward's own REST callers", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let scoped: string;
  let keyId: string;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("reader"), permissions: ["keyward.api_keys.read"] }, kw.adminKey);
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      {
        name: uniqueName("scoped"),
        policyId: policy!.id,
        expireTime: expiresIn(kw, DAY),
        constraints: [{ type: ConstraintType.PREFIX, value: "/api/v1/api_keys" }],
      },
      kw.adminKey,
    );
    scoped = created.credentials;
    keyId = created.apiKey!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  /** GET with the path sent byte for byte (fetch would normalise it first). */
  const get = (path: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: kw.port, path, method: "GET", headers: { authorization: `Bearer ${scoped}` } }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on("error", reject);
      req.end();
    });

  it("serves the plain path inside the caller's prefix", async () => {
    expect(await get(`/api/v1/api_keys/${keyId}`)).toMatchObject({ status: 200, body: { apiKey: { id: keyId } } });
  });

  it.each([
    ["a backslash", (id: string) => `/api/v1/api_keys/x/..\\${id}`],
    ["a dot segment", (id: string) => `/api/v1/api_keys/x/../${id}`],
    ["an encoded dot segment", (id: string) => `/api/v1/api_keys/x/%2e%2e/${id}`],
    ["a ';' parameter", (id: string) => `/api/v1/api_keys/${id};jsessionid=1`],
  ])("judges %s in the path as sent, not as normalised: 403", async (_what, path) => {
    expect(await get(path(keyId))).toMatchObject({ status: 403, body: { message: "this key may not be used for this request" } });
  });
});
