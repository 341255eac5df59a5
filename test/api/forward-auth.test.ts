// HTTP forward auth (design §10, issue #18) as a proxy calls it: every
// verdict's status, the x-keyward-* headers, where the request's method, path
// and client address are read from, and a proxy whose own key is refused
// failing loudly and closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { createProxyKeys, READ, setReaderPermissions, WRITE, type ProxyKeys } from "../support/proxy-fixture.js";
import { TEST_STORES } from "../support/stores.js";

describe.each(TEST_STORES)("forward auth ($name)", (testStore) => {
  let kw: RunningKeyward;
  let c: Clients;
  let keys: ProxyKeys;

  beforeAll(async () => {
    kw = await startKeyward(await testStore.create());
    c = grpcClients(kw.port);
    keys = await createProxyKeys(kw, c);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  /** Asks as nginx does (X-Original-*), with the proxy's key unless `headers` replaces it. */
  const ask = (headers: Record<string, string>, query = `?permission=${READ}`, method = "GET") =>
    fetch(`${kw.url}/api/v1/forward_auth${query}`, {
      method,
      headers: { "x-keyward-caller": keys.proxy, "x-original-method": "GET", "x-original-uri": "/invoices/7?x=1", "x-real-ip": "127.0.0.1", ...headers },
    });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it("answers 200 with the key's identity for the proxy to pass upstream", async () => {
    const res = await ask(bearer(keys.reader.credentials));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ valid: true, code: "CHECK_CODE_VALID" });
    expect(res.headers.get("x-keyward-key-id")).toBe(keys.reader.id);
    expect(res.headers.get("x-keyward-policy-id")).toBe(keys.reader.policyId);
    expect(res.headers.get("x-keyward-service")).toBe("billing");
    // A name is any text but controls: percent-encoded so that any proxy passes it on intact.
    expect(decodeURIComponent(res.headers.get("x-keyward-key-name")!)).toMatch(/^Rechnungsprüfung 100%-\d+$/);
    expect(res.headers.get("x-keyward-key-name")).toMatch(/^Rechnungspr%C3%BCfung 100%25-\d+$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("reads the key from X-Api-Key and Api-Key too, with any method", async () => {
    expect((await ask({ "x-api-key": keys.reader.credentials }, `?permission=${READ}`, "POST")).status).toBe(200);
    expect((await ask({ "api-key": keys.reader.credentials }, `?permission=${READ}`, "HEAD")).status).toBe(200);
  });

  it.each([
    ["missing", () => ({}), "CHECK_CODE_MALFORMED"],
    ["malformed", () => bearer("kw_not-a-key"), "CHECK_CODE_MALFORMED"],
    ["not a bearer token", () => ({ authorization: "Basic dXNlcjpwYXNz" }), "CHECK_CODE_MALFORMED"],
    ["retired", () => bearer(keys.retired), "CHECK_CODE_RETIRED"],
  ])("answers 401 with WWW-Authenticate for a %s key", async (_, headers, code) => {
    const res = await ask(headers());
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await res.json()).toEqual({ valid: false, code });
    expect(res.headers.get("x-keyward-key-id")).toBeNull();
  });

  it("answers 401 for an unknown key (a real key's form, another secret)", async () => {
    const res = await ask(bearer(keys.unknown));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ valid: false, code: "CHECK_CODE_NOT_FOUND" });
  });

  it.each([
    ["under-privileged", () => keys.underPrivileged, {}, "CHECK_CODE_PERMISSION_DENIED"],
    ["out-of-subnet", () => keys.outOfSubnet, {}, "CHECK_CODE_SUBNET_DENIED"],
    ["constrained, outside its paths", () => keys.constrained, { "x-original-uri": "/admin?next=/invoices" }, "CHECK_CODE_CONSTRAINT_DENIED"],
  ])("answers 403 for an %s key", async (_, key, headers, code) => {
    const res = await ask({ ...bearer(key()), ...headers });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ valid: false, code });
    expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("judges the path without its query, and prefers X-Forwarded-* (Caddy, Traefik) to X-Original-*", async () => {
    expect((await ask({ ...bearer(keys.constrained), "x-original-uri": "/invoices/7?to=/admin" })).status).toBe(200);
    const traefik = { "x-forwarded-method": "GET", "x-forwarded-uri": "/admin", "x-original-uri": "/invoices/7" };
    expect((await ask({ ...bearer(keys.constrained), ...traefik })).status).toBe(403);
  });

  it("reads the client address from X-Real-IP, else the last X-Forwarded-For entry", async () => {
    const key = bearer(keys.outOfSubnet);
    expect((await ask({ ...key, "x-real-ip": "10.1.2.3" })).status).toBe(200);
    const noRealIp = (xff: string) =>
      fetch(`${kw.url}/api/v1/forward_auth?permission=${READ}`, { headers: { "x-keyward-caller": keys.proxy, ...key, "x-forwarded-for": xff } });
    expect((await noRealIp("192.0.2.1, 10.1.2.3")).status).toBe(200);
    // Entries further left were written by the client.
    expect((await noRealIp("10.1.2.3, 192.0.2.1")).status).toBe(403);
    // No address at all: a key bound to subnets is refused (fail closed).
    expect((await noRealIp("")).status).toBe(403);
  });

  it("requires every permission the route names, and none when it names none", async () => {
    expect((await ask(bearer(keys.reader.credentials), `?permission=${READ}&permission=${WRITE}`)).status).toBe(403);
    expect((await ask(bearer(keys.underPrivileged), "")).status).toBe(200);
  });

  it("refuses a route configured with another query parameter or a malformed permission, naming it", async () => {
    const typo = await ask(bearer(keys.reader.credentials), `?permissions=${READ}`);
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { message: string }).message).toMatch(/unknown query parameter "permissions"/);
    const malformed = await ask(bearer(keys.reader.credentials), "?permission=Not%20A%20Permission");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(/permissions\[0\]/);
    const tooMany = await ask(bearer(keys.reader.credentials), `?${Array.from({ length: 101 }, () => `permission=${READ}`).join("&")}`);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { message: string }).message).toMatch(/\?permission/);
  });

  it("answers 500 naming the problem when the proxy's own key is missing or refused, whatever key the client sent", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ "x-keyward-caller": "" }, /X-Keyward-Caller\) was refused: invalid API key/],
      [{ "x-keyward-caller": keys.notAChecker }, /X-Keyward-Caller\) was refused: this key's policy does not hold keyward.keys.check/],
      [{ "x-keyward-caller": keys.retired }, /X-Keyward-Caller\) was refused: the API key was retired/],
    ];
    for (const [headers, message] of cases) {
      const res = await ask({ ...bearer(keys.reader.credentials), ...headers });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
      expect(res.headers.get("x-keyward-key-id")).toBeNull();
    }
    const none = await fetch(`${kw.url}/api/v1/forward_auth`, { headers: bearer(keys.reader.credentials) });
    expect(none.status).toBe(500);
    expect(((await none.json()) as { message: string }).message).toMatch(/sent no X-Keyward-Caller/);
    // "Bearer <key>" is read as the key.
    expect((await ask({ ...bearer(keys.reader.credentials), "x-keyward-caller": `Bearer ${keys.proxy}` })).status).toBe(200);
  });

  it("sees a policy change on the next request", async () => {
    expect((await ask(bearer(keys.reader.credentials))).status).toBe(200);
    await setReaderPermissions(kw, c, keys, [WRITE]);
    expect((await ask(bearer(keys.reader.credentials))).status).toBe(403);
    await setReaderPermissions(kw, c, keys, [READ]);
    expect((await ask(bearer(keys.reader.credentials))).status).toBe(200);
  });

  // Last: moves the clock for every key.
  it("answers 401 for an expired key", async () => {
    expect((await ask(bearer(keys.expiring))).status).toBe(200);
    keys.expire();
    const res = await ask(bearer(keys.expiring));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ valid: false, code: "CHECK_CODE_EXPIRED" });
  });
});
