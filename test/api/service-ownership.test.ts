// Issue #14, finding 4: a key that belongs to a service (`service`, design §2)
// may register only that service's permissions, so one service's key can no
// longer rewrite another's list. Through the stock grpc-js client and fetch
// (REST, Connect JSON) against a real server.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("keys that belong to a service, on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    await c.permissions.call(
      PermissionService.method.registerPermissions,
      { service: "demo", permissions: [{ name: "demo.items.read", description: "Read items" }] },
      kw.adminKey,
    );
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const rest = async (method: string, path: string, body?: unknown, key = kw.adminKey) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** A key on a new policy holding `permissions`, created by the bootstrap admin, belonging to `service` (or none). */
  async function key(permissions: string[], service = "") {
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("policy"), permissions }, kw.adminKey);
    const created = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("key"), policyId: policy!.id, expireTime: expiresIn(kw, DAY), service },
      kw.adminKey,
    );
    return { id: created.apiKey!.id, credentials: created.credentials, policyId: policy!.id, apiKey: created.apiKey! };
  }

  const demoPermissions = async () =>
    (await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, kw.adminKey)).permissions
      .filter((p) => p.service === "demo")
      .map((p) => ({ name: p.name, registered: p.registered }));

  const register = (service: string, names: string[], credentials: string) =>
    c.permissions.call(PermissionService.method.registerPermissions, { service, permissions: names.map((name) => ({ name })) }, credentials);

  it("lets a service's key register its own service, and refuses any other, leaving that one's list unchanged", async () => {
    // What the README gives a service: keyward.keys.check only.
    const billing = await key(["keyward.keys.check"], "billing");
    const registered = await register("billing", ["billing.invoices.read"], billing.credentials);
    expect(registered.permissions.map((p) => p.name)).toEqual(["billing.invoices.read"]);

    // The attack of finding 4, also with keyward.permissions.register held.
    const strong = await key(["keyward.keys.check", "keyward.permissions.register"], "billing");
    for (const attacker of [billing, strong]) {
      const refused = register("demo", ["demo.injected.write"], attacker.credentials);
      await expect(refused).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(refused).rejects.toThrow(/"billing"/);
    }
    expect(await demoPermissions()).toEqual([{ name: "demo.items.read", registered: true }]);

    // The same over REST.
    const viaRest = await rest("PUT", "/services/demo/permissions", { permissions: [{ name: "demo.injected.write" }] }, billing.credentials);
    expect(viaRest).toMatchObject({ status: 403, body: { code: 7 } });
    expect(String(viaRest.body.message)).toContain('"billing"');
    expect(await demoPermissions()).toEqual([{ name: "demo.items.read", registered: true }]);
    expect((await rest("PUT", "/services/billing/permissions", { permissions: [{ name: "billing.invoices.read" }] }, billing.credentials)).status).toBe(200);
  });

  it("needs keyward.permissions.register from a key that belongs to no service, which may then register any service but keyward", async () => {
    const checker = await key(["keyward.keys.check"]);
    await expect(register("demo", ["demo.injected.write"], checker.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(register("mail", ["mail.messages.send"], checker.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await demoPermissions()).toEqual([{ name: "demo.items.read", registered: true }]);

    const registrar = await key(["keyward.permissions.register"]);
    await register("mail", ["mail.messages.send"], registrar.credentials);
    await expect(register("keyward", [], registrar.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("keeps `service` through create, get, list and update over gRPC", async () => {
    const k = await key(["keyward.keys.check"], "billing");
    expect(k.apiKey.service).toBe("billing");
    expect((await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: k.id }, kw.adminKey)).apiKey!.service).toBe("billing");
    const listed = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey);
    expect(listed.apiKeys.find((x) => x.id === k.id)!.service).toBe("billing");

    const moved = await c.keys.call(
      ApiKeyService.method.adminUpdateApiKey,
      { apiKey: { id: k.id, service: "shipping" }, updateMask: { paths: ["service"] } },
      kw.adminKey,
    );
    expect(moved.apiKey!.service).toBe("shipping");
    // Without a mask, a request that sets `service` changes it (AIP-134).
    const inferred = await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: k.id, service: "billing" } }, kw.adminKey);
    expect(inferred.apiKey!.service).toBe("billing");
    // A mask naming `service` with no value clears it.
    const cleared = await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: k.id }, updateMask: { paths: ["service"] } }, kw.adminKey);
    expect(cleared.apiKey!.service).toBe("");
    // Another field's update leaves it alone.
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: k.id, service: "billing" }, updateMask: { paths: ["service"] } }, kw.adminKey);
    const renamed = await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: k.id, name: uniqueName("renamed") } }, kw.adminKey);
    expect(renamed.apiKey!.service).toBe("billing");
  });

  it("keeps `service` through create, get, list and update over REST, and refuses a bad name naming the field", async () => {
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("policy"), permissions: ["keyward.keys.check"] }, kw.adminKey);
    const expireTime = new Date(kw.clock.now().getTime() + DAY).toISOString();
    const created = await rest("POST", "/api_keys", { name: uniqueName("rest"), policyId: policy!.id, expireTime, service: "billing" });
    expect(created).toMatchObject({ status: 200, body: { apiKey: { service: "billing" } } });
    const id = (created.body.apiKey as { id: string }).id;
    expect(await rest("GET", `/api_keys/${id}`)).toMatchObject({ status: 200, body: { apiKey: { id, service: "billing" } } });
    const listed = (await rest("GET", "/api_keys?pageSize=1000")).body.apiKeys as Array<{ id: string; service?: string }>;
    expect(listed.find((x) => x.id === id)?.service).toBe("billing");
    expect(await rest("PATCH", `/api_keys/${id}`, { service: "shipping" })).toMatchObject({ status: 200, body: { apiKey: { service: "shipping" } } });
    expect(await rest("PATCH", `/api_keys/${id}?updateMask=service`, {})).toMatchObject({ status: 200, body: { apiKey: { id } } });
    expect((await rest("GET", `/api_keys/${id}`)).body.apiKey).toMatchObject({ service: "" });

    for (const bad of ["Billing", "billing.invoices", "1billing", "b".repeat(64), " billing"]) {
      const refused = await rest("POST", "/api_keys", { name: uniqueName("bad"), policyId: policy!.id, expireTime, service: bad });
      expect(refused.status, bad).toBe(400);
      expect(String(refused.body.message), bad).toContain("service");
      const update = await rest("PATCH", `/api_keys/${id}`, { service: bad });
      expect(update.status, bad).toBe(400);
      expect(String(update.body.message), bad).toContain("api_key.service");
    }
    // The reserved name is refused too: no key speaks for Keyward.
    expect((await rest("POST", "/api_keys", { name: uniqueName("bad"), policyId: policy!.id, expireTime, service: "keyward" })).status).toBe(400);
    expect((await rest("GET", `/api_keys/${id}`)).body.apiKey).toMatchObject({ service: "" });
  });

  it("answers CheckKey's VALID with the key's service, over grpc-js (pre-encoded) and Connect JSON", async () => {
    const billing = await key(["demo.items.read"], "billing");
    const plain = await key(["demo.items.read"]);
    for (let round = 0; round < 2; round++) {
      // The first check is cold; the second is answered from the warm, pre-encoded verdict.
      const grpcAnswer = await c.check.call(CheckService.method.checkKey, { key: billing.credentials, permissions: ["demo.items.read"] }, kw.adminKey);
      expect(grpcAnswer).toMatchObject({ valid: true, apiKeyId: billing.id, service: "billing" });
      const json = await connectJson(kw.url, CheckService.method.checkKey, { key: billing.credentials, permissions: ["demo.items.read"] }, { authorization: `Bearer ${kw.adminKey}` });
      expect(json.body).toMatchObject({ valid: true, apiKeyId: billing.id, service: "billing" });
      const none = await c.check.call(CheckService.method.checkKey, { key: plain.credentials }, kw.adminKey);
      expect(none).toMatchObject({ valid: true, service: "" });
    }
    // A change of service reaches the warm answer at once.
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: billing.id, service: "shipping" } }, kw.adminKey);
    expect(await c.check.call(CheckService.method.checkKey, { key: billing.credentials }, kw.adminKey)).toMatchObject({ service: "shipping" });
  });

  it("lets only a caller that could register a service give a key that service", async () => {
    const target = await key(["keyward.keys.check"]);
    const getService = async () => (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: target.id }, kw.adminKey)).apiKey!.service;
    const setService = (service: string, as: string) =>
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: target.id, service }, updateMask: { paths: ["service"] } }, as);
    const createWith = (service: string, as: string) =>
      c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: uniqueName("made"), policyId: target.policyId, expireTime: expiresIn(kw, DAY), service },
        as,
      );

    // A key manager that may not register: cannot bind a key to a service (that would let the key register it).
    const manager = await key(["keyward.api_keys.*", "keyward.keys.check"]);
    const denied = setService("demo", manager.credentials);
    await expect(denied).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(denied).rejects.toThrow(/keyward\.permissions\.register/);
    await expect(createWith("demo", manager.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await getService()).toBe("");
    // It still creates and changes keys that belong to no service.
    expect((await createWith("", manager.credentials)).apiKey!.service).toBe("");

    // One that may register any service may bind a key to any.
    const registrar = await key(["keyward.api_keys.*", "keyward.keys.check", "keyward.permissions.register"]);
    expect((await setService("demo", registrar.credentials)).apiKey!.service).toBe("demo");
    expect((await createWith("demo", registrar.credentials)).apiKey!.service).toBe("demo");
    expect((await setService("", registrar.credentials)).apiKey!.service).toBe("");

    // A key manager that belongs to a service deals only in keys of that service.
    const billingAdmin = await key(["keyward.api_keys.*", "keyward.keys.check", "keyward.permissions.register"], "billing");
    for (const attempt of [() => setService("demo", billingAdmin.credentials), () => createWith("demo", billingAdmin.credentials), () => createWith("", billingAdmin.credentials)]) {
      const refused = attempt();
      await expect(refused).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(refused).rejects.toThrow(/"billing"/);
    }
    expect(await getService()).toBe("");
    // A key of no service could register anything its policy allows: not this caller's to rename or rotate.
    await expect(
      c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: target.id, name: uniqueName("renamed") } }, billingAdmin.credentials),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: target.id }, billingAdmin.credentials)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    expect((await setService("billing", billingAdmin.credentials)).apiKey!.service).toBe("billing");
    expect((await createWith("billing", billingAdmin.credentials)).apiKey!.service).toBe("billing");
    // Once the key is billing's, it may manage it, but not take it away from billing.
    await expect(setService("", billingAdmin.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await getService()).toBe("billing");
  });
});
