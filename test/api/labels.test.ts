// Labels on keys (issue #23): set on create, replaced by update, returned by
// get and list, filterable on the list, bounded by proto rules, by the domain
// and by the store's CHECK, and never part of a CheckKey answer. Over grpc-js
// and REST fetch, on every test store.
import { status } from "@grpc/grpc-js";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const TTL = { seconds: BigInt(DAY / 1000) };

describe.each(TEST_STORES)("key labels on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let policyId: string;

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${kw.adminKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const create = (labels: Record<string, string>, name = uniqueName("labelled")) =>
    c.keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId, ttl: TTL, labels }, kw.adminKey);
  const get = async (id: string) => (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, kw.adminKey)).apiKey!;
  const listNames = async (label: string[], extra: { service?: string } = {}) =>
    (await c.keys.call(ApiKeyService.method.adminListApiKeys, { label, pageSize: 1000, ...extra }, kw.adminKey)).apiKeys.map((k) => k.name);

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "labelled", permissions: ["keyward.keys.check"] }, kw.adminKey);
    policyId = policy!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("sets labels on create and returns them from get and list over grpc-js", async () => {
    const labels = { owner: "ana@example.com", team: "payments", ticket: "OPS-1234" };
    const { apiKey } = await create(labels);
    expect(apiKey!.labels).toEqual(labels);
    expect((await get(apiKey!.id)).labels).toEqual(labels);
    const listed = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey);
    expect(listed.apiKeys.find((k) => k.id === apiKey!.id)!.labels).toEqual(labels);
  });

  it("takes and returns labels as a JSON object over REST, and replaces them whole on PATCH", async () => {
    const created = await rest("POST", "/api_keys", { name: uniqueName("rest"), policyId, ttl: "3600s", labels: { team: "orders", "cost.center": "42" } });
    expect(created.status).toBe(200);
    const id = created.body.apiKey.id as string;
    expect((await rest("GET", `/api_keys/${id}`)).body.apiKey.labels).toEqual({ team: "orders", "cost.center": "42" });
    // Without a mask, the fields in the body: labels, replaced as a whole.
    expect((await rest("PATCH", `/api_keys/${id}`, { labels: { team: "billing" } })).body.apiKey.labels).toEqual({ team: "billing" });
    // Another field leaves them alone.
    expect((await rest("PATCH", `/api_keys/${id}`, { name: uniqueName("renamed") })).body.apiKey.labels).toEqual({ team: "billing" });
    // Named in the mask with no value: every label goes.
    const cleared = await rest("PATCH", `/api_keys/${id}?updateMask=labels`, {});
    expect(cleared.status).toBe(200);
    expect(cleared.body.apiKey.labels ?? {}).toEqual({});
    expect((await get(id)).labels).toEqual({});
  });

  it("updates labels through the update mask over grpc-js", async () => {
    const { apiKey } = await create({ team: "a" });
    const id = apiKey!.id;
    const updated = await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, labels: { team: "b", env: "prod" } }, updateMask: { paths: ["labels"] } }, kw.adminKey);
    expect(updated.apiKey!.labels).toEqual({ team: "b", env: "prod" });
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, labels: { ignored: "x" }, name: uniqueName("n") }, updateMask: { paths: ["name"] } }, kw.adminKey);
    expect((await get(id)).labels).toEqual({ team: "b", env: "prod" });
    // The audit trail names the field, never a value.
    const audit = new GrpcClient(AuditService, kw.port);
    try {
      const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${id}` }, kw.adminKey);
      expect(auditEvents.map((e) => [e.action, e.changedFields])).toEqual([
        ["AdminUpdateApiKey", ["name"]],
        ["AdminUpdateApiKey", ["labels"]],
        ["AdminCreateApiKey", ["name", "policy_id", "expire_time", "labels"]],
      ]);
      expect(JSON.stringify(auditEvents.map((e) => e.changedFields))).not.toContain("prod");
    } finally {
      audit.close();
    }
  });

  it("filters the key list by label value and by label presence, all filters at once, with other filters", async () => {
    const stem = uniqueName("f");
    await create({ team: "search", env: "prod" }, `${stem}-a`);
    await create({ team: "search", env: "staging", "on-call": "" }, `${stem}-b`);
    await create({ team: "Search" }, `${stem}-c`);
    await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: `${stem}-d`, policyId, ttl: TTL, labels: { team: "search" }, service: "search" }, kw.adminKey);
    expect(await listNames(["team=search"])).toEqual([`${stem}-a`, `${stem}-b`, `${stem}-d`]);
    expect(await listNames(["team=search", "env=prod"])).toEqual([`${stem}-a`]);
    expect(await listNames(["on-call"])).toEqual([`${stem}-b`]);
    expect(await listNames(["on-call="])).toEqual([`${stem}-b`]);
    expect(await listNames(["team=search"], { service: "search" })).toEqual([`${stem}-d`]);
    expect(await listNames(["team=nobody"])).toEqual([]);
    const overRest = await rest("GET", `/api_keys?label=team=search&label=env&nameContains=${stem}`);
    expect(overRest.body.apiKeys.map((k: { name: string }) => k.name)).toEqual([`${stem}-a`, `${stem}-b`]);
    expect(await rest("GET", "/api_keys?label=Team=x")).toMatchObject({ status: 400, body: { code: 3, message: expect.stringContaining("label[0]") } });
  });

  it.each([
    ["17 labels", Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, "v"])), "labels: map must be at most 16 entries"],
    ["an upper-case key", { Team: "x" }, "labels[\"Team\"]"],
    ["a key starting with a digit", { "1team": "x" }, "labels[\"1team\"]"],
    ["a 64-character key", { ["k".repeat(64)]: "x" }, "labels[\"" + "k".repeat(64) + "\"]"],
    ["a 257-character value", { team: "v".repeat(257) }, "labels[\"team\"]: must be at most 256 characters [string.max_len]"],
    ["a control character in a value", { team: "a\u001bb" }, "must not contain control characters"],
  ])("refuses %s with INVALID_ARGUMENT over grpc-js and REST, writing nothing", async (_what, labels, message) => {
    const before = (await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey)).apiKeys.length;
    await expect(create(labels)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(message) });
    const answer = await rest("POST", "/api_keys", { name: uniqueName("bad"), policyId, ttl: "60s", labels });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain(message);
    const { apiKey } = await create({ team: "kept" });
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: apiKey!.id, labels }, updateMask: { paths: ["labels"] } }, kw.adminKey),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((await get(apiKey!.id)).labels).toEqual({ team: "kept" });
    expect((await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey)).apiKeys.length).toBe(before + 1);
  });

  it("accepts the bounds themselves: 16 labels, a 63-character key, a 256-character value", async () => {
    const labels = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`l${i}`, "v"]));
    labels[`a${"b".repeat(62)}`] = "😀".repeat(256);
    const { apiKey } = await create(labels);
    expect((await get(apiKey!.id)).labels).toEqual(labels);
  });

  it("holds the bounds in the store too, whoever writes the row", async () => {
    const { apiKey } = await create({ team: "x" });
    const db = kw.keyward.store.db;
    const write = (labels: string) => sql`update api_keys set labels = ${labels}::jsonb where id = ${apiKey!.id}`.execute(db);
    const seventeen = JSON.stringify(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, "v"])));
    for (const bad of [seventeen, '{"Team":"x"}', '{"team":1}', JSON.stringify({ team: "v".repeat(257) }), "[]", '"x"']) {
      await expect(write(bad), bad.slice(0, 40)).rejects.toThrow(/keyward_labels_valid|check constraint/);
    }
    await write(JSON.stringify({ team: "v".repeat(256) }));
    expect((await get(apiKey!.id)).labels).toEqual({ team: "v".repeat(256) });
  });

  it("leaves labels out of CheckKey's answer", async () => {
    const { credentials } = await create({ owner: "someone-secretive" });
    const answer = await rest("POST", "/api_keys:check", { key: credentials, permissions: ["keyward.keys.check"] });
    expect(answer.body.valid).toBe(true);
    expect(JSON.stringify(answer.body)).not.toContain("someone-secretive");
  });
});
