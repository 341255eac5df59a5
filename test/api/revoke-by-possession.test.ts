// Revoke by possession (design §8, issue #19): POST /api/v1/api_keys:revoke
// with {key} and no other credential retires the key, through grpc-js and
// REST alike; the answer is the same {} whatever the key was, so it tells an
// attacker nothing; callers are paced per client address; the audit log
// records it and no secret reaches the audit log or the process log.
import { create } from "@bufbuild/protobuf";
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState, RevokeApiKeyResponseSchema } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { newCredentials } from "../../src/domain/key-format.js";
import { GrpcClient } from "../../harness/clients.js";
import { grpcClients, keyWithPermissions, type Clients } from "../support/fixtures.js";
import { LogCapture, startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const REVOKE_PATH = "/api/v1/api_keys:revoke";
const LIMIT = 3;

describe.each(TEST_STORES)("revoke by possession on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let audit: GrpcClient<typeof AuditService>;
  const logs = new LogCapture();
  /** Every key sent to RevokeApiKey: none may appear in a log line. */
  const presented: string[] = [];

  beforeAll(async () => {
    // One trusted proxy hop: each test speaks from its own address through X-Forwarded-For.
    kw = await startKeyward(await store.create(), {
      logger: logs.logger("trace"),
      config: { trustedProxyHops: 1, revokeRateLimit: { limit: LIMIT, periodMs: 60_000 } },
    });
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
  });

  const newKey = () => keyWithPermissions(kw, c, ["keyward.keys.check"]);
  const codeOf = async (key: string) => (await c.check.call(CheckService.method.checkKey, { key, permissions: [] }, kw.adminKey)).code;
  const stateOf = async (id: string) => (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, kw.adminKey)).apiKey!;

  /** REST, as a finder would run it with curl: no key of their own. */
  async function revokeRest(key: unknown, ip: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    if (typeof key === "string") presented.push(key);
    const res = await fetch(`${kw.url}${REVOKE_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": ip, ...headers },
      body: JSON.stringify(key === undefined ? {} : { key }),
    });
    return { status: res.status, body: await res.text() };
  }

  /** grpc-js with no authorization metadata. */
  function revokeGrpc(key: string, ip: string) {
    presented.push(key);
    return c.keys.call(ApiKeyService.method.revokeApiKey, { key }, undefined, { "x-forwarded-for": ip });
  }

  it("retires a key presented over grpc-js with no credential; CheckKey then refuses it, also where it was cached", async () => {
    const key = await newKey();
    // Warm: the verification cache holds the key, so the revocation must invalidate it.
    expect(await codeOf(key.credentials)).toBe(CheckCode.VALID);
    expect(await codeOf(key.credentials)).toBe(CheckCode.VALID);
    const answer = await revokeGrpc(key.credentials, "10.0.1.1");
    expect(answer).toEqual(create(RevokeApiKeyResponseSchema));
    expect(await codeOf(key.credentials)).toBe(CheckCode.RETIRED);
    const record = await stateOf(key.id);
    expect(record.state).toBe(ApiKeyState.RETIRED);
    // Retired by whoever held it: the key itself.
    expect(record.retirerKeyId).toBe(key.id);
  });

  it("retires a key over REST with no Authorization header, and answers {}", async () => {
    const key = await newKey();
    expect(await revokeRest(key.credentials, "10.0.2.1")).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(key.credentials)).toBe(CheckCode.RETIRED);
  });

  it("ignores a key sent in Authorization: neither needed, nor checked, nor revoked", async () => {
    const key = await newKey();
    const bystander = await newKey();
    // A garbage bearer would be refused by any other RPC; here it is not even read.
    expect(await revokeRest(key.credentials, "10.0.3.1", { authorization: "Bearer not-a-key" })).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(key.credentials)).toBe(CheckCode.RETIRED);
    // The key in the header is not the one revoked.
    expect(await revokeRest(newCredentials("kw").credentials, "10.0.3.1", { authorization: `Bearer ${bystander.credentials}` })).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(bystander.credentials)).toBe(CheckCode.VALID);
  });

  it("answers unknown, forged, mistyped and already retired keys with the same {} and changes nothing", async () => {
    const victim = await newKey();
    const retired = await newKey();
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.id }, kw.adminKey);
    // Every key's state and last change (last use moves with the checks made meanwhile).
    const keyStates = async () =>
      (await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey)).apiKeys.map((k) => [k.id, k.state, k.updateTime, k.retirerKeyId]);
    const keysBefore = await keyStates();
    const auditBefore = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, kw.adminKey);
    const badChecksum = victim.credentials.slice(0, -1) + (victim.credentials.endsWith("A") ? "B" : "A");
    const probes = {
      "unknown key id": newCredentials("kw").credentials,
      "known id, wrong secret (valid checksum)": newCredentials("kw", victim.id).credentials,
      "right length, bad checksum": badChecksum,
      "not a key at all": "hello",
      "already retired": retired.credentials,
    };
    // Each probe from its own address: the rate limit is not what answers here.
    let n = 0;
    for (const [what, probe] of Object.entries(probes)) {
      expect(await revokeRest(probe, `10.0.4.${++n}`), what).toEqual({ status: 200, body: "{}" });
      expect(await revokeGrpc(probe, `10.0.5.${n}`), what).toEqual(create(RevokeApiKeyResponseSchema));
    }
    expect(await codeOf(victim.credentials)).toBe(CheckCode.VALID);
    expect(await keyStates()).toEqual(keysBefore);
    const auditAfter = await audit.call(AuditService.method.adminListAuditEvents, { pageSize: 1000 }, kw.adminKey);
    // The listing calls themselves are reads: no event at all was written.
    expect(auditAfter.auditEvents.length).toBe(auditBefore.auditEvents.length);
  });

  it("revokes with a previous secret during its rotation overlap, but not after it", async () => {
    const key = await newKey();
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: key.id, overlap: { seconds: 3600n } }, kw.adminKey);
    expect(await codeOf(key.credentials)).toBe(CheckCode.VALID);
    expect(await revokeRest(key.credentials, "10.0.6.1")).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(rotated.credentials)).toBe(CheckCode.RETIRED);

    const later = await newKey();
    const next = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: later.id, overlap: { seconds: 60n } }, kw.adminKey);
    kw.clock.advance(120_000);
    expect(await revokeRest(later.credentials, "10.0.6.2")).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(next.credentials)).toBe(CheckCode.VALID);
    expect((await stateOf(later.id)).state).toBe(ApiKeyState.ACTIVE);
  });

  it("records the revocation in the audit log: the key as actor, the client address, no secret", async () => {
    const key = await newKey();
    await revokeRest(key.credentials, "10.0.7.1");
    const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${key.id}` }, kw.adminKey);
    const revocation = auditEvents.find((e) => e.action === "RevokeApiKey");
    expect(revocation).toMatchObject({ actorKeyId: key.id, target: `api_keys/${key.id}`, outcome: "OK", clientIp: "10.0.7.1", changedFields: ["state"] });
    const secret = key.credentials.split("_")[2]!;
    expect(JSON.stringify(auditEvents, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(secret);
  });

  it("refuses a missing, empty or oversized key with INVALID_ARGUMENT (400), changing nothing", async () => {
    for (const body of [undefined, "", "k".repeat(257)]) {
      const res = await revokeRest(body, "10.0.8.1");
      expect(res.status, JSON.stringify(body)?.slice(0, 20)).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringContaining("key") });
    }
    const unknownField = await fetch(`${kw.url}${REVOKE_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"token":"x"}' });
    expect(unknownField.status).toBe(400);
    const error = await revokeGrpc("", "10.0.8.2").catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(status.INVALID_ARGUMENT);
  });

  it("limits each client address (IPv6 by /64) and answers RESOURCE_EXHAUSTED (429) beyond it, revoking nothing", async () => {
    const key = await newKey();
    for (let i = 0; i < LIMIT; i++) expect((await revokeRest(newCredentials("kw").credentials, "10.0.9.1")).status).toBe(200);
    const refused = await revokeRest(key.credentials, "10.0.9.1");
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await codeOf(key.credentials)).toBe(CheckCode.VALID);
    const overGrpc = await revokeGrpc(key.credentials, "10.0.9.1").catch((e: ServiceError) => e);
    expect((overGrpc as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await codeOf(key.credentials)).toBe(CheckCode.VALID);
    // Another address has its own allowance.
    expect(await revokeRest(key.credentials, "10.0.9.2")).toEqual({ status: 200, body: "{}" });
    expect(await codeOf(key.credentials)).toBe(CheckCode.RETIRED);

    for (let i = 0; i < LIMIT; i++) expect((await revokeRest(newCredentials("kw").credentials, `2001:db8:1:2::${i + 1}`)).status).toBe(200);
    expect((await revokeRest(newCredentials("kw").credentials, "2001:db8:1:2:ffff::9")).status).toBe(429);
    expect((await revokeRest(newCredentials("kw").credentials, "2001:db8:1:3::1")).status).toBe(200);
  });

  it("writes no presented key to the log, and logs each revocation by key id and address", async () => {
    for (const key of presented) {
      // The secret and checksum part: what makes the string a credential.
      const secretPart = key.split("_")[2];
      if (secretPart !== undefined && secretPart.length > 8) expect(logs.text).not.toContain(secretPart);
    }
    const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "API key revoked by possession" && l.clientIp === "10.0.7.1")).toMatchObject({ apiKeyId: expect.any(String) });
  });

  // Last: it leaves this server without an admin key.
  it("retires even the last admin key (a leaked one must die), and the log says how to recover", async () => {
    expect(await revokeRest(kw.adminKey, "10.0.10.1")).toEqual({ status: 200, body: "{}" });
    const refused = await codeOf(kw.adminKey).catch((e: ServiceError) => e);
    expect((refused as ServiceError).code).toBe(status.UNAUTHENTICATED);
    const warning = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 40 && String(l.msg).includes("npm run recover"));
    expect(warning).toMatchObject({ apiKeyId: kw.keyward.bootstrapKeyId, clientIp: "10.0.10.1" });
  });
});
