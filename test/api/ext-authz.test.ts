// Issue #18: Envoy's ext_authz API (envoy.service.auth.v3.Authorization/Check)
// called as Envoy calls it, by a stock @grpc/grpc-js client that loads the
// vendored .proto files with proto-loader (not Keyward's generated code): every
// verdict, the headers an OK answer sets and removes, the caller's own key.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufCurl, grpcClients, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { authorizationClient, callCheck, type AuthorizationClient, type CheckResponse, type HeaderOption } from "../support/envoy-client.js";
import { createProxyKeys, READ, setReaderPermissions, WRITE, type ProxyKeys } from "../support/proxy-fixture.js";

describe("Envoy ext_authz (Authorization/Check)", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let keys: ProxyKeys;
  let envoy: AuthorizationClient;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    keys = await createProxyKeys(kw, c);
    envoy = authorizationClient(kw.port);
  });
  afterAll(async () => {
    envoy?.close();
    c?.close();
    await kw?.close();
  });

  interface Described {
    headers?: Record<string, string>;
    headerMap?: Array<{ key: string; value?: string; raw_value?: Buffer }>;
    method?: string;
    path?: string;
    source?: string;
    permissions?: string | undefined;
    caller?: string | null;
  }

  /** What Envoy sends for a request: its attributes, and the proxy's key in `initial_metadata`. */
  function check(d: Described): Promise<CheckResponse> {
    const request = {
      attributes: {
        source: { address: { socket_address: { address: d.source ?? "127.0.0.1", port_value: 51234 } } },
        destination: { address: { socket_address: { address: "127.0.0.1", port_value: 8000 } } },
        request: {
          http: {
            id: "1",
            method: d.method ?? "GET",
            path: d.path ?? "/invoices/7?sort=asc",
            host: "billing.internal",
            protocol: "HTTP/1.1",
            headers: d.headers ?? {},
            header_map: d.headerMap ? { headers: d.headerMap } : undefined,
          },
        },
        context_extensions: d.permissions === undefined ? { "keyward-permissions": READ } : { "keyward-permissions": d.permissions },
      },
    };
    return callCheck(envoy, request, d.caller === undefined ? keys.proxy : d.caller);
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}`, ":authority": "billing.internal" });
  const headersOf = (options: HeaderOption[]) => Object.fromEntries(options.map((o) => [o.header.key, o.header.value]));

  it("allows a good key: OK, the x-keyward-* headers set (overwriting the client's), the key's header removed", async () => {
    const res = await check({ headers: bearer(keys.reader.credentials) });
    expect(res.status.code).toBe(grpc.status.OK);
    expect(res.http_response).toBe("ok_response");
    const ok = res.ok_response!;
    expect(headersOf(ok.headers)).toEqual({
      "x-keyward-key-id": keys.reader.id,
      "x-keyward-key-name": expect.stringMatching(/^Rechnungspr%C3%BCfung 100%25-\d+$/),
      "x-keyward-service": "billing",
      "x-keyward-policy-id": keys.reader.policyId,
    });
    for (const option of ok.headers) expect(option.append_action).toBe("OVERWRITE_IF_EXISTS_OR_ADD");
    expect(ok.headers_to_remove).toEqual(["authorization"]);
  });

  it("removes the header the key came in: x-api-key, api-key, or from Envoy's raw header_map", async () => {
    expect((await check({ headers: { "x-api-key": keys.reader.credentials } })).ok_response!.headers_to_remove).toEqual(["x-api-key"]);
    expect((await check({ headers: { "api-key": keys.reader.credentials } })).ok_response!.headers_to_remove).toEqual(["api-key"]);
    const raw = await check({ headerMap: [{ key: "X-Api-Key", raw_value: Buffer.from(keys.reader.credentials) }] });
    expect(raw.status.code).toBe(grpc.status.OK);
    expect(raw.ok_response!.headers_to_remove).toEqual(["x-api-key"]);
  });

  it.each([
    ["no key", () => ({}), "CHECK_CODE_MALFORMED"],
    ["a malformed key", () => bearer("kw_nonsense"), "CHECK_CODE_MALFORMED"],
    ["a retired key", () => bearer(keys.retired), "CHECK_CODE_RETIRED"],
  ])("denies %s with 401 and WWW-Authenticate", async (_, headers, code) => {
    const res = await check({ headers: headers() });
    expect(res.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(res.http_response).toBe("denied_response");
    const denied = res.denied_response!;
    expect(denied.status.code).toBe("Unauthorized");
    expect(headersOf(denied.headers)).toMatchObject({ "www-authenticate": "Bearer", "content-type": "application/json" });
    expect(JSON.parse(denied.body)).toEqual({ valid: false, code });
  });

  it("denies an unknown key (a real key's form, another secret) with 401", async () => {
    const res = await check({ headers: bearer(keys.unknown) });
    expect(res.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(res.denied_response!.status.code).toBe("Unauthorized");
    expect(JSON.parse(res.denied_response!.body)).toEqual({ valid: false, code: "CHECK_CODE_NOT_FOUND" });
  });

  it.each([
    ["an under-privileged key", () => ({ headers: bearer(keys.underPrivileged) }), "CHECK_CODE_PERMISSION_DENIED"],
    ["a route requiring two permissions, one not held", () => ({ headers: bearer(keys.reader.credentials), permissions: ` ${READ} , ${WRITE}` }), "CHECK_CODE_PERMISSION_DENIED"],
    ["a key used outside its subnet", () => ({ headers: bearer(keys.outOfSubnet) }), "CHECK_CODE_SUBNET_DENIED"],
    ["a key used outside its paths (the query is not the path)", () => ({ headers: bearer(keys.constrained), path: "/admin?next=/invoices" }), "CHECK_CODE_CONSTRAINT_DENIED"],
  ])("denies %s with 403", async (_, described, code) => {
    const res = await check(described());
    expect(res.status.code).toBe(grpc.status.PERMISSION_DENIED);
    const denied = res.denied_response!;
    expect(denied.status.code).toBe("Forbidden");
    expect(headersOf(denied.headers)["www-authenticate"]).toBeUndefined();
    expect(JSON.parse(denied.body)).toEqual({ valid: false, code });
  });

  it("reads the source address, the path without its query, and permissions from context_extensions", async () => {
    expect((await check({ headers: bearer(keys.outOfSubnet), source: "10.1.2.3" })).status.code).toBe(grpc.status.OK);
    expect((await check({ headers: bearer(keys.outOfSubnet), source: "::ffff:10.1.2.3" })).status.code).toBe(grpc.status.OK);
    expect((await check({ headers: bearer(keys.constrained), path: "/invoices/7?to=/admin" })).status.code).toBe(grpc.status.OK);
    // A route that names no permission authenticates only.
    expect((await check({ headers: bearer(keys.underPrivileged), permissions: "" })).status.code).toBe(grpc.status.OK);
  });

  it("refuses a route whose keyward-permissions is malformed, naming it", async () => {
    await expect(check({ headers: bearer(keys.reader.credentials), permissions: "Not A Permission" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/permissions\[0\]/),
    });
    const tooMany = Array.from({ length: 101 }, () => READ).join(",");
    await expect(check({ headers: bearer(keys.reader.credentials), permissions: tooMany })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/keyward-permissions/),
    });
  });

  it("authenticates the caller by its own key: none, refused or without keyward.keys.check fails the call (Envoy then denies)", async () => {
    await expect(check({ headers: bearer(keys.reader.credentials), caller: null })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(check({ headers: bearer(keys.reader.credentials), caller: keys.retired })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(check({ headers: bearer(keys.reader.credentials), caller: keys.notAChecker })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/keyward.keys.check/),
    });
  });

  it("sees a policy change on the next check", async () => {
    expect((await check({ headers: bearer(keys.reader.credentials) })).status.code).toBe(grpc.status.OK);
    await setReaderPermissions(kw, c, keys, [WRITE]);
    expect((await check({ headers: bearer(keys.reader.credentials) })).status.code).toBe(grpc.status.PERMISSION_DENIED);
    await setReaderPermissions(kw, c, keys, [READ]);
    expect((await check({ headers: bearer(keys.reader.credentials) })).status.code).toBe(grpc.status.OK);
  });

  it("is described by reflection: buf curl calls it without the .proto files", async () => {
    const stdout = await bufCurl(
      "-H", `authorization: Bearer ${keys.proxy}`,
      "-d", JSON.stringify({ attributes: { request: { http: { method: "GET", path: "/invoices/7", headers: { "x-api-key": keys.reader.credentials } } }, contextExtensions: { "keyward-permissions": READ } } }),
      `${kw.url}/envoy.service.auth.v3.Authorization/Check`,
    );
    const answer = JSON.parse(stdout) as { okResponse?: { headersToRemove?: string[] } };
    expect(answer.okResponse?.headersToRemove).toEqual(["x-api-key"]);
  });

  // Last: moves the clock for every key.
  it("denies an expired key with 401", async () => {
    expect((await check({ headers: bearer(keys.expiring) })).status.code).toBe(grpc.status.OK);
    keys.expire();
    const res = await check({ headers: bearer(keys.expiring) });
    expect(res.status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(JSON.parse(res.denied_response!.body)).toEqual({ valid: false, code: "CHECK_CODE_EXPIRED" });
  });
});
