// Issue #20 meets issue #18: a key over its rate limit or out of credits,
// presented through a proxy, is answered 429 with Retry-After (when waiting
// helps) and never reaches the service. Forward auth and Envoy's ext_authz are
// asked directly; nginx and Caddy run the README's snippets as written.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { RefillInterval } from "../../gen/keyward/v1/limits_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { authorizationClient, callCheck, type AuthorizationClient, type CheckResponse } from "../support/envoy-client.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import type { RunningProxy, Upstream } from "../../harness/proxies.js";
import { createProxyKeys, README_PROXIES, READ, startProxyStack, stopProxyStack, type ProxyKeys, type ProxyStack } from "../support/proxy-fixture.js";

/**
 * The longest Retry-After for a limit of 1 a minute: the sliding window counts
 * the previous window's checks, weighted by how much of it is still within the
 * last minute, so one check keeps the estimate at 1 until up to two minutes on.
 */
const MOST_SECONDS = 120;

/** Keys with usage limits on the readers' policy: each test takes fresh ones, so none depends on another's checks. */
async function limitedKey(kw: RunningKeyward, c: Clients, policyId: string, limits: Record<string, unknown>): Promise<string> {
  const created = await c.keys.call(
    ApiKeyService.method.adminCreateApiKey,
    { name: uniqueName("proxy-limited"), policyId, expireTime: expiresIn(kw, DAY), ...limits },
    kw.adminKey,
  );
  return created.credentials;
}
const oncePerMinute = { rateLimits: [{ limit: 1n, period: { seconds: 60n } }] };
const oneCreditDaily = { credits: { remaining: 1n, refill: { amount: 5n, interval: RefillInterval.DAY } } };
const oneCreditEver = { credits: { remaining: 1n } };

/** Seconds to the next UTC midnight, rounded up, as Retry-After counts them. */
const secondsToMidnight = (kw: RunningKeyward) => {
  const now = kw.clock.now().getTime();
  return Math.ceil((Math.ceil((now + 1) / DAY) * DAY - now) / 1000);
};

/** A Retry-After until midnight: the server counted it a moment before the test does, so it may be one second more. */
const expectUntilMidnight = (retryAfter: string | null | undefined, kw: RunningKeyward) => {
  const expected = secondsToMidnight(kw);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(expected);
  expect(Number(retryAfter)).toBeLessThanOrEqual(expected + 1);
};

describe("forward auth and ext_authz: usage-limit denials", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let keys: ProxyKeys;
  const limited = (limits: Record<string, unknown>) => limitedKey(kw, c, keys.reader.policyId, limits);

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    keys = await createProxyKeys(kw, c);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const ask = (key: string, headers: Record<string, string> = {}) =>
    fetch(`${kw.url}/api/v1/forward_auth?permission=${READ}`, {
      headers: { "x-keyward-caller": keys.proxy, authorization: `Bearer ${key}`, "x-original-method": "GET", "x-original-uri": "/invoices/7", "x-real-ip": "127.0.0.1", ...headers },
    });

  it("forward auth: over a rate limit is 429 with the code named and a Retry-After after which the key is let through", async () => {
    const key = await limited(oncePerMinute);
    expect((await ask(key)).status).toBe(200);
    const res = await ask(key);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ valid: false, code: "CHECK_CODE_RATE_LIMITED" });
    expect(res.headers.get("x-keyward-code")).toBe("CHECK_CODE_RATE_LIMITED");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(MOST_SECONDS);
    expect(res.headers.get("www-authenticate")).toBeNull();
    // Once Retry-After has passed, the key is let through again.
    kw.clock.advance(retryAfter * 1000);
    expect((await ask(key)).status).toBe(200);
  });

  it("forward auth: out of credits is 429, with Retry-After at the next refill, and none when no refill will come", async () => {
    const refilled = await limited(oneCreditDaily);
    expect((await ask(refilled)).status).toBe(200);
    const res = await ask(refilled);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ valid: false, code: "CHECK_CODE_USAGE_EXCEEDED" });
    expect(res.headers.get("x-keyward-code")).toBe("CHECK_CODE_USAGE_EXCEEDED");
    expectUntilMidnight(res.headers.get("retry-after"), kw);

    const spent = await limited(oneCreditEver);
    expect((await ask(spent)).status).toBe(200);
    const never = await ask(spent);
    expect(never.status).toBe(429);
    expect(never.headers.get("retry-after")).toBeNull();
  });

  it("forward auth: a proxy that passes on only 401 and 403 (nginx) gets limits as 403 when it asks, with the same headers", async () => {
    const key = await limited(oncePerMinute);
    expect((await ask(key, { "x-keyward-limit-status": "403" })).status).toBe(200);
    const res = await ask(key, { "x-keyward-limit-status": "403" });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-keyward-code")).toBe("CHECK_CODE_RATE_LIMITED");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Other denials are unchanged by it, and carry no x-keyward-code.
    const unprivileged = await ask(keys.underPrivileged, { "x-keyward-limit-status": "403" });
    expect(unprivileged.status).toBe(403);
    expect(unprivileged.headers.get("x-keyward-code")).toBeNull();
    // Anything but 403 or 429 is a configuration mistake, refused naming the header.
    const typo = await ask(key, { "x-keyward-limit-status": "430" });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(await typo.json())).toContain("X-Keyward-Limit-Status");
  });

  it("ext_authz: over a rate limit and out of credits are denied with 429 and Retry-After, the call RESOURCE_EXHAUSTED", async () => {
    const envoy = authorizationClient(kw.port);
    try {
      const rateLimited = await limited(oncePerMinute);
      const spent = await limited(oneCreditDaily);
      for (const key of [rateLimited, spent]) expect((await envoyCheck(envoy, keys.proxy, key)).status.code).toBe(0);
      const overLimit = await envoyCheck(envoy, keys.proxy, rateLimited);
      expect(overLimit.status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, message: "CHECK_CODE_RATE_LIMITED" });
      expect(overLimit.denied_response!.status.code).toBe("TooManyRequests");
      const headers = Object.fromEntries(overLimit.denied_response!.headers.map((h) => [h.header.key, h.header.value]));
      expect(Number(headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(Number(headers["retry-after"])).toBeLessThanOrEqual(MOST_SECONDS);
      expect(JSON.parse(overLimit.denied_response!.body)).toEqual({ valid: false, code: "CHECK_CODE_RATE_LIMITED" });

      const outOfCredits = await envoyCheck(envoy, keys.proxy, spent);
      expect(outOfCredits.status).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, message: "CHECK_CODE_USAGE_EXCEEDED" });
      expect(outOfCredits.denied_response!.status.code).toBe("TooManyRequests");
      const creditHeaders = Object.fromEntries(outOfCredits.denied_response!.headers.map((h) => [h.header.key, h.header.value]));
      expectUntilMidnight(creditHeaders["retry-after"], kw);
    } finally {
      envoy.close();
    }
  });
});

describe.each(README_PROXIES)("%s, configured as the README says, in front of a key with usage limits", (_name, start) => {
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

  async function request(key: string) {
    const before = upstream.seen.length;
    const res = await fetch(`${proxy.url}/invoices/7`, { headers: { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    return { status: res.status, headers: res.headers, reached: upstream.seen.length > before };
  }

  it("answers 429 with Retry-After past a rate limit and once credits are spent; neither reaches the service", async () => {
    const rateLimited = await limitedKey(kw, c, keys.reader.policyId, oncePerMinute);
    const spent = await limitedKey(kw, c, keys.reader.policyId, oneCreditDaily);
    for (const key of [rateLimited, spent]) expect(await request(key), proxy.output()).toMatchObject({ status: 200, reached: true });

    const overLimit = await request(rateLimited);
    expect(overLimit, proxy.output()).toMatchObject({ status: 429, reached: false });
    expect(Number(overLimit.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(overLimit.headers.get("retry-after"))).toBeLessThanOrEqual(MOST_SECONDS);

    const outOfCredits = await request(spent);
    expect(outOfCredits, proxy.output()).toMatchObject({ status: 429, reached: false });
    expectUntilMidnight(outOfCredits.headers.get("retry-after"), kw);

    // A refusal that is not about limits is still the 403 it was.
    expect(await request(keys.underPrivileged)).toMatchObject({ status: 403, reached: false });
    // After the wait, the service is reached again.
    kw.clock.advance(Number(overLimit.headers.get("retry-after")) * 1000);
    expect(await request(rateLimited)).toMatchObject({ status: 200, reached: true });
  });
});

function envoyCheck(envoy: AuthorizationClient, proxyKey: string, key: string): Promise<CheckResponse> {
  const request = {
    attributes: {
      source: { address: { socket_address: { address: "127.0.0.1", port_value: 51234 } } },
      request: { http: { id: "1", method: "GET", path: "/invoices/7", host: "billing.internal", protocol: "HTTP/1.1", headers: { authorization: `Bearer ${key}` } } },
      context_extensions: { "keyward-permissions": READ },
    },
  };
  return callCheck(envoy, request, proxyKey);
}
