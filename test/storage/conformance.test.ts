// One contract for every store Keyward runs on: PGlite always, PostgreSQL when
// KEYWARD_TEST_DATABASE_URL is set. Each test works on its own rows (unique
// names), so the suite shares one fresh database per store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UniqueViolation } from "../../src/storage/errors.js";
import { migrateToLatest } from "../../src/storage/migrate.js";
import { openStore } from "../../src/storage/open.js";
import type { ApiKeyRecord, ConstraintRecord } from "../../src/storage/records.js";
import type { NewApiKey } from "../../src/storage/repositories/api-keys.js";
import type { NewPolicy } from "../../src/storage/repositories/policies.js";
import type { Store } from "../../src/storage/store.js";
import { TEST_STORES } from "../support/stores.js";

const T0 = new Date("2030-01-01T00:00:00.123Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1_000);
const EXPIRES = new Date("2031-01-01T00:00:00.456Z");
// The key list's default order: creation time, then id.
const BY_CREATION = { column: "create_time", descending: false } as const;

let counter = 0;
/** A name no other test uses (lower-case letters and digits, so every collation sorts it alike). */
const unique = (stem: string) => `${stem}${++counter}x${Math.random().toString(36).slice(2, 8)}`;

async function expectRejection<E>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

describe.each(TEST_STORES)("store conformance on $name", (testStore) => {
  let store: Store;

  beforeAll(async () => {
    store = await openStore(await testStore.create());
  });

  afterAll(async () => {
    await store?.close();
  });

  async function addPolicy(overrides: Partial<NewPolicy> = {}): Promise<NewPolicy> {
    const p: NewPolicy = {
      id: unique("pol"),
      name: unique("policy"),
      description: "a policy",
      permissions: ["billing.invoices.read", "ops.*"],
      creatorKeyId: null,
      now: T0,
      ...overrides,
    };
    await store.policies.insert(p);
    return p;
  }

  async function addKey(policyId: string, overrides: Partial<NewApiKey> = {}): Promise<NewApiKey> {
    const k: NewApiKey = {
      id: unique("key"),
      name: unique("apikey"),
      policyId,
      secretHash: `$argon2id$v=19$m=8,t=1,p=1$${unique("hash")}`,
      expireTime: EXPIRES,
      allowedSubnets: [],
      constraints: [],
      service: null,
      creatorKeyId: null,
      now: T0,
      ...overrides,
    };
    await store.apiKeys.insert(k);
    return k;
  }

  it("opens with the kind it was asked for", () => {
    expect(store.kind).toBe(testStore.name);
  });

  describe("permissions", () => {
    const def = (name: string, description = `${name} described`) => ({ name, description });

    it("registers a service's permissions, registered, listed by name", async () => {
      const svc = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.zeta.read`), def(`${svc}.alpha.write`), def(`${svc}.alpha.read`)], T0);
      expect(await store.permissions.listForService(svc)).toEqual([
        { name: `${svc}.alpha.read`, service: svc, description: `${svc}.alpha.read described`, registered: true },
        { name: `${svc}.alpha.write`, service: svc, description: `${svc}.alpha.write described`, registered: true },
        { name: `${svc}.zeta.read`, service: svc, description: `${svc}.zeta.read described`, registered: true },
      ]);
    });

    it("lists every permission by service, then name", async () => {
      const late = `zz${unique("svc")}`;
      const early = `aa${unique("svc")}`;
      await store.permissions.replaceForService(late, [def(`${late}.b.x`), def(`${late}.a.x`)], T0);
      await store.permissions.replaceForService(early, [def(`${early}.b.x`), def(`${early}.a.x`)], T0);
      const names = (await store.permissions.list()).filter((p) => p.service === late || p.service === early).map((p) => p.name);
      expect(names).toEqual([`${early}.a.x`, `${early}.b.x`, `${late}.a.x`, `${late}.b.x`]);
    });

    it("replaces a registration: upserts descriptions, flags dropped permissions unregistered but keeps them", async () => {
      const svc = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.jobs.read`), def(`${svc}.jobs.write`), def(`${svc}.jobs.run`)], T0);
      await store.permissions.replaceForService(svc, [def(`${svc}.jobs.read`, "reads jobs, v2"), def(`${svc}.logs.read`)], at(60));
      expect(await store.permissions.listForService(svc)).toEqual([
        { name: `${svc}.jobs.read`, service: svc, description: "reads jobs, v2", registered: true },
        { name: `${svc}.jobs.run`, service: svc, description: `${svc}.jobs.run described`, registered: false },
        { name: `${svc}.jobs.write`, service: svc, description: `${svc}.jobs.write described`, registered: false },
        { name: `${svc}.logs.read`, service: svc, description: `${svc}.logs.read described`, registered: true },
      ]);
    });

    it("registers a dropped permission again when its service lists it again", async () => {
      const svc = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`), def(`${svc}.a.write`)], T0);
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`)], at(1));
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`), def(`${svc}.a.write`, "back")], at(2));
      expect((await store.permissions.listForService(svc)).map((p) => [p.name, p.registered, p.description])).toEqual([
        [`${svc}.a.read`, true, `${svc}.a.read described`],
        [`${svc}.a.write`, true, "back"],
      ]);
    });

    it("an empty registration unregisters everything yet keeps the service known", async () => {
      const svc = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`), def(`${svc}.b.read`)], T0);
      await store.permissions.replaceForService(svc, [], at(1));
      expect((await store.permissions.listForService(svc)).map((p) => p.registered)).toEqual([false, false]);
      expect(await store.permissions.knownServices([svc])).toEqual(new Set([svc]));
      expect(await store.permissions.registeredAmong([`${svc}.a.read`])).toEqual(new Set());
    });

    it("is idempotent", async () => {
      const svc = unique("svc");
      const defs = [def(`${svc}.a.read`), def(`${svc}.a.write`)];
      await store.permissions.replaceForService(svc, defs, T0);
      const first = await store.permissions.listForService(svc);
      await store.permissions.replaceForService(svc, defs, at(1));
      expect(await store.permissions.listForService(svc)).toEqual(first);
    });

    it("registeredAmong answers only the names currently registered", async () => {
      const svc = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`), def(`${svc}.a.write`)], T0);
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`)], at(1));
      expect(await store.permissions.registeredAmong([`${svc}.a.read`, `${svc}.a.write`, `${svc}.never.seen`])).toEqual(
        new Set([`${svc}.a.read`]),
      );
      expect(await store.permissions.registeredAmong([])).toEqual(new Set());
    });

    it("knownServices answers only the services that have registered", async () => {
      const svc = unique("svc");
      const other = unique("svc");
      await store.permissions.replaceForService(svc, [def(`${svc}.a.read`)], T0);
      expect(await store.permissions.knownServices([svc, other])).toEqual(new Set([svc]));
      expect(await store.permissions.knownServices([])).toEqual(new Set());
    });
  });

  describe("policies", () => {
    it("stores a policy and reads it back, timestamps as Dates and no keys counted", async () => {
      const p = await addPolicy({ permissions: ["ops.*", "billing.invoices.read", "*"], description: "", creatorKeyId: "creator1" });
      const got = await store.policies.get(p.id);
      expect(got).toEqual({
        id: p.id,
        name: p.name,
        description: "",
        permissions: ["ops.*", "billing.invoices.read", "*"],
        rateLimits: [],
        createTime: T0,
        updateTime: T0,
        apiKeyCount: 0,
      });
      expect(got!.createTime).toBeInstanceOf(Date);
      expect(got!.updateTime).toBeInstanceOf(Date);
      expect(typeof got!.apiKeyCount).toBe("number");
    });

    it("stores an empty permission list and text that needs quoting", async () => {
      const name = `${unique("policy")} "quoted" 'it''s' ünïcode 😀`;
      const p = await addPolicy({ name, permissions: [], description: "line\nbreak, {braces}" });
      expect(await store.policies.get(p.id)).toMatchObject({ name, permissions: [], description: "line\nbreak, {braces}" });
    });

    it("answers undefined for an unknown id", async () => {
      expect(await store.policies.get(unique("missing"))).toBeUndefined();
    });

    it("counts each policy's keys, as numbers, in get and list", async () => {
      const p = await addPolicy();
      const empty = await addPolicy();
      await addKey(p.id);
      await addKey(p.id);
      await addKey(p.id);
      expect((await store.policies.get(p.id))!.apiKeyCount).toBe(3);
      const listed = await store.policies.list();
      expect(listed.find((r) => r.id === p.id)!.apiKeyCount).toBe(3);
      expect(listed.find((r) => r.id === empty.id)!.apiKeyCount).toBe(0);
      for (const r of listed) {
        expect(typeof r.apiKeyCount).toBe("number");
        expect(r.createTime).toBeInstanceOf(Date);
      }
    });

    it("lists policies by name", async () => {
      const stem = unique("order");
      const b = await addPolicy({ name: `${stem}b` });
      const a = await addPolicy({ name: `${stem}a` });
      const c = await addPolicy({ name: `${stem}c` });
      const ids = (await store.policies.list()).map((r) => r.id).filter((id) => [a.id, b.id, c.id].includes(id));
      expect(ids).toEqual([a.id, b.id, c.id]);
    });

    it("refuses a second policy with the same name with UniqueViolation, writing nothing", async () => {
      const p = await addPolicy();
      const id = unique("pol");
      await expectRejection(store.policies.insert({ id, name: p.name, description: "", permissions: [], creatorKeyId: null, now: T0 }), UniqueViolation);
      expect(await store.policies.get(id)).toBeUndefined();
    });

    it("updates only the fields given, and the update time", async () => {
      const p = await addPolicy({ permissions: ["a.b.c"] });
      await store.policies.update(p.id, { description: "changed" }, at(10));
      expect(await store.policies.get(p.id)).toMatchObject({
        name: p.name,
        description: "changed",
        permissions: ["a.b.c"],
        createTime: T0,
        updateTime: at(10),
      });
      const name = unique("renamed");
      await store.policies.update(p.id, { name, permissions: ["x.*", "y.z.w"] }, at(20));
      expect(await store.policies.get(p.id)).toMatchObject({ name, description: "changed", permissions: ["x.*", "y.z.w"], updateTime: at(20) });
      await store.policies.update(p.id, { permissions: [] }, at(30));
      expect((await store.policies.get(p.id))!.permissions).toEqual([]);
    });

    it("refuses a rename to a taken name with UniqueViolation, changing nothing", async () => {
      const taken = await addPolicy();
      const p = await addPolicy();
      await expectRejection(store.policies.update(p.id, { name: taken.name, description: "x" }, at(5)), UniqueViolation);
      expect(await store.policies.get(p.id)).toMatchObject({ name: p.name, description: p.description, updateTime: T0 });
    });

    it("delete cascades to the policy's keys only and reports which went", async () => {
      const p = await addPolicy();
      const other = await addPolicy();
      const k1 = await addKey(p.id);
      const k2 = await addKey(p.id);
      const kept = await addKey(other.id);
      const result = await store.policies.delete(p.id);
      expect({ ...result, apiKeyIds: [...result.apiKeyIds].sort() }).toEqual({ deleted: true, apiKeyIds: [k1.id, k2.id].sort() });
      expect(await store.policies.get(p.id)).toBeUndefined();
      expect(await store.apiKeys.get(k1.id)).toBeUndefined();
      expect(await store.apiKeys.get(k2.id)).toBeUndefined();
      expect(await store.apiKeys.get(kept.id)).toBeDefined();
      expect((await store.policies.get(other.id))!.apiKeyCount).toBe(1);
    });

    it("delete of a policy without keys, or of an unknown id", async () => {
      const p = await addPolicy();
      expect(await store.policies.delete(p.id)).toEqual({ deleted: true, apiKeyIds: [] });
      expect(await store.policies.delete(p.id)).toEqual({ deleted: false, apiKeyIds: [] });
    });

    it("getForUpdate reads the policy inside a transaction", async () => {
      const p = await addPolicy();
      const got = await store.transaction((repos) => repos.policies.getForUpdate(p.id));
      expect(got).toMatchObject({ id: p.id, name: p.name, permissions: p.permissions, createTime: T0 });
      expect(await store.transaction((repos) => repos.policies.getForUpdate(unique("missing")))).toBeUndefined();
    });
  });

  describe("api keys", () => {
    const constraints: ConstraintRecord[] = [
      { type: "prefix", value: "/jobs" },
      { type: "verb", value: "GET" },
      { type: "regex", value: "/jobs/[0-9]+\\z" },
    ];

    it("stores a key and reads it back without its hash", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id, { allowedSubnets: ["10.0.0.0/8", "2001:db8::/32"], constraints, creatorKeyId: "admin1", service: "billing" });
      const got = await store.apiKeys.get(k.id);
      expect(got).toEqual({
        id: k.id,
        name: k.name,
        policyId: p.id,
        expireTime: EXPIRES,
        allowedSubnets: ["10.0.0.0/8", "2001:db8::/32"],
        constraints,
        state: "active",
        createTime: T0,
        updateTime: T0,
        lastUsedTime: null,
        creatorKeyId: "admin1",
        retireTime: null,
        retirerKeyId: null,
        service: "billing",
        rateLimits: [],
        credits: null,
        labels: {},
      } satisfies ApiKeyRecord);
      for (const field of ["expireTime", "createTime", "updateTime"] as const) expect(got![field]).toBeInstanceOf(Date);
      expect(JSON.stringify(got)).not.toContain(k.secretHash);
    });

    it("answers undefined for an unknown id", async () => {
      expect(await store.apiKeys.get(unique("missing"))).toBeUndefined();
      expect(await store.apiKeys.findForCheck(unique("missing"))).toBeUndefined();
    });

    it("refuses a second key with the same name with UniqueViolation", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      const id = unique("key");
      await expectRejection(addKey(p.id, { id, name: k.name }), UniqueViolation);
      expect(await store.apiKeys.get(id)).toBeUndefined();
    });

    it("refuses a key on an unknown policy (not as a name clash)", async () => {
      const error = await store.apiKeys.insert({
        id: unique("key"),
        name: unique("apikey"),
        policyId: unique("nopolicy"),
        secretHash: "h",
        expireTime: EXPIRES,
        allowedSubnets: [],
        constraints: [],
        service: null,
        creatorKeyId: null,
        now: T0,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(error).not.toBeInstanceOf(UniqueViolation);
    });

    it("findForCheck returns the key, its hash and its policy in one answer", async () => {
      const p = await addPolicy({ permissions: ["billing.*", "ops.jobs.run"], description: "for checks" });
      const k = await addKey(p.id, { constraints });
      const found = await store.apiKeys.findForCheck(k.id);
      expect(found).toBeDefined();
      expect(found!.secretHash).toBe(k.secretHash);
      expect(found!.key).toEqual(await store.apiKeys.get(k.id));
      expect(found!.policy).toMatchObject({
        id: p.id,
        name: p.name,
        description: "for checks",
        permissions: ["billing.*", "ops.jobs.run"],
        createTime: T0,
        updateTime: T0,
      });
      expect(found!.policy.createTime).toBeInstanceOf(Date);
    });

    it("findForCheck sees a policy change at once", async () => {
      const p = await addPolicy({ permissions: ["a.b.c"] });
      const k = await addKey(p.id);
      await store.policies.update(p.id, { permissions: ["a.*"] }, at(1));
      expect((await store.apiKeys.findForCheck(k.id))!.policy.permissions).toEqual(["a.*"]);
    });

    it("pages in creation order (ties broken by id), after a cursor, filtered by policy", async () => {
      const p = await addPolicy();
      const other = await addPolicy();
      const stem = unique("page");
      // Inserted out of order; c and d share a creation time.
      const inserted = [
        await addKey(p.id, { id: `${stem}e`, now: at(5) }),
        await addKey(p.id, { id: `${stem}d`, now: at(3) }),
        await addKey(other.id, { id: `${stem}z`, now: at(2) }),
        await addKey(p.id, { id: `${stem}a`, now: at(1) }),
        await addKey(p.id, { id: `${stem}c`, now: at(3) }),
        await addKey(p.id, { id: `${stem}b`, now: at(2) }),
      ];
      const expected = [`${stem}a`, `${stem}b`, `${stem}c`, `${stem}d`, `${stem}e`];

      const seen: string[][] = [];
      let after: { value: Date; id: string } | undefined;
      // Bounded, so a cursor that never advances fails instead of looping.
      for (let guard = 0; guard < 10; guard++) {
        const page: ApiKeyRecord[] = await store.apiKeys.page({ limit: 2, order: BY_CREATION, policyId: p.id, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        seen.push(page.map((k) => k.id));
        const last = page[page.length - 1]!;
        after = { value: last.createTime, id: last.id };
      }
      expect(seen).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);

      const all = (await store.apiKeys.page({ limit: 1_000, order: BY_CREATION })).map((k) => k.id).filter((id) => id.startsWith(stem));
      expect(all).toEqual([`${stem}a`, `${stem}b`, `${stem}z`, `${stem}c`, `${stem}d`, `${stem}e`]);
      expect(inserted).toHaveLength(6);
      expect(await store.apiKeys.page({ limit: 10, order: BY_CREATION, policyId: unique("nopolicy") })).toEqual([]);
    });

    it("pages never include the hash", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      const [page] = await store.apiKeys.page({ limit: 1, order: BY_CREATION, policyId: p.id });
      expect(page).toEqual(await store.apiKeys.get(k.id));
      expect(JSON.stringify(page)).not.toContain(k.secretHash);
    });

    it("updates only the fields given, and the update time", async () => {
      const p = await addPolicy();
      const q = await addPolicy();
      const k = await addKey(p.id, { allowedSubnets: ["10.0.0.0/8"], constraints });
      await store.apiKeys.update(k.id, {}, at(1));
      expect(await store.apiKeys.get(k.id)).toMatchObject({ name: k.name, policyId: p.id, constraints, updateTime: at(1) });

      const name = unique("renamed");
      const expireTime = new Date("2030-07-01T00:00:00.789Z");
      await store.apiKeys.update(k.id, { name, policyId: q.id, expireTime, allowedSubnets: [], constraints: [{ type: "exact", value: "jobs" }] }, at(2));
      expect(await store.apiKeys.get(k.id)).toMatchObject({
        name,
        policyId: q.id,
        expireTime,
        allowedSubnets: [],
        constraints: [{ type: "exact", value: "jobs" }],
        createTime: T0,
        updateTime: at(2),
      });
      expect((await store.apiKeys.findForCheck(k.id))!.secretHash).toBe(k.secretHash);
      expect((await store.policies.get(p.id))!.apiKeyCount).toBe(0);
      expect((await store.policies.get(q.id))!.apiKeyCount).toBe(1);
    });

    it("sets and clears a key's service, leaving it alone when not given", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      expect((await store.apiKeys.get(k.id))!.service).toBeNull();
      await store.apiKeys.update(k.id, { service: "billing" }, at(1));
      expect((await store.apiKeys.findForCheck(k.id))!.key.service).toBe("billing");
      await store.apiKeys.update(k.id, { name: unique("renamed") }, at(2));
      expect((await store.apiKeys.get(k.id))!.service).toBe("billing");
      await store.apiKeys.update(k.id, { service: null }, at(3));
      expect((await store.apiKeys.get(k.id))!.service).toBeNull();
    });

    it("refuses a rename to a taken name with UniqueViolation, changing nothing", async () => {
      const p = await addPolicy();
      const taken = await addKey(p.id);
      const k = await addKey(p.id);
      await expectRejection(store.apiKeys.update(k.id, { name: taken.name }, at(1)), UniqueViolation);
      expect(await store.apiKeys.get(k.id)).toMatchObject({ name: k.name, updateTime: T0 });
    });

    it("delete removes the key once", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      expect(await store.apiKeys.delete(k.id)).toBe(true);
      expect(await store.apiKeys.get(k.id)).toBeUndefined();
      expect(await store.apiKeys.findForCheck(k.id)).toBeUndefined();
      expect(await store.apiKeys.delete(k.id)).toBe(false);
      expect(await store.policies.get(p.id)).toBeDefined();
    });

    it("getForUpdate reads the key inside a transaction", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      expect(await store.transaction((repos) => repos.apiKeys.getForUpdate(k.id))).toEqual(await store.apiKeys.get(k.id));
    });
  });

  describe("transactions", () => {
    it("commits the writes and returns the callback's value", async () => {
      const id = unique("pol");
      const name = unique("policy");
      const value = await store.transaction(async (repos) => {
        await repos.policies.insert({ id, name, description: "", permissions: [], creatorKeyId: null, now: T0 });
        return "done";
      });
      expect(value).toBe("done");
      expect((await store.policies.get(id))?.name).toBe(name);
    });

    it("rolls back every write when the callback throws, and rethrows its error", async () => {
      const policyId = unique("pol");
      const keyId = unique("key");
      const svc = unique("svc");
      const existing = await addPolicy({ description: "before" });
      const boom = new Error("boom");
      const error = await store
        .transaction(async (repos) => {
          await repos.policies.insert({ id: policyId, name: unique("policy"), description: "", permissions: [], creatorKeyId: null, now: T0 });
          await repos.apiKeys.insert({
            id: keyId,
            name: unique("apikey"),
            policyId,
            secretHash: "h",
            expireTime: EXPIRES,
            allowedSubnets: [],
            constraints: [],
            service: null,
            creatorKeyId: null,
            now: T0,
          });
          await repos.permissions.replaceForService(svc, [{ name: `${svc}.a.read`, description: "" }], T0);
          await repos.policies.update(existing.id, { description: "after" }, at(1));
          throw boom;
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBe(boom);
      expect(await store.policies.get(policyId)).toBeUndefined();
      expect(await store.apiKeys.get(keyId)).toBeUndefined();
      expect(await store.permissions.listForService(svc)).toEqual([]);
      expect(await store.permissions.knownServices([svc])).toEqual(new Set());
      expect((await store.policies.get(existing.id))!.description).toBe("before");
    });

    it("rolls back earlier writes when a later one violates uniqueness, surfacing UniqueViolation", async () => {
      const taken = await addPolicy();
      const id = unique("pol");
      await expectRejection(
        store.transaction(async (repos) => {
          await repos.policies.insert({ id, name: unique("policy"), description: "", permissions: [], creatorKeyId: null, now: T0 });
          await repos.policies.insert({ id: unique("pol"), name: taken.name, description: "", permissions: [], creatorKeyId: null, now: T0 });
        }),
        UniqueViolation,
      );
      expect(await store.policies.get(id)).toBeUndefined();
    });

    it("the store still works after a rolled-back transaction", async () => {
      await store.transaction(async () => {
        throw new Error("nothing written");
      }).catch(() => undefined);
      const p = await addPolicy();
      expect(await store.policies.get(p.id)).toBeDefined();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });

  describe("bootstrap", () => {
    it("is not done on a fresh database, is done once marked, and can be marked only once", async () => {
      expect(await store.bootstrap.isDone()).toBe(false);
      await store.bootstrap.markDone(unique("key"), T0);
      expect(await store.bootstrap.isDone()).toBe(true);
      await expect(store.bootstrap.markDone(unique("key"), at(1))).rejects.toThrow();
      expect(await store.bootstrap.isDone()).toBe(true);
    });

    it("takes the bootstrap lock inside a transaction", async () => {
      const done = await store.transaction(async (repos) => {
        await repos.bootstrap.lock();
        return repos.bootstrap.isDone();
      });
      expect(done).toBe(await store.bootstrap.isDone());
    });
  });

  describe("migrations", () => {
    it("applying them again changes nothing", async () => {
      const p = await addPolicy();
      const k = await addKey(p.id);
      await migrateToLatest(store.db);
      await migrateToLatest(store.db);
      expect(await store.policies.get(p.id)).toMatchObject({ id: p.id, apiKeyCount: 1 });
      expect(await store.apiKeys.findForCheck(k.id)).toBeDefined();
    });
  });
});
