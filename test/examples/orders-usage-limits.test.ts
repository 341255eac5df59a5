// Issue #20 meets @keyward/client: the example orders service, protected with
// its verdict cache on, in front of keys with a rate limit and with credits. A
// service must not let a limited key past its limit from its own cache, must
// spend one credit per request, and must answer 429 / RESOURCE_EXHAUSTED.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { definition, startOrdersService, type RunningOrdersService } from "../../examples/orders/service.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

const OrdersClient = grpc.makeGenericClientConstructor(definition["orders.v1.OrderService"] as grpc.ServiceDefinition, "OrderService");

describe("the example orders service (client cache on) in front of keys with usage limits", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let orders: RunningOrdersService;
  let client: grpc.Client;
  let http: string;
  let readers: string;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("orders-service"), permissions: ["keyward.keys.check"] }, kw.adminKey);
    const service = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("orders"), policyId: policy!.id, expireTime: expiresIn(kw, DAY), service: "orders" },
      kw.adminKey,
    );
    // The longest cache the client allows, so that a cached VALID would certainly be reused below.
    orders = await startOrdersService({ keywardAddress: `127.0.0.1:${kw.port}`, serviceKey: service.credentials, cacheTtlMs: 2000 });
    client = new OrdersClient(`127.0.0.1:${orders.grpcPort}`, grpc.credentials.createInsecure());
    http = `http://127.0.0.1:${orders.httpPort}`;
    readers = (await keyWithPermissions(kw, c, ["orders.read"])).policyId;
  });
  afterAll(async () => {
    client?.close();
    await orders?.close();
    c?.close();
    await kw?.close();
  });

  const limitedKey = async (limits: Record<string, unknown>) =>
    (await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("metered"), policyId: readers, expireTime: expiresIn(kw, DAY), ...limits }, kw.adminKey))
      .credentials;
  const getOrder = (key: string) =>
    new Promise<void>((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${key}`);
      (client as unknown as Record<string, Function>).GetOrder!.call(client, { id: "7" }, metadata, (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()));
    });
  const httpGet = (key: string) => fetch(`${http}/orders/7`, { headers: { authorization: `Bearer ${key}` } });

  it("over gRPC: a rate-limited key gets exactly its limit, then RESOURCE_EXHAUSTED, the same request every time", async () => {
    const key = await limitedKey({ rateLimits: [{ limit: 3n, period: { seconds: 3600n } }] });
    for (let i = 0; i < 3; i++) await getOrder(key);
    await expect(getOrder(key)).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/rate limit/) });
  });

  it("over HTTP: a key with credits gets exactly its credits, then 429; a rate-limited one 429 with Retry-After", async () => {
    const credited = await limitedKey({ credits: { remaining: 3n } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await httpGet(credited)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const spent = await httpGet(credited);
    expect(await spent.json()).toEqual({ error: "the API key has no credits left" });
    // No refill: nothing to wait for, so no Retry-After.
    expect(spent.headers.get("retry-after")).toBeNull();

    const rateLimited = await limitedKey({ rateLimits: [{ limit: 1n, period: { seconds: 60n } }] });
    expect((await httpGet(rateLimited)).status).toBe(200);
    const over = await httpGet(rateLimited);
    expect(over.status).toBe(429);
    expect(await over.json()).toEqual({ error: "the API key is over its rate limit" });
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
  });

  it("caches VALID for a key without limits, never for one with limits", async () => {
    const plain = await limitedKey({});
    const before = orders.keyward.cache.size;
    expect((await httpGet(plain)).status).toBe(200);
    expect(orders.keyward.cache.size).toBe(before + 1);
    const metered = await limitedKey({ rateLimits: [{ limit: 100n, period: { seconds: 60n } }], credits: { remaining: 100n } });
    expect((await httpGet(metered)).status).toBe(200);
    expect(orders.keyward.cache.size).toBe(before + 1);
  });
});
