// Paging and filters on the lists an admin scripts against (issue #23): the
// policy list pages and filters by name; the key list filters by service, name
// and label, and by how long a key has gone unused. Over grpc-js and REST fetch,
// on every test store.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyOrder, ApiKeyService, ApiKeyState, type ApiKey } from "../../gen/keyward/v1/api_keys_pb.js";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, grpcClients, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("list paging and filters on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  // Policy names in creation order (after the bootstrap's keyward-admin).
  const POLICY_NAMES = ["Payments-Reader", "orders-reader", "payments-writer", "ops%_x", "opsAx"];
  const policyIds = new Map<string, string>();
  // Keys in creation order (after the bootstrap admin key).
  const KEYS = [
    { name: "Payments-Job", service: "payments", policy: "Payments-Reader" },
    { name: "payments-cron", service: "payments", policy: "orders-reader" },
    { name: "orders-job", service: "orders", policy: "Payments-Reader" },
    { name: "plain-job", service: "", policy: "Payments-Reader" },
    { name: "payments-report", service: "payments", policy: "Payments-Reader" },
  ];
  const keyIds = new Map<string, string>();
  const keyCredentials = new Map<string, string>();

  const rest = async (path: string) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, { headers: { authorization: `Bearer ${kw.adminKey}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    for (const name of POLICY_NAMES) {
      const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name, permissions: ["keyward.keys.check"] }, kw.adminKey);
      policyIds.set(name, policy!.id);
    }
    for (const k of KEYS) {
      const { apiKey, credentials } = await c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: k.name, policyId: policyIds.get(k.policy)!, ttl: { seconds: BigInt(DAY / 1000) }, service: k.service },
        kw.adminKey,
      );
      keyIds.set(k.name, apiKey!.id);
      keyCredentials.set(k.name, credentials);
    }
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: keyIds.get("payments-cron")! }, kw.adminKey);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  describe("the policy list", () => {
    const listPolicies = (req: { pageSize?: number; pageToken?: string; nameContains?: string }) =>
      c.policies.call(PolicyService.method.adminGetApiKeyPolicies, req, kw.adminKey);

    it("pages through every policy in creation order over grpc-js, each once", async () => {
      const seen: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await listPolicies({ pageSize: 2, pageToken });
        expect(page.policies.length).toBeLessThanOrEqual(2);
        seen.push(...page.policies.map((p) => p.name));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== "");
      expect(seen).toEqual(["keyward-admin", ...POLICY_NAMES]);
      expect(pages).toBe(3);
    });

    it("answers at most 50 by default, and everything on one page when it fits", async () => {
      const all = await listPolicies({});
      expect(all.policies).toHaveLength(POLICY_NAMES.length + 1);
      expect(all.nextPageToken).toBe("");
    });

    it("filters by a text in the name, ignoring case, combined with paging", async () => {
      const first = await listPolicies({ nameContains: "PAYMENTS", pageSize: 1 });
      expect(first.policies.map((p) => p.name)).toEqual(["Payments-Reader"]);
      const second = await listPolicies({ nameContains: "PAYMENTS", pageSize: 1, pageToken: first.nextPageToken });
      expect(second.policies.map((p) => p.name)).toEqual(["payments-writer"]);
      expect(second.nextPageToken).toBe("");
      expect((await listPolicies({ nameContains: "reader" })).policies.map((p) => p.name)).toEqual(["Payments-Reader", "orders-reader"]);
      expect((await listPolicies({ nameContains: "no such policy" })).policies).toEqual([]);
    });

    it("matches the text as given: % and _ are no wildcards", async () => {
      expect((await listPolicies({ nameContains: "%" })).policies.map((p) => p.name)).toEqual(["ops%_x"]);
      expect((await listPolicies({ nameContains: "ops_" })).policies).toEqual([]);
    });

    it("refuses a bad page token, a negative page size and an over-long filter with INVALID_ARGUMENT", async () => {
      await expect(listPolicies({ pageToken: "bm90LWEtdG9rZW4" })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("page_token") });
      await expect(listPolicies({ pageSize: -1 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("page_size") });
      await expect(listPolicies({ nameContains: "x".repeat(101) })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining("name_contains: must be at most 100 characters"),
      });
      await expect(listPolicies({ nameContains: "a\u0000" })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("name_contains") });
    });

    it("serves paging and the filter over REST, snake_case query parameters too", async () => {
      const first = await rest("/api_keys/policies?nameContains=payments&pageSize=1");
      expect(first.status).toBe(200);
      expect(first.body.policies.map((p: { name: string }) => p.name)).toEqual(["Payments-Reader"]);
      expect(first.body.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/);
      const second = await rest(`/api_keys/policies?name_contains=payments&page_size=1&page_token=${first.body.nextPageToken}`);
      expect(second).toMatchObject({ status: 200, body: { policies: [{ name: "payments-writer", id: policyIds.get("payments-writer") }] } });
      expect(second.body.policies).toHaveLength(1);
      expect(second.body.nextPageToken ?? "").toBe("");
      expect(await rest("/api_keys/policies?pageToken=nonsense")).toEqual({
        status: 400,
        body: { code: 3, message: "page_token: is not a token from a previous response", details: [] },
      });
      expect((await rest(`/api_keys/policies?nameContains=${"x".repeat(101)}`)).status).toBe(400);
    });
  });

  describe("the key list", () => {
    type KeyQuery = {
      pageSize?: number;
      pageToken?: string;
      service?: string;
      nameContains?: string;
      policyId?: string;
      state?: ApiKeyState;
      idleFor?: { seconds: bigint };
    };
    const names = async (req: KeyQuery) => (await c.keys.call(ApiKeyService.method.adminListApiKeys, req, kw.adminKey)).apiKeys.map((k) => k.name);

    it("filters by service over grpc-js", async () => {
      expect(await names({ service: "payments" })).toEqual(["Payments-Job", "payments-cron", "payments-report"]);
      expect(await names({ service: "orders" })).toEqual(["orders-job"]);
      expect(await names({ service: "shipping" })).toEqual([]);
    });

    it("filters by a text in the name, ignoring case, as the policy list does", async () => {
      expect(await names({ nameContains: "JOB" })).toEqual(["Payments-Job", "orders-job", "plain-job"]);
      expect(await names({ nameContains: "_" })).toEqual([]);
    });

    it("combines service, name, policy and state, and pages through the result", async () => {
      expect(await names({ service: "payments", nameContains: "job" })).toEqual(["Payments-Job"]);
      expect(await names({ service: "payments", policyId: policyIds.get("Payments-Reader")! })).toEqual(["Payments-Job", "payments-report"]);
      expect(await names({ service: "payments", state: ApiKeyState.ACTIVE })).toEqual(["Payments-Job", "payments-report"]);
      expect(await names({ nameContains: "payments", state: ApiKeyState.RETIRED })).toEqual(["payments-cron"]);
      const first = await c.keys.call(ApiKeyService.method.adminListApiKeys, { service: "payments", pageSize: 2 }, kw.adminKey);
      expect(first.apiKeys.map((k) => k.name)).toEqual(["Payments-Job", "payments-cron"]);
      const second = await c.keys.call(ApiKeyService.method.adminListApiKeys, { service: "payments", pageSize: 2, pageToken: first.nextPageToken }, kw.adminKey);
      expect(second.apiKeys.map((k) => k.name)).toEqual(["payments-report"]);
      expect(second.nextPageToken).toBe("");
    });

    it("refuses a malformed service and an over-long name filter with INVALID_ARGUMENT", async () => {
      await expect(names({ service: "Payments" })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("service: must be lower-case") });
      await expect(names({ nameContains: "n".repeat(101) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("name_contains") });
    });

    it("serves the filters over REST", async () => {
      const listed = await rest(`/api_keys?service=payments&nameContains=JOB`);
      expect(listed.status).toBe(200);
      expect(listed.body.apiKeys.map((k: { id: string }) => k.id)).toEqual([keyIds.get("Payments-Job")]);
      const paged = await rest(`/api_keys?service=payments&name_contains=payments&page_size=1&state=API_KEY_STATE_ACTIVE`);
      expect(paged.body.apiKeys.map((k: { name: string }) => k.name)).toEqual(["Payments-Job"]);
      const next = await rest(`/api_keys?service=payments&name_contains=payments&page_size=1&state=API_KEY_STATE_ACTIVE&pageToken=${paged.body.nextPageToken}`);
      expect(next.body.apiKeys.map((k: { name: string }) => k.name)).toEqual(["payments-report"]);
      expect(await rest(`/api_keys?service=Bad%20Service`)).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining("service") } });
    });

    // Last: it moves the clock two hours on (every key still has most of its day to live).
    it("filters by idleness: unused since creation or since the last check, combined with the other filters and paging", async () => {
      const HOUR = 3600n;
      const idle = (seconds: bigint, req: KeyQuery = {}) => names({ ...req, idleFor: { seconds } });
      // Nothing has been idle for an hour yet.
      expect(await idle(HOUR, { nameContains: "job" })).toEqual([]);
      kw.clock.advance(2 * 3600_000);
      // orders-job is checked now; its use reaches the store with the next batched flush.
      const check = await c.check.call(CheckService.method.checkKey, { key: keyCredentials.get("orders-job")! }, kw.adminKey);
      expect(check.code).toBe(CheckCode.VALID);
      for (let i = 0; ; i++) {
        const { apiKey } = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: keyIds.get("orders-job")! }, kw.adminKey);
        if (apiKey!.lastUsedTime) break;
        if (i > 100) throw new Error("the check of orders-job was never recorded as a use");
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await idle(HOUR, { nameContains: "job" })).toEqual(["Payments-Job", "plain-job"]);
      expect(await idle(3n * HOUR, { nameContains: "job" })).toEqual([]);
      expect(await idle(HOUR, { service: "orders" })).toEqual([]);
      expect(await idle(HOUR, { service: "payments", state: ApiKeyState.ACTIVE })).toEqual(["Payments-Job", "payments-report"]);
      const first = await c.keys.call(ApiKeyService.method.adminListApiKeys, { idleFor: { seconds: HOUR }, service: "payments", pageSize: 2 }, kw.adminKey);
      expect(first.apiKeys.map((k) => k.name)).toEqual(["Payments-Job", "payments-cron"]);
      const second = await c.keys.call(
        ApiKeyService.method.adminListApiKeys,
        { idleFor: { seconds: HOUR }, service: "payments", pageSize: 2, pageToken: first.nextPageToken },
        kw.adminKey,
      );
      expect(second.apiKeys.map((k) => k.name)).toEqual(["payments-report"]);
      expect(second.nextPageToken).toBe("");

      const byRest = async (query: string) => (await rest(`/api_keys?${query}`)).body.apiKeys.map((k: { name: string }) => k.name);
      expect(await byRest("idleFor=3600s&nameContains=job")).toEqual(["Payments-Job", "plain-job"]);
      expect(await byRest("idle_for=10800s&nameContains=job")).toEqual([]);
      expect(await byRest("idleFor=3600s&service=orders")).toEqual([]);

      // Under a second is no idleness worth asking for; a century is the bound.
      await expect(idle(0n)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("idle_for") });
      await expect(idle(3_155_760_001n)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("idle_for") });
      expect(await rest(`/api_keys?idleFor=0.5s`)).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining("idle_for") } });
      expect(await rest(`/api_keys?idleFor=30d`)).toMatchObject({ status: 400 });
    });
  });

  describe("the key list's sort orders", () => {
    // Lower-case letters only, so every collation orders them alike. Each gets its
    // own creation second and a lifetime that does not follow creation order; four
    // are used, in yet another order.
    const SORTED = [
      { name: "mike", ttlHours: 30 },
      { name: "alpha", ttlHours: 70 },
      { name: "kilo", ttlHours: 10 },
      { name: "echo", ttlHours: 90 },
      { name: "india", ttlHours: 50 },
      { name: "bravo", ttlHours: 20 },
      { name: "lima", ttlHours: 80 },
      { name: "delta", ttlHours: 40 },
      { name: "golf", ttlHours: 60 },
      { name: "charlie", ttlHours: 100 },
      { name: "foxtrot", ttlHours: 15 },
      { name: "hotel", ttlHours: 45 },
    ];
    const USED_IN_ORDER = ["golf", "alpha", "mike", "delta"];
    const ORDERS = [ApiKeyOrder.UNSPECIFIED, ApiKeyOrder.NAME, ApiKeyOrder.EXPIRE_TIME, ApiKeyOrder.LAST_USED_TIME, ApiKeyOrder.CREATE_TIME];
    const SERVICE = "sorting";
    type SortQuery = { orderBy?: ApiKeyOrder; descending?: boolean; nameContains?: string; pageSize?: number; pageToken?: string };
    const list = (req: SortQuery) => c.keys.call(ApiKeyService.method.adminListApiKeys, { service: SERVICE, ...req }, kw.adminKey);

    beforeAll(async () => {
      const credentials = new Map<string, string>();
      for (const k of SORTED) {
        kw.clock.advance(1000);
        const created = await c.keys.call(
          ApiKeyService.method.adminCreateApiKey,
          { name: k.name, policyId: policyIds.get("Payments-Reader")!, ttl: { seconds: BigInt(k.ttlHours * 3600) }, service: SERVICE },
          kw.adminKey,
        );
        credentials.set(k.name, created.credentials);
      }
      for (const name of USED_IN_ORDER) {
        kw.clock.advance(1000);
        const check = await c.check.call(CheckService.method.checkKey, { key: credentials.get(name)! }, kw.adminKey);
        expect(check.code).toBe(CheckCode.VALID);
      }
      // Uses reach the store with the batched flush; wait until all four have.
      for (let i = 0; ; i++) {
        const { apiKeys } = await list({ pageSize: 100 });
        if (apiKeys.filter((k) => k.lastUsedTime).length === USED_IN_ORDER.length) break;
        if (i > 100) throw new Error("the checks were never recorded as uses");
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    // The sort value a key has in each order; a never-used key counts as used longest ago.
    const sortValue = (order: ApiKeyOrder, k: ApiKey): string | number => {
      switch (order) {
        case ApiKeyOrder.NAME:
          return k.name;
        case ApiKeyOrder.EXPIRE_TIME:
          return timestampMs(k.expireTime!);
        case ApiKeyOrder.LAST_USED_TIME:
          return k.lastUsedTime ? timestampMs(k.lastUsedTime) : -Infinity;
        default:
          return timestampMs(k.createTime!);
      }
    };

    const pageThrough = async (req: SortQuery) => {
      const pages: ApiKey[][] = [];
      let pageToken = "";
      do {
        const page = await list({ ...req, pageSize: 5, pageToken });
        pages.push(page.apiKeys);
        pageToken = page.nextPageToken;
        if (pages.length > 10) throw new Error("paging never ended");
      } while (pageToken !== "");
      return pages;
    };

    it.each(ORDERS.flatMap((order) => [false, true].map((descending) => ({ order, descending }))))(
      "pages through order $order (descending: $descending) five at a time over grpc-js, each key once, in order",
      async ({ order, descending }) => {
        const pages = await pageThrough({ orderBy: order, descending });
        expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
        const keys = pages.flat();
        expect(new Set(keys.map((k) => k.id)).size).toBe(SORTED.length);
        // Each key's sort value never goes against the direction...
        const values = keys.map((k) => sortValue(order, k));
        const expected = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(values).toEqual(descending ? expected.reverse() : expected);
        // ...and the pages join into exactly the one-page answer (never-used ties included).
        const whole = await list({ orderBy: order, descending, pageSize: 100 });
        expect(keys.map((k) => k.id)).toEqual(whole.apiKeys.map((k) => k.id));
      },
    );

    it("orders by the columns as a user reads them: names alphabetically, never-used keys as used longest ago", async () => {
      const byName = (await list({ orderBy: ApiKeyOrder.NAME, pageSize: 100 })).apiKeys.map((k) => k.name);
      expect(byName).toEqual(SORTED.map((k) => k.name).sort());
      const byExpiry = (await list({ orderBy: ApiKeyOrder.EXPIRE_TIME, descending: true, pageSize: 100 })).apiKeys.map((k) => k.name);
      expect(byExpiry).toEqual([...SORTED].sort((a, b) => b.ttlHours - a.ttlHours).map((k) => k.name));
      const byUse = (await list({ orderBy: ApiKeyOrder.LAST_USED_TIME, descending: true, pageSize: 100 })).apiKeys.map((k) => k.name);
      expect(byUse.slice(0, 4)).toEqual([...USED_IN_ORDER].reverse());
      const oldestUseFirst = (await list({ orderBy: ApiKeyOrder.LAST_USED_TIME, pageSize: 100 })).apiKeys.map((k) => k.name);
      expect(oldestUseFirst.slice(-4)).toEqual(USED_IN_ORDER);
    });

    it("pages a sorted list combined with a filter", async () => {
      // The filter ignores case as always; kilo, echo, bravo, golf, foxtrot and hotel have an "o".
      const withO = SORTED.map((k) => k.name).filter((n) => n.includes("o"));
      const pages = await pageThrough({ orderBy: ApiKeyOrder.NAME, descending: true, nameContains: "O" });
      expect(pages.flat().map((k) => k.name)).toEqual(withO.sort().reverse());
    });

    it("refuses a token from another order or direction, and an unknown order, with INVALID_ARGUMENT", async () => {
      const { nextPageToken } = await list({ orderBy: ApiKeyOrder.NAME, pageSize: 5 });
      const other = { code: status.INVALID_ARGUMENT, details: expect.stringContaining("page_token: belongs to another order") };
      await expect(list({ orderBy: ApiKeyOrder.EXPIRE_TIME, pageSize: 5, pageToken: nextPageToken })).rejects.toMatchObject(other);
      await expect(list({ orderBy: ApiKeyOrder.NAME, descending: true, pageSize: 5, pageToken: nextPageToken })).rejects.toMatchObject(other);
      // Unspecified is creation order, so a creation-order token continues it and no other.
      const byCreation = await list({ pageSize: 5 });
      expect((await list({ orderBy: ApiKeyOrder.CREATE_TIME, pageSize: 5, pageToken: byCreation.nextPageToken })).apiKeys).toHaveLength(5);
      await expect(list({ orderBy: ApiKeyOrder.NAME, pageSize: 5, pageToken: byCreation.nextPageToken })).rejects.toMatchObject(other);
      await expect(list({ orderBy: 99 as ApiKeyOrder })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    });

    it("sorts and pages over REST, and answers 400 to a token of another order", async () => {
      const first = await rest(`/api_keys?service=${SERVICE}&orderBy=API_KEY_ORDER_NAME&descending=true&pageSize=5`);
      expect(first.status).toBe(200);
      const second = await rest(`/api_keys?service=${SERVICE}&orderBy=API_KEY_ORDER_NAME&descending=true&pageSize=5&pageToken=${first.body.nextPageToken}`);
      const third = await rest(`/api_keys?service=${SERVICE}&order_by=API_KEY_ORDER_NAME&descending=true&pageSize=5&pageToken=${second.body.nextPageToken}`);
      expect(third.body.nextPageToken ?? "").toBe("");
      const names = [first, second, third].flatMap((r) => (r.body.apiKeys as { name: string }[]).map((k) => k.name));
      expect(names).toEqual(SORTED.map((k) => k.name).sort().reverse());
      const wrong = await rest(`/api_keys?service=${SERVICE}&orderBy=API_KEY_ORDER_EXPIRE_TIME&pageSize=5&pageToken=${first.body.nextPageToken}`);
      expect(wrong).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining("page_token: belongs to another order") } });
      expect(await rest(`/api_keys?orderBy=API_KEY_ORDER_SIDEWAYS`)).toMatchObject({ status: 400 });
    });
  });
});
