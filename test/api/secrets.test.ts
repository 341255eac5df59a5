// Secrets stay secret: no credential in any table, and none in any log line
// at the most verbose level, through a whole admin walkthrough.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, type Clients } from "../support/fixtures.js";
import { scalarLineLogger } from "../../src/logger.js";
import { LogCapture, startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

/** The secret part of a credentials string (after the key id). */
const secretOf = (credentials: string) => credentials.split("_")[2]!;

describe.each(TEST_STORES)("secrets on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  const logs = new LogCapture();
  const issued: string[] = [];

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { logger: logs.logger("trace") });
    c = grpcClients(kw.port);
    issued.push(kw.adminKey);
    const admin = kw.adminKey;
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.invoices.read" }] }, admin);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "readers", permissions: ["billing.invoices.read"] }, admin);
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: "job", policyId: policy!.id, expireTime: expiresIn(kw, DAY) },
      admin,
    );
    issued.push(created.credentials);
    await c.check.call(CheckService.method.checkKey, { key: created.credentials, permissions: ["billing.invoices.read"] }, admin);
    await c.check.call(CheckService.method.checkKey, { key: created.credentials, permissions: ["billing.invoices.write"] }, admin).catch(() => {});
    // Refused calls carrying keys, in every header Keyward reads.
    await connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicies, {}, { authorization: `Bearer ${created.credentials}` });
    await connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicies, {}, { "x-api-key": created.credentials });
    await connectJson(kw.url, ApiKeyService.method.adminGetApiKey, { id: created.apiKey!.id }, { "api-key": admin });
    await connectJson(kw.url, CheckService.method.checkKey, { key: created.credentials.slice(0, -2) }, { authorization: `Bearer ${admin}` });
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("writes one log line per RPC with procedure, code, duration and caller key id", async () => {
    // Answered gRPC checks (the hot path) are summarised in one line a second, with their count.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const rpcLines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.procedure === "string");
    const calls = rpcLines.reduce((n, l) => n + (l.msg === "rpc summary" ? (l.calls as number) : 1), 0);
    expect(calls).toBeGreaterThanOrEqual(9);
    expect(rpcLines.find((l) => l.procedure === "keyward.v1.PolicyService/AdminCreateApiKeyPolicy")).toMatchObject({
      code: "ok",
      callerKeyId: kw.keyward.bootstrapKeyId,
      durationMs: expect.any(Number),
    });
    expect(rpcLines.some((l) => l.code === "Unauthenticated" || l.code === "PermissionDenied")).toBe(true);
  });

  it("logs no credentials and no secret, at trace level", () => {
    expect(issued).toHaveLength(2);
    for (const credentials of issued) {
      expect(logs.text).not.toContain(credentials);
      expect(logs.text).not.toContain(secretOf(credentials));
    }
    expect(logs.text).not.toMatch(/\$argon2id\$/);
  });

  it("stores no credentials or secret in any table, only argon2id hashes", async () => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'`.execute(kw.keyward.store.db);
    expect(tables.rows.length).toBeGreaterThanOrEqual(5);
    let dump = "";
    for (const { table_name } of tables.rows) {
      const rows = await sql`select * from ${sql.table(table_name)}`.execute(kw.keyward.store.db);
      dump += JSON.stringify(rows.rows);
    }
    for (const credentials of issued) {
      expect(dump).not.toContain(secretOf(credentials));
    }
    const hashes = await kw.keyward.store.db.selectFrom("api_keys").select("secret_hash").execute();
    expect(hashes.length).toBe(2);
    for (const { secret_hash } of hashes) expect(secret_hash).toMatch(/^\$argon2id\$v=19\$/);
  });
});

describe("log censoring (defence in depth)", () => {
  it("censors credential fields written by mistake, also inside a logged object", () => {
    const logs = new LogCapture();
    const logger = logs.logger("info");
    logger.error({ err: { key: "S1", headers: { authorization: "Bearer S2", "x-api-key": "S3" } }, secret: "S4" }, "oops");
    scalarLineLogger(logger).info({ key: "S5", credentials: "S6", procedure: "keyward.v1.CheckService/CheckKey" }, "rpc");
    expect(logs.lines).toHaveLength(2);
    for (const secret of ["S1", "S2", "S3", "S4", "S5", "S6"]) expect(logs.text).not.toContain(secret);
    expect(JSON.parse(logs.lines[1]!)).toMatchObject({ key: "[redacted]", procedure: "keyward.v1.CheckService/CheckKey" });
  });
});
