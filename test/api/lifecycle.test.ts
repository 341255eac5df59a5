// Key scoping and lifecycle end to end through grpc-js: constraints, subnets,
// retire, rotation with overlap, self-rotation, narrowing, last use, audit log,
// expiring-soon listing.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState, ConstraintType } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("key scoping and lifecycle on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let audit: GrpcClient<typeof AuditService>;
  let admin: string;
  let readers: string;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    admin = kw.adminKey;
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "jobs", permissions: [{ name: "jobs.runs.read" }] }, admin);
    readers = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "job-readers", permissions: ["jobs.runs.read"] }, admin)).policy!.id;
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
  });

  interface KeyInput {
    policyId?: string;
    expireTime?: Timestamp;
    allowedSubnets?: string[];
    constraints?: Array<{ type: ConstraintType; value: string }>;
  }
  const createKey = (input: KeyInput, as = admin) =>
    c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("key"), policyId: readers, expireTime: expiresIn(kw, DAY), ...input }, as);
  const check = (key: string, context: { method?: string; path?: string; clientIp?: string } = {}) =>
    c.check.call(CheckService.method.checkKey, { key, permissions: ["jobs.runs.read"], ...context }, admin);
  const codeOf = async (key: string, context: { method?: string; path?: string; clientIp?: string } = {}) => (await check(key, context)).code;

  it("enforces exact, prefix, regex and verb constraints, OR'd, and denies a constrained key checked without context", async () => {
    const { credentials, apiKey } = await createKey({
      constraints: [
        { type: ConstraintType.EXACT, value: "status" },
        { type: ConstraintType.PREFIX, value: "/jobs" },
        { type: ConstraintType.REGEX, value: "/reports/[0-9]{4}" },
      ],
    });
    expect(apiKey!.constraints.map((k) => k.value)).toEqual(["/status", "/jobs", "/reports/[0-9]{4}"]);
    const cases: Array<[string, string, CheckCode]> = [
      ["GET", "/status", CheckCode.VALID],
      ["GET", "/status/x", CheckCode.CONSTRAINT_DENIED],
      ["GET", "/jobs", CheckCode.VALID],
      ["POST", "/jobs/7/runs?x=1", CheckCode.VALID],
      ["GET", "/jobsx", CheckCode.CONSTRAINT_DENIED],
      ["GET", "/jobs/../admin", CheckCode.CONSTRAINT_DENIED],
      ["GET", "/jobs/%2e%2e/admin", CheckCode.CONSTRAINT_DENIED],
      ["GET", "/reports/2026", CheckCode.VALID],
      ["GET", "/reports/2026/q1", CheckCode.CONSTRAINT_DENIED],
      ["GET", "/admin", CheckCode.CONSTRAINT_DENIED],
      ["", "", CheckCode.CONSTRAINT_DENIED],
    ];
    for (const [method, path, code] of cases) expect(await codeOf(credentials, { method, path }), `${method} ${path}`).toBe(code);

    const verbOnly = await createKey({ constraints: [{ type: ConstraintType.VERB, value: "get, head" }] });
    expect(verbOnly.apiKey!.constraints[0]!.value).toBe("GET,HEAD");
    expect(await codeOf(verbOnly.credentials, { method: "GET", path: "/anything" })).toBe(CheckCode.VALID);
    expect(await codeOf(verbOnly.credentials, { method: "DELETE", path: "/anything" })).toBe(CheckCode.CONSTRAINT_DENIED);
    expect(await codeOf(verbOnly.credentials)).toBe(CheckCode.CONSTRAINT_DENIED);
  });

  it("runs regex constraints in linear time: a ReDoS pattern over a 5000-character path answers at once", async () => {
    const { credentials } = await createKey({ constraints: [{ type: ConstraintType.REGEX, value: "/(a+)+b" }] });
    const path = `/${"a".repeat(5000)}!`;
    const started = performance.now();
    expect(await codeOf(credentials, { method: "GET", path })).toBe(CheckCode.CONSTRAINT_DENIED);
    // A backtracking engine would not return for longer than the universe has existed; anything finite passes.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("validates constraints at create and update, naming the constraint", async () => {
    const bad: Array<[KeyInput["constraints"], string]> = [
      [[{ type: ConstraintType.REGEX, value: "(unclosed" }], "constraints[0].value"],
      [[{ type: ConstraintType.EXACT, value: "/a" }, { type: ConstraintType.PREFIX, value: "/a/../b" }], "constraints[1].value"],
      [[{ type: ConstraintType.VERB, value: "GET;rm" }], "constraints[0].value"],
      [[{ type: ConstraintType.UNSPECIFIED, value: "/a" }], "constraints[0].type"],
      [[{ type: ConstraintType.PREFIX, value: "" }], "constraints[0].value"],
      [Array.from({ length: 21 }, (_, i) => ({ type: ConstraintType.EXACT, value: `/p${i}` })), "constraints"],
      [[{ type: ConstraintType.REGEX, value: "a".repeat(513) }], "constraints[0].value"],
    ];
    for (const [constraints, field] of bad) {
      await expect(createKey({ constraints }), field).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    }
    const { apiKey } = await createKey({});
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: apiKey!.id, constraints: [{ type: ConstraintType.REGEX, value: "[" }] } }, admin),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("api_key.constraints[0].value") });
  });

  it("limits keys to client subnets (IPv4, IPv6, IPv4-mapped) and validates CIDRs", async () => {
    const { credentials, apiKey } = await createKey({ allowedSubnets: ["10.0.0.0/8", "2001:DB8::/32", "::ffff:192.168.1.0/120"] });
    expect(apiKey!.allowedSubnets).toEqual(["10.0.0.0/8", "2001:db8::/32", "192.168.1.0/24"]);
    const cases: Array<[string, CheckCode]> = [
      ["10.1.2.3", CheckCode.VALID],
      ["::ffff:10.1.2.3", CheckCode.VALID],
      ["11.0.0.1", CheckCode.SUBNET_DENIED],
      ["2001:db8:ffff::1", CheckCode.VALID],
      ["2001:db9::1", CheckCode.SUBNET_DENIED],
      ["192.168.1.77", CheckCode.VALID],
      ["", CheckCode.SUBNET_DENIED],
      ["not-an-ip", CheckCode.SUBNET_DENIED],
    ];
    for (const [clientIp, code] of cases) expect(await codeOf(credentials, { clientIp }), clientIp).toBe(code);

    const bad: Array<[string, string]> = [
      ["10.0.0.1/8", "host bits are set after the /8 prefix; the network is 10.0.0.0/8"],
      ["10.0.0.0/33", "prefix length"],
      ["2001:db8::1/32", "the network is 2001:db8::/32"],
      ["example.com/24", "not an IPv4 or IPv6 address"],
      ["::ffff:10.0.0.0/64", "at least 96"],
    ];
    for (const [subnet, message] of bad) {
      await expect(createKey({ allowedSubnets: ["10.0.0.0/8", subnet] }), subnet).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining(`allowed_subnets[1]: "${subnet}": `) && expect.stringContaining(message),
      });
    }
  });

  it("judges Keyward's own callers by their socket address", async () => {
    const policy = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("lister"), permissions: ["keyward.api_keys.read"] }, admin);
    const local = await createKey({ policyId: policy.policy!.id, allowedSubnets: ["127.0.0.0/8"] });
    const remote = await createKey({ policyId: policy.policy!.id, allowedSubnets: ["203.0.113.0/24"] });
    await c.keys.call(ApiKeyService.method.adminListApiKeys, {}, local.credentials);
    await expect(c.keys.call(ApiKeyService.method.adminListApiKeys, {}, remote.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("retires a key at once, keeps its record, and refuses to retire or rotate it again", async () => {
    const { credentials, apiKey } = await createKey({});
    expect(await codeOf(credentials)).toBe(CheckCode.VALID);
    const retired = await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: apiKey!.id }, admin);
    expect(retired.apiKey).toMatchObject({ state: ApiKeyState.RETIRED, retirerKeyId: kw.keyward.bootstrapKeyId, retireTime: expect.anything() });
    expect(await check(credentials)).toMatchObject({ valid: false, code: CheckCode.RETIRED });
    expect((await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: apiKey!.id }, admin)).apiKey!.state).toBe(ApiKeyState.RETIRED);
    await expect(c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: apiKey!.id }, admin)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id }, admin)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    const retiredOnly = await c.keys.call(ApiKeyService.method.adminListApiKeys, { state: ApiKeyState.RETIRED }, admin);
    expect(retiredOnly.apiKeys.map((k) => k.id)).toContain(apiKey!.id);
    expect(retiredOnly.apiKeys.every((k) => k.state === ApiKeyState.RETIRED)).toBe(true);
  });

  it("rotates with an overlap: both secrets work inside it, the old one is dead after", async () => {
    const { credentials: old, apiKey } = await createKey({});
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id, overlap: { seconds: 3600n } }, admin);
    const fresh = rotated.credentials;
    expect(fresh).not.toBe(old);
    expect(fresh.startsWith(`kw_${apiKey!.id}_`)).toBe(true);
    expect(rotated.previousExpireTime).toBeDefined();
    expect(await codeOf(old)).toBe(CheckCode.VALID);
    expect(await codeOf(fresh)).toBe(CheckCode.VALID);
    kw.clock.advance(3601_000);
    expect(await codeOf(old)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(fresh)).toBe(CheckCode.VALID);

    // Without an overlap the old secret dies at once; at most two secrets are ever live.
    const second = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id, overlap: { seconds: 600n } }, admin);
    const third = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id }, admin);
    expect(third.previousExpireTime).toBeUndefined();
    expect(await codeOf(fresh)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(second.credentials)).toBe(CheckCode.NOT_FOUND);
    expect(await codeOf(third.credentials)).toBe(CheckCode.VALID);

    await expect(c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id, overlap: { seconds: -1n } }, admin)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id, overlap: { seconds: BigInt(8 * 86_400) } }, admin)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("overlap"),
    });
  });

  it("caps the overlap at the key's expiry", async () => {
    const { credentials: old, apiKey } = await createKey({ expireTime: expiresIn(kw, 600_000) });
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: apiKey!.id, overlap: { seconds: 3600n } }, admin);
    expect(rotated.previousExpireTime).toEqual(apiKey!.expireTime);
    expect(await codeOf(old)).toBe(CheckCode.VALID);
  });

  it("lets a key rotate itself, keeping its policy and constraints, but not another key without keyward.api_keys.write", async () => {
    const selfPolicy = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("plain"), permissions: ["jobs.runs.read"] }, admin);
    const plain = await createKey({ policyId: selfPolicy.policy!.id, constraints: [{ type: ConstraintType.PREFIX, value: "/jobs" }] });
    const other = await createKey({});
    await expect(c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: other.apiKey!.id }, plain.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    expect(await codeOf(other.credentials)).toBe(CheckCode.VALID);
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: plain.apiKey!.id, overlap: { seconds: 60n } }, plain.credentials);
    expect(rotated.apiKey).toMatchObject({ policyId: selfPolicy.policy!.id, constraints: [{ type: ConstraintType.PREFIX, value: "/jobs" }] });
    expect(await codeOf(rotated.credentials, { method: "GET", path: "/jobs/1" })).toBe(CheckCode.VALID);
    expect(await codeOf(rotated.credentials, { method: "GET", path: "/admin" })).toBe(CheckCode.CONSTRAINT_DENIED);
    // A plain key cannot do anything else to keys.
    await expect(c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: other.apiKey!.id }, plain.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("lets a restricted caller create only keys at least as restricted as itself", async () => {
    const policy = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("issuer"), permissions: ["keyward.api_keys.write", "jobs.runs.read"] }, admin);
    const issuer = await createKey({
      policyId: policy.policy!.id,
      allowedSubnets: ["127.0.0.0/8"],
      constraints: [{ type: ConstraintType.PREFIX, value: "/keyward.v1.ApiKeyService" }, { type: ConstraintType.PREFIX, value: "/jobs" }],
    });
    const as = issuer.credentials;
    const jobs = [{ type: ConstraintType.PREFIX, value: "/jobs/7" }];
    await expect(createKey({ constraints: jobs }, as)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining("allowed_subnets") });
    await expect(createKey({ allowedSubnets: ["127.0.0.1/32"] }, as)).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining("constraints") });
    await expect(createKey({ allowedSubnets: ["10.0.0.0/8"], constraints: jobs }, as)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(createKey({ allowedSubnets: ["127.0.0.1/32"], constraints: [{ type: ConstraintType.PREFIX, value: "/" }] }, as)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    const narrow = await createKey({ allowedSubnets: ["127.0.0.1/32"], constraints: [...jobs, { type: ConstraintType.EXACT, value: "/jobs" }] }, as);
    expect(narrow.apiKey!.allowedSubnets).toEqual(["127.0.0.1/32"]);
    // Nor can it widen that key afterwards.
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: narrow.apiKey!.id, allowedSubnets: ["0.0.0.0/0"] }, updateMask: { paths: ["allowed_subnets"] } }, as),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("records last use within seconds of a check, without an UPDATE per check", async () => {
    const { credentials, apiKey } = await createKey({});
    expect((await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: apiKey!.id }, admin)).apiKey!.lastUsedTime).toBeUndefined();
    // The store itself counts UPDATE statements on api_keys, with a statement-level trigger.
    const db = kw.keyward.store.db;
    await sql`create table test_api_key_updates (at timestamptz not null default clock_timestamp())`.execute(db);
    await sql`create function test_count_api_key_update() returns trigger language plpgsql as $$
      begin insert into test_api_key_updates default values; return null; end $$`.execute(db);
    await sql`create trigger test_count_api_key_update after update on api_keys for each statement execute function test_count_api_key_update()`.execute(db);
    try {
      const started = Date.now();
      const checks = 40;
      for (let batch = 0; batch < checks / 10; batch++) {
        const verdicts = await Promise.all(Array.from({ length: 10 }, () => codeOf(credentials)));
        expect(verdicts.every((v) => v === CheckCode.VALID)).toBe(true);
      }
      let lastUsed;
      for (let tries = 0; tries < 50 && !lastUsed; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        lastUsed = (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: apiKey!.id }, admin)).apiKey!.lastUsedTime;
      }
      expect(lastUsed).toBeDefined();
      const elapsed = Date.now() - started;
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from test_api_key_updates`.execute(db);
      const updates = rows[0]!.n;
      // Last use was written by UPDATE, at most once per flush interval (200 ms in tests), not once per check.
      expect(updates).toBeGreaterThanOrEqual(1);
      expect(updates).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 1);
      expect(updates).toBeLessThan(checks / 2);
    } finally {
      await sql`drop trigger test_count_api_key_update on api_keys`.execute(db);
      await sql`drop function test_count_api_key_update()`.execute(db);
      await sql`drop table test_api_key_updates`.execute(db);
    }
  });

  it("lists keys expiring soon, to rotate them", async () => {
    const soon = await createKey({ expireTime: expiresIn(kw, 3 * 3_600_000) });
    const later = await createKey({ expireTime: expiresIn(kw, 30 * DAY) });
    const listed = await c.keys.call(ApiKeyService.method.adminListApiKeys, { expiringWithin: { seconds: BigInt(DAY / 1000) }, pageSize: 1000 }, admin);
    const ids = listed.apiKeys.map((k) => k.id);
    expect(ids).toContain(soon.apiKey!.id);
    expect(ids).not.toContain(later.apiKey!.id);
  });

  it("audits every mutation and every refused attempt, with no secret in any event", async () => {
    const policy = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("audited"), permissions: ["jobs.runs.read"] }, admin);
    const pid = policy.policy!.id;
    await c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: pid, description: "x" } }, admin);
    const key = await createKey({ policyId: pid });
    const kid = key.apiKey!.id;
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: kid, name: uniqueName("renamed") } }, admin);
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: kid }, admin);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: kid }, admin);
    await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: kid }, admin);
    await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: pid }, admin);
    await expect(c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: "S0meId0000000000" }, rotated.credentials)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    const plain = await createKey({});
    await expect(c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: readers }, plain.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    const forKey = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${kid}` }, admin);
    expect(forKey.auditEvents.map((e) => [e.action, e.outcome, e.changedFields])).toEqual([
      ["AdminDeleteApiKey", "OK", []],
      ["AdminRetireApiKey", "OK", ["state"]],
      ["AdminRotateApiKey", "OK", ["secret"]],
      ["AdminUpdateApiKey", "OK", ["name"]],
      ["AdminCreateApiKey", "OK", ["name", "policy_id", "expire_time"]],
    ]);
    for (const e of forKey.auditEvents) expect(e).toMatchObject({ actorKeyId: kw.keyward.bootstrapKeyId, clientIp: "127.0.0.1", createTime: expect.anything() });
    const forPolicy = await audit.call(AuditService.method.adminListAuditEvents, { target: `policies/${pid}` }, admin);
    expect(forPolicy.auditEvents.map((e) => e.action)).toEqual(["AdminDeleteApiKeyPolicy", "AdminUpdateApiKeyPolicy", "AdminCreateApiKeyPolicy"]);
    const refused = await audit.call(AuditService.method.adminListAuditEvents, { actorKeyId: plain.apiKey!.id }, admin);
    expect(refused.auditEvents[0]).toMatchObject({ action: "AdminDeleteApiKeyPolicy", target: `policies/${readers}`, outcome: "PermissionDenied" });
    const unauthenticated = await audit.call(AuditService.method.adminListAuditEvents, { target: "api_keys/S0meId0000000000" }, admin);
    expect(unauthenticated.auditEvents[0]).toMatchObject({ actorKeyId: "", outcome: "Unauthenticated", action: "AdminDeleteApiKey" });

    // Paging, newest first, with a time range.
    const page1 = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 3 }, admin);
    const page2 = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 3, pageToken: page1.nextPageToken }, admin);
    expect(page1.auditEvents).toHaveLength(3);
    expect(page2.auditEvents[0]!.createTime!.seconds).toBeLessThanOrEqual(page1.auditEvents[2]!.createTime!.seconds);
    const none = await audit.call(AuditService.method.adminListAuditEvents, { startTime: expiresIn(kw, DAY) }, admin);
    expect(none.auditEvents).toHaveLength(0);

    const all = JSON.stringify(
      (await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, admin)).auditEvents,
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    );
    for (const secret of [key.credentials, rotated.credentials, admin].map((k) => k.split("_")[2]!)) expect(all).not.toContain(secret);
  });
});
