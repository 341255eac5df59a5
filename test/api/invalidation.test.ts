// "Effective immediately" with a verification cache: every kind of write is
// seen by the next check on the replica that made it and, through change
// notifications, on every other replica sharing the store.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { metricValue } from "../support/metrics.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";

interface Topology {
  name: string;
  /** The replica writes go to, and the one checks go to. */
  start(): Promise<{ writer: RunningKeyward; reader: RunningKeyward; close(): Promise<void> }>;
}

const topologies: Topology[] = [
  {
    name: "one PGlite server",
    async start() {
      const kw = await startKeyward({ kind: "pglite" });
      return { writer: kw, reader: kw, close: () => kw.close() };
    },
  },
  ...(POSTGRES_URL
    ? [
        {
          name: "two servers sharing PostgreSQL",
          async start() {
            const url = await freshPostgresDatabase();
            const writer = await startKeyward({ kind: "postgres", url });
            const reader = await startKeyward({ kind: "postgres", url });
            return { writer, reader, close: async () => void (await Promise.all([writer.close(), reader.close()])) };
          },
        },
      ]
    : []),
];

describe.each(topologies)("cache invalidation on $name", (topology) => {
  let writer: RunningKeyward;
  let reader: RunningKeyward;
  let close: () => Promise<void>;
  let w: Clients;
  let r: Clients;
  let admin: string;

  beforeAll(async () => {
    ({ writer, reader, close } = await topology.start());
    w = grpcClients(writer.port);
    r = grpcClients(reader.port);
    admin = writer.adminKey;
    await w.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "shop", permissions: [{ name: "shop.orders.read" }, { name: "shop.orders.write" }] },
      admin,
    );
  });
  afterAll(async () => {
    w?.close();
    r?.close();
    await close?.();
  });

  const newPolicy = async (permissions: string[]) =>
    (await w.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("p"), permissions }, admin)).policy!.id;
  const newKey = async (policyId: string) =>
    w.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("k"), policyId, expireTime: expiresIn(writer, DAY) }, admin);
  const check = async (key: string, permissions = ["shop.orders.read"]) =>
    (await r.check.call(CheckService.method.checkKey, { key, permissions, clientIp: "10.1.1.1" }, admin)).code;
  /** The reader's verdict once it changes from `before` (a notification round trip at most), or `before` after 3 s. */
  async function verdictAfter(key: string, before: CheckCode, permissions?: string[]): Promise<CheckCode> {
    const deadline = Date.now() + 3_000;
    let code = await check(key, permissions);
    while (code === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      code = await check(key, permissions);
    }
    return code;
  }
  /** Checks twice so the reader has the key cached. */
  async function warm(key: string): Promise<void> {
    expect(await check(key)).toBe(CheckCode.VALID);
    expect(await check(key)).toBe(CheckCode.VALID);
  }

  it("serves warm checks from the cache", async () => {
    const { credentials } = await newKey(await newPolicy(["shop.orders.read"]));
    await check(credentials);
    const hits = await metricValue(reader.url, "keyward_cache_hits_total");
    const verifications = await metricValue(reader.url, "keyward_argon2_verifications_total");
    for (let i = 0; i < 10; i++) await check(credentials);
    expect(await metricValue(reader.url, "keyward_cache_hits_total")).toBeGreaterThanOrEqual(hits + 10);
    expect(await metricValue(reader.url, "keyward_argon2_verifications_total")).toBe(verifications);
  });

  it("sees a key moved to another policy, and a key given subnets", async () => {
    const { credentials, apiKey } = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(credentials);
    await w.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: apiKey!.id, policyId: await newPolicy(["shop.orders.write"]) } }, admin);
    expect(await verdictAfter(credentials, CheckCode.VALID)).toBe(CheckCode.PERMISSION_DENIED);
    const other = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(other.credentials);
    await w.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: other.apiKey!.id, allowedSubnets: ["192.0.2.0/24"] } }, admin);
    expect(await verdictAfter(other.credentials, CheckCode.VALID)).toBe(CheckCode.SUBNET_DENIED);
  });

  it("sees a key retired, rotated without overlap, and deleted", async () => {
    const retired = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(retired.credentials);
    await w.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.apiKey!.id }, admin);
    expect(await verdictAfter(retired.credentials, CheckCode.VALID)).toBe(CheckCode.RETIRED);

    const rotated = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(rotated.credentials);
    await w.keys.call(ApiKeyService.method.adminRotateApiKey, { id: rotated.apiKey!.id }, admin);
    expect(await verdictAfter(rotated.credentials, CheckCode.VALID)).toBe(CheckCode.NOT_FOUND);

    const deleted = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(deleted.credentials);
    await w.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: deleted.apiKey!.id }, admin);
    expect(await verdictAfter(deleted.credentials, CheckCode.VALID)).toBe(CheckCode.NOT_FOUND);
  });

  it("sees a key revoked by possession (no credential but the key) on another replica", async () => {
    const leaked = await newKey(await newPolicy(["shop.orders.read"]));
    await warm(leaked.credentials);
    const res = await fetch(`${writer.url}/api/v1/api_keys:revoke`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: leaked.credentials }) });
    expect(res.status).toBe(200);
    expect(await verdictAfter(leaked.credentials, CheckCode.VALID)).toBe(CheckCode.RETIRED);
  });

  it("sees a policy narrowed and a policy deleted", async () => {
    const policyId = await newPolicy(["shop.orders.read"]);
    const { credentials } = await newKey(policyId);
    await warm(credentials);
    await w.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: policyId, permissions: ["shop.orders.write"] } }, admin);
    expect(await verdictAfter(credentials, CheckCode.VALID)).toBe(CheckCode.PERMISSION_DENIED);

    const doomed = await newPolicy(["shop.orders.read"]);
    const key = await newKey(doomed);
    await warm(key.credentials);
    await w.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: doomed }, admin);
    expect(await verdictAfter(key.credentials, CheckCode.VALID)).toBe(CheckCode.NOT_FOUND);
  });

  it("changes every key on a policy at once: the keys share one cached record of it", async () => {
    const policyId = await newPolicy(["shop.orders.read"]);
    const keys = [(await newKey(policyId)).credentials, (await newKey(policyId)).credentials];
    for (const key of keys) await warm(key);
    const name = uniqueName("renamed");
    await w.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: policyId, name, permissions: ["shop.orders.read", "shop.orders.write"] } }, admin);
    expect(await verdictAfter(keys[0]!, CheckCode.PERMISSION_DENIED, ["shop.orders.write"])).toBe(CheckCode.VALID);
    // The notification that changed the first key changed the second with it: no wait.
    expect(await check(keys[1]!, ["shop.orders.write"])).toBe(CheckCode.VALID);
    for (const key of keys) {
      const answer = await r.check.call(CheckService.method.checkKey, { key, permissions: ["shop.orders.write"] }, admin);
      expect(answer.policyName).toBe(name);
      expect(answer.permissions).toEqual(["shop.orders.read", "shop.orders.write"]);
    }
  });

  it("sees a service stop registering a permission a pattern granted", async () => {
    await w.permissions.call(PermissionService.method.registerPermissions, { service: "mail", permissions: [{ name: "mail.messages.send" }] }, admin);
    const { credentials } = await newKey(await newPolicy(["mail.*", "shop.orders.read"]));
    expect(await check(credentials, ["mail.messages.send"])).toBe(CheckCode.VALID);
    expect(await check(credentials, ["mail.messages.send"])).toBe(CheckCode.VALID);
    await w.permissions.call(PermissionService.method.registerPermissions, { service: "mail", permissions: [] }, admin);
    expect(await verdictAfter(credentials, CheckCode.VALID, ["mail.messages.send"])).toBe(CheckCode.PERMISSION_DENIED);
  });

  it("sees its own writes on the very next check, without waiting for a notification", async () => {
    const policyId = await newPolicy(["shop.orders.read"]);
    const { credentials } = await newKey(policyId);
    const own = (await writer.keyward.services.checker.check({ key: credentials, permissions: ["shop.orders.write"], method: "", path: "", clientIp: "" })).code;
    expect(own).toBe("PERMISSION_DENIED");
    await writer.keyward.services.policies.update(
      { keyId: writer.keyward.bootstrapKeyId!, policyId: "", grants: [{ kind: "all" }], allowedSubnets: [], constraints: [], service: null, request: null, secretRotatedOut: false, clientIp: "" },
      policyId,
      { permissions: ["shop.orders.read", "shop.orders.write"] },
    );
    const next = (await writer.keyward.services.checker.check({ key: credentials, permissions: ["shop.orders.write"], method: "", path: "", clientIp: "" })).code;
    expect(next).toBe("VALID");
  });
});

describe.skipIf(!POSTGRES_URL)("losing the change feed on PostgreSQL", () => {
  let kw: RunningKeyward;
  let c: Clients;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "postgres", url: await freshPostgresDatabase() });
    c = grpcClients(kw.port);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("drops the cache, reads the store while the feed is down, and recovers by itself", async () => {
    const admin = kw.adminKey;
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: "feed-test", policyId: policies[0]!.id, expireTime: expiresIn(kw, DAY) },
      admin,
    );
    const check = async () => (await c.check.call(CheckService.method.checkKey, { key: created.credentials }, admin)).code;
    expect(await check()).toBe(CheckCode.VALID);
    expect(await metricValue(kw.url, "keyward_change_feed_up")).toBe(1);
    expect(await metricValue(kw.url, "keyward_cache_entries")).toBeGreaterThan(0);

    // Terminate the LISTEN connection from SQL.
    const db = kw.keyward.store.db;
    const { sql } = await import("kysely");
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'LISTEN%' and pid <> pg_backend_pid()`.execute(db);
    // Retire the key behind Keyward's back (no notification): with the feed down, the store is read.
    await db.updateTable("api_keys").set({ state: "retired" }).where("id", "=", created.apiKey!.id).execute();
    let code = await check();
    for (let i = 0; i < 100 && code === CheckCode.VALID; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      code = await check();
    }
    expect(code).toBe(CheckCode.RETIRED);

    // The feed comes back by itself and the cache is used again.
    let up = 0;
    for (let i = 0; i < 100 && up !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      up = await metricValue(kw.url, "keyward_change_feed_up");
    }
    expect(up).toBe(1);
    // A key created now: the retired one's verdict may have been cached by a check
    // that ran after the feed was back, which nothing behind Keyward's back would undo.
    const later = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: "feed-test-after", policyId: policies[0]!.id, expireTime: expiresIn(kw, DAY) },
      admin,
    );
    const checkLater = async () => (await c.check.call(CheckService.method.checkKey, { key: later.credentials }, admin)).code;
    expect(await checkLater()).toBe(CheckCode.VALID);
    const hits = await metricValue(kw.url, "keyward_cache_hits_total");
    expect(await checkLater()).toBe(CheckCode.VALID);
    expect(await metricValue(kw.url, "keyward_cache_hits_total")).toBeGreaterThan(hits);
  });
});

describe("single-flight verification and the argon2 budget", () => {
  it("verifies a cold key once however many checks arrive together", async () => {
    const kw = await startKeyward({ kind: "pglite" });
    const c = grpcClients(kw.port);
    try {
      const admin = kw.adminKey;
      const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
      const created = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "cold", policyId: policies[0]!.id, expireTime: expiresIn(kw, DAY) }, admin);
      const before = await metricValue(kw.url, "keyward_argon2_verifications_total");
      const verdicts = await Promise.all(Array.from({ length: 20 }, () => c.check.call(CheckService.method.checkKey, { key: created.credentials }, admin)));
      expect(verdicts.every((v) => v.code === CheckCode.VALID)).toBe(true);
      expect(await metricValue(kw.url, "keyward_argon2_verifications_total")).toBe(before + 1);
      expect(await metricValue(kw.url, "keyward_checks_total", { code: "VALID" })).toBeGreaterThanOrEqual(20);
    } finally {
      c.close();
      await kw.close();
    }
  });

  it("answers RESOURCE_EXHAUSTED at once when forged secrets exceed the budget, and warm checks still pass", async () => {
    const kw = await startKeyward({ kind: "pglite" }, { config: { argon2Budget: { maxInFlight: 1, maxQueued: 0, maxQueuedPerKey: 2, failureCooldownMs: 50 }, hashCost: { memoryKiB: 4096, iterations: 3, parallelism: 1 } } });
    const c = grpcClients(kw.port);
    try {
      const admin = kw.adminKey;
      await c.check.call(CheckService.method.checkKey, { key: admin }, admin); // warm the admin key
      const id = admin.split("_")[1]!;
      const { formatKey } = await import("../../src/domain/key-format.js");
      const { randomBase62 } = await import("../../src/domain/random.js");
      // A verdict and an RPC error are told apart by name: their numbers overlap
      // (RESOURCE_EXHAUSTED = 8 = CheckCode.PERMISSION_DENIED).
      const forged = Array.from({ length: 10 }, () =>
        c.check.call(CheckService.method.checkKey, { key: formatKey("kw", id, randomBase62(33)) }, admin).then(
          (v) => `verdict ${CheckCode[v.code]}`,
          (e: { code: number }) => `error ${status[e.code]}`,
        ),
      );
      const results = await Promise.all(forged);
      expect(results).toContain("error RESOURCE_EXHAUSTED");
      expect(results).toContain("verdict NOT_FOUND");
      expect(results.filter((r) => r !== "error RESOURCE_EXHAUSTED" && r !== "verdict NOT_FOUND")).toEqual([]);
      expect((await c.check.call(CheckService.method.checkKey, { key: admin }, admin)).code).toBe(CheckCode.VALID);
    } finally {
      c.close();
      await kw.close();
    }
  });
});
