// Client input reaches the log, the audit log and the store only bounded and
// only in a safe form: a huge or malformed id in a refused call cannot grow the
// log, escape the audit log or carry credentials into either, and inputs that
// Postgres or Date cannot hold are a 4xx, never a 500.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { createLogger } from "../../src/logger.js";
import { connectJson, GrpcClient } from "../../harness/clients.js";
import { LogCapture, startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

interface AuditEventJson {
  actorKeyId: string;
  action: string;
  target: string;
  outcome: string;
}

describe.each(TEST_STORES)("bounded input on $name", (store) => {
  let kw: RunningKeyward;
  const logs = new LogCapture();
  let admin: Record<string, string>;

  async function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
    const res = await fetch(`${kw.url}/api/v1${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  async function auditEvents(): Promise<AuditEventJson[]> {
    const res = await rest("GET", "/audit_events?pageSize=1000");
    expect(res.status).toBe(200);
    return (JSON.parse(res.text) as { auditEvents: AuditEventJson[] }).auditEvents;
  }

  const refusals = async (action: string) => (await auditEvents()).filter((e) => e.action === action && e.outcome !== "OK");

  async function newKey(name: string, permissions: string[]): Promise<{ id: string; credentials: string }> {
    const policy = await rest("POST", "/api_keys/policies", { name: `${name}-policy`, permissions });
    const policyId = (JSON.parse(policy.text) as { policy: { id: string } }).policy.id;
    const expireTime = new Date(kw.clock.now().getTime() + 86_400_000).toISOString();
    const created = JSON.parse((await rest("POST", "/api_keys", { name, policyId, expireTime })).text) as { apiKey: { id: string }; credentials: string };
    return { id: created.apiKey.id, credentials: created.credentials };
  }

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { logger: logs.logger("trace") });
    admin = { authorization: `Bearer ${kw.adminKey}` };
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("keeps 20 anonymous calls with a 1 MB id from growing the log, and no SQL parameter reaches it", async () => {
    const before = logs.text.length;
    const id = "A".repeat(1_000_000);
    for (let i = 0; i < 20; i++) {
      const res = await connectJson(kw.url, ApiKeyService.method.adminRotateApiKey, { id });
      expect(res.status).toBe(401);
    }
    // One short access line per call; nothing of the id.
    expect(logs.text.length - before).toBeLessThan(20 * 1024);
    expect(logs.text).not.toContain("A".repeat(100));
    expect(logs.text).not.toMatch(/"(parameters|params|query|detail|where)"/);
    const recorded = await refusals("AdminRotateApiKey");
    expect(recorded.length).toBeGreaterThanOrEqual(20);
    for (const event of recorded) expect(event.target.length).toBeLessThanOrEqual(64);
  });

  it("records every refused attempt, with a bounded target, whatever the id (2.7 KB random, NUL)", async () => {
    const cases: Array<[string, () => Promise<unknown>]> = [
      ["AdminRetireApiKey", () => connectJson(kw.url, ApiKeyService.method.adminRetireApiKey, { id: randomBytes(2025).toString("base64url") })],
      ["AdminDeleteApiKey", () => connectJson(kw.url, ApiKeyService.method.adminDeleteApiKey, { id: "k\u0000ey" })],
      ["AdminDeleteApiKeyPolicy", () => rest("DELETE", `/api_keys/policies/${randomBytes(2025).toString("base64url")}`, undefined, {})],
      ["AdminUpdateApiKeyPolicy", () => rest("PATCH", "/api_keys/policies/p%00", { description: "x" }, {})],
    ];
    for (const [action, call] of cases) {
      const before = (await refusals(action)).length;
      await call();
      const after = await refusals(action);
      expect(after.length, action).toBe(before + 1);
      const target = after[0]!.target;
      expect(target.length, action).toBeLessThanOrEqual(64);
      expect(target, action).not.toContain("\u0000");
    }
  });

  it("never stores or logs credentials passed where an id belongs", async () => {
    const victim = await newKey("victim", ["keyward.api_keys.read"]);
    const reader = await newKey("reader", ["keyward.api_keys.read"]);
    const secret = victim.credentials.split("_")[2]!;
    const logStart = logs.lines.length;
    const path = encodeURIComponent(victim.credentials);
    const calls = [
      await rest("GET", `/api_keys/${path}`),
      await rest("POST", `/api_keys/${path}:rotate`, {}),
      await rest("POST", `/api_keys/${path}:rotate`, {}, {}),
      await rest("POST", `/api_keys/${path}:retire`, {}, { authorization: `Bearer ${reader.credentials}` }),
      await rest("DELETE", `/api_keys/${path}`, undefined, {}),
      await connectJson(kw.url, ApiKeyService.method.adminRotateApiKey, { id: victim.credentials }),
      await connectJson(kw.url, PolicyService.method.adminDeleteApiKeyPolicy, { id: victim.credentials }),
    ];
    for (const call of calls) expect(call.status).toBeGreaterThanOrEqual(400);
    expect(calls.map((c) => c.status).every((s) => s < 500)).toBe(true);
    const logged = logs.lines.slice(logStart).join("\n");
    const audited = JSON.stringify(await auditEvents());
    for (const text of [logged, audited]) {
      expect(text).not.toContain(victim.credentials);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 12));
    }
    // The key itself was untouched.
    expect((await rest("GET", `/api_keys/${victim.id}`)).text).toContain('"API_KEY_STATE_ACTIVE"');
  });

  it("answers inputs Postgres or Date cannot hold with a 4xx, and logs no hash", async () => {
    const policyId = (JSON.parse((await rest("GET", `/api_keys/${kw.keyward.bootstrapKeyId}`)).text) as { apiKey: { policyId: string } }).apiKey.policyId;
    expect(policyId).toMatch(/^[0-9A-Za-z]{16}$/);
    const token = (t: string, id: string) => Buffer.from(JSON.stringify({ t, id })).toString("base64url");
    const expireTime = new Date(kw.clock.now().getTime() + 86_400_000).toISOString();
    const cases: Array<[string, string, string, unknown?]> = [
      ["a NUL id", "GET", "/api_keys/%00"],
      ["a NUL id in an update", "PATCH", "/api_keys/%00?updateMask=name", { name: "x" }],
      ["a NUL policy id", "DELETE", "/api_keys/policies/%00"],
      ["an expiringWithin past any date", "GET", "/api_keys?expiringWithin=315576000000s"],
      ["a NUL audit target", "GET", "/audit_events?target=%00"],
      ["a NUL audit actor", "GET", "/audit_events?actorKeyId=%00"],
      ["a NUL in a page token", "GET", `/api_keys?pageToken=${token(new Date().toISOString(), "\u0000")}`],
      ["a NUL in an audit page token", "GET", `/audit_events?pageToken=${token(new Date().toISOString(), "\u0000")}`],
      ["a raw NUL page token", "GET", "/api_keys?pageToken=%00"],
      ["a page token past Postgres' years", "GET", `/api_keys?pageToken=${token("+275760-01-01T00:00:00.000Z", "AAAAAAAAAAAAAAAA")}`],
      ["a NUL policy filter", "GET", "/api_keys?policyId=%00"],
      [
        "a regex constraint with a NUL",
        "POST",
        "/api_keys",
        { name: "nul-regex", policyId, expireTime, constraints: [{ type: "CONSTRAINT_TYPE_REGEX", value: "/a\u0000" }] },
      ],
      ["a NUL subnet", "POST", "/api_keys", { name: "nul-subnet", policyId, expireTime, allowedSubnets: ["10.0.0.0/8\u0000"] }],
      ["a NUL in a policy description", "POST", "/api_keys/policies", { name: "nul-description", description: "a\u0000" }],
      ["a NUL permission", "POST", "/api_keys/policies", { name: "nul-permission", permissions: ["keyward.api_keys.read\u0000"] }],
    ];
    const answers: string[] = [];
    for (const [label, method, path, body] of cases) answers.push(`${label}: ${(await rest(method, path, body)).status}`);
    expect(answers.filter((a) => !/: 4\d\d$/.test(a))).toEqual([]);
    // Times past any Date, only expressible in binary: INVALID_ARGUMENT (3), not INTERNAL.
    const audit = new GrpcClient(AuditService, kw.port);
    try {
      for (const range of [{ startTime: { seconds: 10n ** 15n } }, { endTime: { seconds: -(10n ** 15n) } }, { startTime: { seconds: 6_000_000_000_000n } }]) {
        await expect(audit.call(AuditService.method.adminListAuditEvents, range, kw.adminKey)).rejects.toMatchObject({ code: 3 });
      }
    } finally {
      audit.close();
    }
    expect(logs.text).not.toContain("$argon2id$");
    expect(logs.text).not.toMatch(/"(parameters|params|query)"/);
  });

  it("logs a store error with neither its SQL nor its parameters nor the row it broke on", async () => {
    const capture = new LogCapture();
    const logger = createLogger("trace", capture.stream);
    const marker = `$argon2id$v=19$${"m".repeat(2000)}`;
    const event = { actorKeyId: "", action: marker, outcome: "OK", clientIp: "", createTime: new Date(), changedFields: [], detail: "" };
    const id = "D".repeat(16);
    await kw.keyward.store.auditEvents.insert({ ...event, id, target: "t" });
    // Postgres refuses NUL in text (22021); the same id twice (23505, whose detail quotes the row).
    // Each is caught as it is made: both run at once, and the second may fail before the first is awaited.
    const failures = [
      { ...event, id: "N".repeat(16), target: "\u0000" },
      { ...event, id, target: marker },
    ].map((row) => kw.keyward.store.auditEvents.insert(row).then(() => undefined, (e: unknown) => e));
    for (const failure of failures) {
      const error = await failure;
      expect(error).toBeInstanceOf(Error);
      logger.error({ err: error }, "store failed");
    }
    expect(capture.lines).toHaveLength(2);
    for (const line of capture.lines) {
      expect(line).not.toContain("$argon2id$");
      expect(line).not.toMatch(/"(parameters|params|query|queryOptions|detail|where|internalQuery)"/);
      expect(line.length).toBeLessThan(4096);
      expect(JSON.parse(line)).toMatchObject({ err: { type: expect.any(String), message: expect.any(String), code: expect.stringMatching(/^(22021|22P05|23505)$/) } });
    }
  });

  it("writes no log line beyond a bounded size", () => {
    for (const line of logs.lines) expect(line.length).toBeLessThan(4096);
  });
});
