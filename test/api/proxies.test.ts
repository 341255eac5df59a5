// Issue #18: Debian's nginx (auth_request) and Caddy (forward_auth), each
// running the README's snippet as written, in front of an upstream: a good
// key reaches it with the x-keyward-* headers and without the key; every
// other key gets 401 or 403 from the proxy and never reaches it; what a
// client sends to steer the check (its address, its path) changes nothing;
// a proxy whose own key is refused fails closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clients } from "../support/fixtures.js";
import type { RunningKeyward } from "../support/keyward.js";
import { README_PROXIES, READ, setReaderPermissions, startProxyStack, stopProxyStack, WRITE, type ProxyKeys, type ProxyStack } from "../support/proxy-fixture.js";
import type { RunningProxy, Upstream } from "../../harness/proxies.js";

describe.each(README_PROXIES)("%s in front of a service, configured as the README says", (name, start) => {
  let stack: ProxyStack;
  let kw: RunningKeyward;
  let c: Clients;
  let keys: ProxyKeys;
  let upstream: Upstream;
  let proxy: RunningProxy;

  beforeAll(async () => {
    stack = await startProxyStack(start);
    ({ kw, c, keys, upstream, proxy } = stack);
  }, 60_000);
  afterAll(() => stopProxyStack(stack));

  /** A client's request through the proxy; the upstream's echo when it got there. */
  async function request(path: string, headers: Record<string, string>, method = "GET") {
    const before = upstream.seen.length;
    const res = await fetch(`${proxy.url}${path}`, { method, headers });
    const body = await res.text();
    const reached = upstream.seen.length > before;
    return { status: res.status, headers: res.headers, body, reached, upstream: reached ? upstream.seen[upstream.seen.length - 1]! : undefined };
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it("passes a good key's request upstream with the x-keyward-* headers and without the key", async () => {
    const presented: Array<Record<string, string>> = [bearer(keys.reader.credentials), { "x-api-key": keys.reader.credentials }, { "api-key": keys.reader.credentials }];
    for (const credentials of presented) {
      // A client's own x-keyward-* headers are replaced by Keyward's.
      const res = await request("/invoices/7?sort=asc", { ...credentials, "x-keyward-key-id": "forged", "x-keyward-service": "forged" }, "POST");
      expect(res.status, proxy.output()).toBe(200);
      const seen = res.upstream!;
      expect(seen.method).toBe("POST");
      expect(seen.url).toBe("/invoices/7?sort=asc");
      expect(seen.headers["x-keyward-key-id"]).toBe(keys.reader.id);
      expect(seen.headers["x-keyward-policy-id"]).toBe(keys.reader.policyId);
      expect(seen.headers["x-keyward-service"]).toBe("billing");
      expect(decodeURIComponent(String(seen.headers["x-keyward-key-name"]))).toMatch(/^Rechnungsprüfung 100%-\d+$/);
      // The proxy's key and the client's key stay out of the service.
      expect(JSON.stringify(seen.headers)).not.toContain(keys.reader.credentials);
      expect(JSON.stringify(seen.headers)).not.toContain(keys.proxy);
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers["x-api-key"]).toBeUndefined();
      expect(seen.headers["api-key"]).toBeUndefined();
    }
  });

  it.each([
    ["no", () => ({}), 401],
    ["a malformed", () => bearer("kw_nonsense"), 401],
    ["an unknown", () => bearer(keys.unknown), 401],
    ["a retired", () => bearer(keys.retired), 401],
    ["an under-privileged", () => bearer(keys.underPrivileged), 403],
    ["an out-of-subnet", () => bearer(keys.outOfSubnet), 403],
  ])("refuses a request with %s key, which never reaches the service", async (_, headers, status) => {
    const res = await request("/invoices/7", headers());
    expect(res.status, proxy.output()).toBe(status);
    expect(res.reached).toBe(false);
    if (status === 401) expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("judges the client's real address and path, whatever headers the client adds", async () => {
    // A key bound to 10.0.0.0/8, from loopback, claiming to come from inside.
    const spoofedIp = await request("/invoices/7", { ...bearer(keys.outOfSubnet), "x-real-ip": "10.1.2.3", "x-forwarded-for": "10.1.2.3" });
    expect(spoofedIp.status).toBe(403);
    // A key limited to /invoices, asking for /admin while naming /invoices.
    const steer = { "x-forwarded-uri": "/invoices/7", "x-original-uri": "/invoices/7", "x-forwarded-method": "GET", "x-original-method": "GET" };
    const spoofedPath = await request("/admin", { ...bearer(keys.constrained), ...steer });
    expect(spoofedPath.status).toBe(403);
    expect(spoofedPath.reached).toBe(false);
    expect((await request("/invoices/7", bearer(keys.constrained))).status).toBe(200);
  });

  it("applies a policy change on the next request", async () => {
    expect((await request("/invoices/7", bearer(keys.reader.credentials))).status).toBe(200);
    await setReaderPermissions(kw, c, keys, [WRITE]);
    expect((await request("/invoices/7", bearer(keys.reader.credentials))).status).toBe(403);
    await setReaderPermissions(kw, c, keys, [READ]);
    expect((await request("/invoices/7", bearer(keys.reader.credentials))).status).toBe(200);
  });

  it("fails closed, with 500, when its own key is refused", async () => {
    const misconfigured = await start({ keywardPort: kw.port, upstreamPort: upstream.port, proxyKey: keys.notAChecker });
    try {
      const before = upstream.seen.length;
      const res = await fetch(`${misconfigured.url}/invoices/7`, { headers: bearer(keys.reader.credentials) });
      expect(res.status).toBe(500);
      expect(upstream.seen.length).toBe(before);
    } finally {
      await misconfigured.stop();
    }
  }, 30_000);

  // Last: moves Keyward's clock for every key.
  it("refuses an expired key", async () => {
    expect((await request("/invoices/7", bearer(keys.expiring))).status).toBe(200);
    keys.expire();
    const res = await request("/invoices/7", bearer(keys.expiring));
    expect(res.status).toBe(401);
    expect(res.reached).toBe(false);
  });
});
