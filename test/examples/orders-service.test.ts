// Issue #17, items 3 and 4: the example service, protected by @keyward/client
// over grpc-js and plain HTTP, against a real Keyward (PGlite and PostgreSQL).
// Its permissions come from its protos, and it registers them at start.
import { once } from "node:events";
import { createServer, connect as netConnect, type AddressInfo, type Server } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { definition, startOrdersService, type RunningOrdersService } from "../../examples/orders/service.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

type Order = { id: string; item: string; caller_key_id: string };
const OrdersClient = grpc.makeGenericClientConstructor(definition["orders.v1.OrderService"] as grpc.ServiceDefinition, "OrderService");

function grpcCall(client: grpc.Client, method: string, request: object, headers: Record<string, string> = {}): Promise<Order> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  const fn = (client as unknown as Record<string, Function>)[method]!.bind(client);
  return new Promise((resolve, reject) => fn(request, metadata, (err: grpc.ServiceError | null, res: Order) => (err ? reject(err) : resolve(res))));
}

/** A key that belongs to the service `orders` and may check keys: what the README tells an operator to issue. */
async function serviceKey(kw: RunningKeyward, c: Clients): Promise<string> {
  const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("orders-service"), permissions: ["keyward.keys.check"] }, kw.adminKey);
  const created = await c.keys.call(
    ApiKeyService.method.adminCreateApiKey,
    { name: uniqueName("orders"), policyId: policy!.id, expireTime: expiresIn(kw, DAY), service: "orders" },
    kw.adminKey,
  );
  return created.credentials;
}

describe.each(TEST_STORES)("the example orders service against a real Keyward, on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let orders: RunningOrdersService;
  let client: grpc.Client;
  let http: string;
  const refusals: unknown[][] = [];

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    orders = await startOrdersService({ keywardAddress: `127.0.0.1:${kw.port}`, serviceKey: await serviceKey(kw, c), cacheTtlMs: 500, onRefused: (...told) => refusals.push(told) });
    client = new OrdersClient(`127.0.0.1:${orders.grpcPort}`, grpc.credentials.createInsecure());
    http = `http://127.0.0.1:${orders.httpPort}`;
  });
  afterAll(async () => {
    client?.close();
    await orders?.close();
    c?.close();
    await kw?.close();
  });

  it("registered the permissions its protos declare at start, with their descriptions", async () => {
    const listed = (await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, kw.adminKey)).permissions.filter((p) => p.service === "orders");
    expect(listed.map((p) => [p.name, p.description, p.registered])).toEqual([
      ["orders.invoices.read", "", true],
      ["orders.read", "Read orders", true],
      ["orders.write", "Place orders", true],
    ]);
  });

  it("tells the operator which permission a key lacked, and the caller only that it was refused", async () => {
    const reader = await keyWithPermissions(kw, c, ["orders.read"]);
    refusals.length = 0;
    const refused = await grpcCall(client, "PlaceOrder", { item: "x" }, { authorization: `Bearer ${reader.credentials}` }).catch((e: grpc.ServiceError) => e);
    expect(refused).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect((refused as grpc.ServiceError).details).not.toContain("orders.write");
    const res = await fetch(`${http}/orders`, { method: "POST", headers: { authorization: `Bearer ${reader.credentials}` }, body: "{}" });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("orders.write");
    expect(refusals).toHaveLength(2);
    for (const [refusal, request] of refusals) {
      expect(refusal).toMatchObject({ status: "permission_denied", missingPermission: "orders.write", apiKeyId: reader.id });
      expect(request).toMatchObject({ permissions: ["orders.write"] });
    }
    expect(JSON.stringify(refusals)).not.toContain(reader.credentials);
  });

  it("over gRPC: lets a key through to what its policy grants, hands the handler the key, refuses the rest with the right code", async () => {
    const reader = await keyWithPermissions(kw, c, ["orders.read"]);
    const bearer = { authorization: `Bearer ${reader.credentials}` };
    expect(await grpcCall(client, "GetOrder", { id: "7" }, bearer)).toMatchObject({ id: "7", caller_key_id: reader.id });
    expect(await grpcCall(client, "GetOrder", { id: "8" }, { "x-api-key": reader.credentials })).toMatchObject({ caller_key_id: reader.id });
    expect(await grpcCall(client, "WhoAmI", {}, { "api-key": reader.credentials })).toMatchObject({ caller_key_id: reader.id });
    await expect(grpcCall(client, "PlaceOrder", { item: "x" }, bearer)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    // Needs orders.read AND orders.invoices.read.
    await expect(grpcCall(client, "GetOrderInvoice", { id: "7" }, bearer)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const all = await keyWithPermissions(kw, c, ["orders.*"]);
    expect(await grpcCall(client, "GetOrderInvoice", { id: "7" }, { authorization: `Bearer ${all.credentials}` })).toMatchObject({ caller_key_id: all.id });

    await expect(grpcCall(client, "GetOrder", { id: "7" })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/missing API key/) });
    await expect(grpcCall(client, "GetOrder", { id: "7" }, { authorization: "Bearer kw_nope" })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("over HTTP: 200 with the verified key, 403 without the permission or on an undeclared route, 401 without a valid key", async () => {
    const reader = await keyWithPermissions(kw, c, ["orders.read"]);
    const get = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${http}${path}`, { method, headers });
    const ok = await get("/orders/7?x=1", { authorization: `Bearer ${reader.credentials}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: "7", caller_key_id: reader.id });
    expect((await get("/orders/7", { "x-api-key": reader.credentials })).status).toBe(200);
    const denied = await get("/orders", { authorization: `Bearer ${reader.credentials}` }, "POST");
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: "the API key lacks a permission this request needs" });
    expect((await get("/orders/7/invoice", { authorization: `Bearer ${reader.credentials}` })).status).toBe(403);
    expect((await get("/admin", { authorization: `Bearer ${reader.credentials}` })).status).toBe(403);
    const missing = await get("/orders/7");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await get("/orders/7", { authorization: "Bearer kw_nope" })).status).toBe(401);
  });

  it("a deleted key is refused once the client's cache TTL has passed", async () => {
    const reader = await keyWithPermissions(kw, c, ["orders.read"]);
    const bearer = { authorization: `Bearer ${reader.credentials}` };
    await grpcCall(client, "GetOrder", { id: "1" }, bearer); // now cached
    await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: reader.id }, kw.adminKey);
    await new Promise((r) => setTimeout(r, 500 + 100));
    await expect(grpcCall(client, "GetOrder", { id: "1" }, bearer)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect((await fetch(`${http}/orders/1`, { headers: bearer })).status).toBe(401);
  });
});

describe("the client library's start-up and failure behaviour", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let proxy: Server | undefined;

  beforeAll(async () => {
    kw = await startKeyward(await TEST_STORES[0]!.create());
    c = grpcClients(kw.port);
  });
  afterAll(async () => {
    proxy?.close();
    c?.close();
    await kw?.close();
  });

  it("retries registration with backoff while Keyward is not reachable, then registers once it is", async () => {
    // A port nothing listens on yet; a TCP relay to Keyward opens on it later.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    const key = await serviceKey(kw, c);
    const service = await startOrdersService({ keywardAddress: `127.0.0.1:${port}`, serviceKey: key, awaitRegistration: false });
    try {
      await new Promise((r) => setTimeout(r, 700));
      const before = (await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, kw.adminKey)).permissions;
      expect(before.some((p) => p.service === "orders")).toBe(false);
      proxy = createServer((socket) => socket.pipe(netConnect(kw.port, "127.0.0.1")).pipe(socket)).listen(port, "127.0.0.1");
      await service.registered;
      const after = (await c.permissions.call(PermissionService.method.adminGetApiKeyPermissions, {}, kw.adminKey)).permissions;
      expect(after.filter((p) => p.service === "orders").map((p) => p.name)).toEqual(["orders.invoices.read", "orders.read", "orders.write"]);
    } finally {
      await service.close();
    }
  });

  it("fails closed: when Keyward cannot be reached, requests are refused with 503 / UNAVAILABLE", async () => {
    const service = await startOrdersService({ keywardAddress: `127.0.0.1:${kw.port}`, serviceKey: await serviceKey(kw, c) });
    const reader = await keyWithPermissions(kw, c, ["orders.read"]);
    // The same service, but pointed at an address where nothing answers.
    const { KeywardClient } = await import("../../packages/client/src/index.js");
    const dead = new KeywardClient({ address: "127.0.0.1:1", serviceKey: "x", checkTimeoutMs: 300 });
    try {
      const outcome = await dead.check({ key: reader.credentials, permissions: ["orders.read"], method: "GET", path: "/orders/1", clientIp: "127.0.0.1" });
      expect(outcome).toMatchObject({ ok: false, status: "unavailable" });
    } finally {
      dead.close();
      await service.close();
    }
  });
});
