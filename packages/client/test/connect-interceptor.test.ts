// The Connect interceptor of @keyward/client against a real Keyward: a
// connect-node service whose DescService carries keyward.v1 options (Keyward's
// own PolicyService stands in for a user's service here: it needs
// keyward.policies.read to list policies).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyService } from "../../../gen/keyward/v1/policies_pb.js";
import { grpcClients, keyWithPermissions, type Clients } from "../../../test/support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../../../test/support/keyward.js";
import { TEST_STORES } from "../../../test/support/stores.js";
import { keywardClientIp, keywardInterceptor, keywardKey } from "../src/connect.js";
import { KeywardClient } from "../src/index.js";

describe("keywardInterceptor against a real Keyward", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let keyward: KeywardClient;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    kw = await startKeyward(await TEST_STORES[0]!.create());
    c = grpcClients(kw.port);
    const checker = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    keyward = new KeywardClient({ address: `127.0.0.1:${kw.port}`, serviceKey: checker.credentials });
    const handler = connectNodeAdapter({
      interceptors: [keywardInterceptor(keyward)],
      contextValues: (req) => createContextValues().set(keywardClientIp, req.socket.remoteAddress ?? ""),
      routes: (router) =>
        router.service(PolicyService, {
          // The handler answers with the verified key's id in the policy's name, to show it was handed over.
          adminGetApiKeyPolicies: (_req, ctx) => ({ policies: [{ id: "x", name: ctx.values.get(keywardKey)?.id ?? "none" }] }),
        }),
    });
    server = createServer(handler).listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    keyward?.close();
    c?.close();
    await kw?.close();
  });

  const call = (procedure: string, headers: Record<string, string>) =>
    fetch(`${url}/keyward.v1.PolicyService/${procedure}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });

  it("lets through a key holding what the method's option declares, and hands the handler the key", async () => {
    const reader = await keyWithPermissions(kw, c, ["keyward.policies.read"]);
    const res = await call("AdminGetApiKeyPolicies", { authorization: `Bearer ${reader.credentials}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ policies: [{ id: "x", name: reader.id }] });
  });

  it("answers unauthenticated without a valid key, permission_denied without the permission, and refuses a method with no declaration", async () => {
    const other = await keyWithPermissions(kw, c, ["keyward.audit.read"]);
    const missing = await call("AdminGetApiKeyPolicies", {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: "unauthenticated" });
    const denied = await call("AdminGetApiKeyPolicies", { "x-api-key": other.credentials });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: "permission_denied", message: "the API key lacks a permission this request needs" });
    // Declared but not implemented here: refused by the interceptor before Connect's "unimplemented".
    expect((await call("AdminCreateApiKeyPolicy", { "x-api-key": other.credentials })).status).toBe(403);
  });
});
