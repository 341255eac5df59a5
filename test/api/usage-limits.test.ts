// Usage limits (issue #20, design §9) as an admin sets them and a service
// meets them: rate limits and credits on create and update of keys and
// policies, the RATE_LIMITED and USAGE_EXCEEDED verdicts with `remaining` and
// `reset_time` over gRPC, Connect and REST, and the refill at its boundary.
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { RefillInterval } from "../../gen/keyward/v1/limits_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, testConfig, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const HOUR = 3_600_000;
// A window that no test run crosses: periods are aligned on the epoch.
const LONG = 31 * DAY;

describe.each(TEST_STORES)("usage limits ($name)", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let caller: { credentials: string };
  let policyId: string;

  beforeAll(async () => {
    const location = await store.create();
    // A lease's pace is judged on the test's clock over a 10 s target (not 100 ms), and leases are
    // held for a minute: a loaded machine can neither slow a hot key below growth nor return its lease.
    const usage = { ...testConfig(location).usage, leaseTargetMs: 10_000, leaseHoldMs: 60_000 };
    kw = await startKeyward(location, { config: { usage } });
    c = grpcClients(kw.port);
    await c.permissions.call(PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.usage.read" }] }, kw.adminKey);
    caller = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    policyId = (await keyWithPermissions(kw, c, ["billing.usage.read"])).policyId;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  const createKey = (init: Record<string, unknown>, on = policyId) =>
    c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("limited"), policyId: on, expireTime: expiresIn(kw, DAY), ...init }, kw.adminKey);

  const check = (key: string, cost?: number) => c.check.call(CheckService.method.checkKey, { key, permissions: ["billing.usage.read"], cost }, caller.credentials);

  it("sets, reads, changes and clears rate limits and credits on keys and policies", async () => {
    const created = await createKey({
      rateLimits: [
        { limit: 10n, period: durationFromMs(1000) },
        { limit: 1000n, period: durationFromMs(HOUR) },
      ],
      credits: { remaining: 500n, refill: { amount: 500n, interval: RefillInterval.MONTH } },
    });
    const id = created.apiKey!.id;
    const got = (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, kw.adminKey)).apiKey!;
    expect(got.rateLimits.map((l) => [l.limit, l.period?.seconds])).toEqual([
      [10n, 1n],
      [1000n, 3600n],
    ]);
    expect(got.credits).toMatchObject({ remaining: 500n, refill: { amount: 500n, interval: RefillInterval.MONTH } });

    // Change the credits, clear the rate limits (named in the mask with no value).
    const updated = await c.keys.call(
      ApiKeyService.method.adminUpdateApiKey,
      { apiKey: { id, credits: { remaining: 7n } }, updateMask: { paths: ["credits", "rate_limits"] } },
      kw.adminKey,
    );
    expect(updated.apiKey!.rateLimits).toEqual([]);
    expect(updated.apiKey!.credits?.remaining).toBe(7n);
    expect(updated.apiKey!.credits?.refill).toBeUndefined();
    const cleared = await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id }, updateMask: { paths: ["credits"] } }, kw.adminKey);
    expect(cleared.apiKey!.credits).toBeUndefined();

    // A policy's limits, set on create and changed on update.
    const { policy } = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: uniqueName("limited-policy"), permissions: ["billing.usage.read"], rateLimits: [{ limit: 5n, period: durationFromMs(60_000) }] },
      kw.adminKey,
    );
    expect(policy!.rateLimits.map((l) => l.limit)).toEqual([5n]);
    const changed = await c.policies.call(
      PolicyService.method.adminUpdateApiKeyPolicy,
      { policy: { id: policy!.id, rateLimits: [{ limit: 6n, period: durationFromMs(60_000) }] }, updateMask: { paths: ["rate_limits"] } },
      kw.adminKey,
    );
    expect(changed.policy!.rateLimits.map((l) => l.limit)).toEqual([6n]);
  });

  it("refuses bad limits with INVALID_ARGUMENT naming the field, and creates nothing", async () => {
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ rateLimits: [{ limit: 0n, period: durationFromMs(1000) }] }, /rate_limits\[0\]\.limit/],
      [{ rateLimits: [{ limit: 5n, period: durationFromMs(500) }] }, /rate_limits\[0\]\.period/],
      [{ rateLimits: [{ limit: 5n }] }, /rate_limits\[0\]\.period/],
      [{ rateLimits: [{ limit: 5n, period: durationFromMs(1000) }, { limit: 9n, period: durationFromMs(1000) }] }, /rate_limits\[1\]\.period/],
      [{ credits: { remaining: -1n } }, /credits\.remaining/],
      [{ credits: { remaining: 1n, refill: { amount: 5n } } }, /credits\.refill\.interval/],
      [{ credits: { remaining: 1n, refill: { amount: 0n, interval: RefillInterval.DAY } } }, /credits\.refill\.amount/],
    ];
    for (const [init, field] of refusals) {
      const name = uniqueName("refused");
      const error = await createKey({ ...init, name }).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      expect(error?.code, JSON.stringify(init, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(field);
      const listed = await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey);
      expect(listed.apiKeys.some((k) => k.name === name)).toBe(false);
    }
  });

  it("answers RATE_LIMITED past a key's limit, with remaining and reset_time, over gRPC, Connect and REST", async () => {
    const { credentials } = await createKey({ rateLimits: [{ limit: 3n, period: durationFromMs(LONG) }] });
    const first = await check(credentials);
    expect(first).toMatchObject({ valid: true, code: CheckCode.VALID, remaining: 2n });
    const windowEnd = Math.ceil(Date.now() / LONG) * LONG;
    expect(timestampDate(first.resetTime!).getTime()).toBe(windowEnd);
    expect((await check(credentials)).remaining).toBe(1n);
    expect((await check(credentials)).remaining).toBe(0n);
    const limited = await check(credentials);
    expect(limited).toMatchObject({ valid: false, code: CheckCode.RATE_LIMITED, remaining: 0n, apiKeyName: "" });
    expect(timestampDate(limited.resetTime!).getTime()).toBeGreaterThanOrEqual(windowEnd);

    const body = { key: credentials, permissions: ["billing.usage.read"] };
    const connect = await connectJson(kw.url, CheckService.method.checkKey, body, { authorization: `Bearer ${caller.credentials}` });
    expect(connect).toMatchObject({ status: 200, body: { code: "CHECK_CODE_RATE_LIMITED", remaining: "0", resetTime: expect.any(String) } });
    const rest = await fetch(`${kw.url}/api/v1/api_keys:check`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${caller.credentials}` },
      body: JSON.stringify(body),
    });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ code: "CHECK_CODE_RATE_LIMITED", remaining: "0", resetTime: expect.any(String) });
  });

  it("takes a policy's rate limits for a key without its own, and a key's own over its policy's", async () => {
    const { policy } = await c.policies.call(
      PolicyService.method.adminCreateApiKeyPolicy,
      { name: uniqueName("policy-limit"), permissions: ["billing.usage.read"], rateLimits: [{ limit: 1n, period: durationFromMs(LONG) }] },
      kw.adminKey,
    );
    const inherits = await createKey({}, policy!.id);
    const own = await createKey({ rateLimits: [{ limit: 2n, period: durationFromMs(LONG) }] }, policy!.id);
    expect((await check(inherits.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(inherits.credentials)).code).toBe(CheckCode.RATE_LIMITED);
    expect((await check(own.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(own.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(own.credentials)).code).toBe(CheckCode.RATE_LIMITED);
  });

  it("spends credits by cost and answers USAGE_EXCEEDED at zero, over gRPC, Connect and REST", async () => {
    const created = await createKey({ credits: { remaining: 5n } });
    const { credentials } = created;
    expect(await check(credentials)).toMatchObject({ code: CheckCode.VALID, remaining: 4n });
    expect(await check(credentials, 3)).toMatchObject({ code: CheckCode.VALID, remaining: 1n });
    // Cost 0 reads without spending.
    expect(await check(credentials, 0)).toMatchObject({ code: CheckCode.VALID, remaining: 1n });
    // More than is left: refused, and nothing spent.
    expect(await check(credentials, 2)).toMatchObject({ code: CheckCode.USAGE_EXCEEDED, valid: false, remaining: 1n });
    expect(await check(credentials)).toMatchObject({ code: CheckCode.VALID, remaining: 0n });
    const exceeded = await check(credentials);
    expect(exceeded).toMatchObject({ code: CheckCode.USAGE_EXCEEDED, remaining: 0n });
    // No refill: nothing to wait for.
    expect(exceeded.resetTime).toBeUndefined();

    const body = { key: credentials, permissions: ["billing.usage.read"] };
    const connect = await connectJson(kw.url, CheckService.method.checkKey, body, { authorization: `Bearer ${caller.credentials}` });
    expect(connect).toMatchObject({ status: 200, body: { code: "CHECK_CODE_USAGE_EXCEEDED", remaining: "0" } });
    const rest = await fetch(`${kw.url}/api/v1/api_keys:check`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${caller.credentials}` },
      body: JSON.stringify({ ...body, cost: 0 }),
    });
    expect(await rest.json()).toMatchObject({ code: "CHECK_CODE_USAGE_EXCEEDED", remaining: "0" });
    // The admin reads what is left.
    const read = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: created.apiKey!.id }, kw.adminKey);
    expect(read.apiKey!.credits!.remaining).toBe(0n);
  });

  it("grows a hot key's lease toward KEYWARD_CREDIT_LEASE_MAX and keeps a slow key's at KEYWARD_CREDIT_LEASE", async () => {
    // What this replica holds in leases is what the checks did not spend and the pool (read by an admin) lacks.
    const held = async (id: string, credits: number, spent: number) => {
      const read = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, kw.adminKey);
      return credits - spent - Number(read.apiKey!.credits!.remaining);
    };
    const credits = 100_000;
    const hot = await createKey({ credits: { remaining: BigInt(credits) } });
    let spent = 0;
    for (let wave = 0; wave < 20; wave++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => check(hot.credentials)));
      spent += answers.filter((a) => a.code === CheckCode.VALID).length;
    }
    expect(spent).toBe(1_000);
    // The base lease is 10 and is topped up at half spent, so a replica at the base holds at most 15.
    const hotHeld = await held(hot.apiKey!.id, credits, spent);
    expect(hotHeld).toBeGreaterThan(15);
    expect(hotHeld).toBeLessThanOrEqual(300); // one and a half leases of the ceiling (200)

    const slow = await createKey({ credits: { remaining: BigInt(credits) } });
    for (let i = 0; i < 12; i++) {
      expect((await check(slow.credentials)).code).toBe(CheckCode.VALID);
      kw.clock.advance(5_000); // one check per 5 s: a 10-credit lease lasts 50 s, past the 10 s target
    }
    expect(await held(slow.apiKey!.id, credits, 12)).toBeLessThanOrEqual(15);
  });

  it("gives credits back to an admin who sets them again, at once", async () => {
    const created = await createKey({ credits: { remaining: 1n } });
    expect((await check(created.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(created.credentials)).code).toBe(CheckCode.USAGE_EXCEEDED);
    await c.keys.call(
      ApiKeyService.method.adminUpdateApiKey,
      { apiKey: { id: created.apiKey!.id, credits: { remaining: 2n } }, updateMask: { paths: ["credits"] } },
      kw.adminKey,
    );
    expect(await check(created.credentials)).toMatchObject({ code: CheckCode.VALID, remaining: 1n });
  });

  it("refills credits at the period boundary (UTC midnight for a daily refill)", async () => {
    const created = await createKey({ credits: { remaining: 2n, refill: { amount: 3n, interval: RefillInterval.DAY } } });
    const first = await check(created.credentials);
    const midnight = Math.ceil((kw.clock.now().getTime() + 1) / DAY) * DAY;
    expect(first).toMatchObject({ code: CheckCode.VALID, remaining: 1n });
    expect(timestampDate(first.resetTime!).getTime()).toBe(midnight);
    expect((await check(created.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(created.credentials)).code).toBe(CheckCode.USAGE_EXCEEDED);
    // Just before midnight: still none.
    kw.clock.advance(midnight - kw.clock.now().getTime() - 1_000);
    expect((await check(created.credentials)).code).toBe(CheckCode.USAGE_EXCEEDED);
    kw.clock.advance(2_000);
    expect(await check(created.credentials)).toMatchObject({ code: CheckCode.VALID, remaining: 2n });
    expect(timestampDate((await check(created.credentials)).resetTime!).getTime()).toBe(midnight + DAY);
    expect((await check(created.credentials)).code).toBe(CheckCode.VALID);
    expect((await check(created.credentials)).code).toBe(CheckCode.USAGE_EXCEEDED);
  });

  it("lets a rate-limited admin key give keys only limits at least as tight, and limits its own calls", async () => {
    const admins = await keyWithPermissions(kw, c, ["keyward.api_keys.write", "keyward.api_keys.read", "billing.*"]);
    const limitedAdmin = (
      await c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: uniqueName("limited-admin"), policyId: admins.policyId, expireTime: expiresIn(kw, DAY), rateLimits: [{ limit: 100n, period: durationFromMs(1000) }] },
        kw.adminKey,
      )
    ).credentials;
    const attempt = (init: Record<string, unknown>) =>
      c.keys
        .call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("minted"), policyId, expireTime: expiresIn(kw, DAY), ...init }, limitedAdmin)
        .then(
          () => "created",
          (e: { code: number; details: string }) => `${e.code}: ${e.details}`,
        );
    // Unlimited, or limited more loosely: it would escape its own limit.
    expect(await attempt({})).toMatch(new RegExp(`^${status.PERMISSION_DENIED}: rate_limits: your own key is limited`));
    expect(await attempt({ rateLimits: [{ limit: 200n, period: durationFromMs(1000) }] })).toMatch(/^7: rate_limits/);
    // As tight: 50 a minute allows fewer than 100 in any second.
    expect(await attempt({ rateLimits: [{ limit: 50n, period: durationFromMs(60_000) }] })).toBe("created");

    const tiny = (
      await c.keys.call(
        ApiKeyService.method.adminCreateApiKey,
        { name: uniqueName("tiny-admin"), policyId: admins.policyId, expireTime: expiresIn(kw, DAY), rateLimits: [{ limit: 2n, period: durationFromMs(LONG) }] },
        kw.adminKey,
      )
    ).credentials;
    const list = () =>
      c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1 }, tiny).then(
        () => "ok",
        (e: { code: number }) => e.code,
      );
    expect([await list(), await list(), await list()]).toEqual(["ok", "ok", status.RESOURCE_EXHAUSTED]);
  });

  it("answers a key without limits as before: no remaining, no reset_time", async () => {
    const plain = await createKey({});
    const answer = await check(plain.credentials);
    expect(answer.code).toBe(CheckCode.VALID);
    expect(answer.remaining).toBeUndefined();
    expect(answer.resetTime).toBeUndefined();
  });
});
