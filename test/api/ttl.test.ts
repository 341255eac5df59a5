// A relative lifetime on key creation (`ttl`, issue #23): exactly one of
// expire_time and ttl; a ttl becomes "now + ttl" and meets KEYWARD_MAX_KEY_TTL
// exactly as an expire_time does. Over grpc-js and REST, on every test store.
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const MAX_TTL_DAYS = 30;

describe.each(TEST_STORES)("key lifetime as a ttl on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let policyId: string;

  const rest = async (body: unknown) => {
    const res = await fetch(`${kw.url}/api/v1/api_keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${kw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const keyCount = async () => (await c.keys.call(ApiKeyService.method.adminListApiKeys, { pageSize: 1000 }, kw.adminKey)).apiKeys.length;

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { config: { maxKeyTtlMs: MAX_TTL_DAYS * DAY } });
    c = grpcClients(kw.port);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "ttl", permissions: ["keyward.keys.check"] }, kw.adminKey);
    policyId = policy!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("sets the expiry to now + ttl over grpc-js", async () => {
    const before = kw.clock.now().getTime();
    const { apiKey } = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("k"), policyId, ttl: { seconds: 3600n } }, kw.adminKey);
    const expiry = Number(apiKey!.expireTime!.seconds) * 1000;
    expect(expiry).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expiry).toBeLessThanOrEqual(kw.clock.now().getTime() + 3600_000);
  });

  it('takes "ttl": "2592000s" over REST, as the curl walkthrough does', async () => {
    const before = kw.clock.now().getTime();
    const created = await rest({ name: uniqueName("k"), policyId, ttl: `${MAX_TTL_DAYS * 86_400}s` });
    expect(created.status).toBe(200);
    const expiry = Date.parse(created.body.apiKey.expireTime);
    expect(expiry).toBeGreaterThanOrEqual(before - 1000 + MAX_TTL_DAYS * DAY);
    expect(expiry).toBeLessThanOrEqual(kw.clock.now().getTime() + MAX_TTL_DAYS * DAY);
    expect(created.body.credentials).toMatch(/^kw_/);
  });

  it("refuses a ttl past KEYWARD_MAX_KEY_TTL with the same rule as an expire_time, and creates nothing", async () => {
    const count = await keyCount();
    const tooLong = { seconds: BigInt((MAX_TTL_DAYS * DAY) / 1000 + 60) };
    await expect(c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("k"), policyId, ttl: tooLong }, kw.adminKey)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: `ttl: must be at most ${MAX_TTL_DAYS} days from now (KEYWARD_MAX_KEY_TTL)`,
    });
    await expect(
      c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("k"), policyId, expireTime: expiresIn(kw, MAX_TTL_DAYS * DAY + 60_000) }, kw.adminKey),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: `expire_time: must be at most ${MAX_TTL_DAYS} days from now (KEYWARD_MAX_KEY_TTL)` });
    expect(await rest({ name: uniqueName("k"), policyId, ttl: `${(MAX_TTL_DAYS + 1) * 86_400}s` })).toEqual({
      status: 400,
      body: { code: 3, message: `ttl: must be at most ${MAX_TTL_DAYS} days from now (KEYWARD_MAX_KEY_TTL)`, details: [] },
    });
    expect(await keyCount()).toBe(count);
  });

  it.each([
    ["neither expire_time nor ttl", {}, "expire_time: is required (or ttl, a lifetime such as '2592000s')"],
    ["both expire_time and ttl", { expireTime: "EXPIRY", ttl: "60s" }, "expire_time, ttl: give one of them, not both"],
    ["a zero ttl", { ttl: "0s" }, "ttl: must be greater than 0s"],
    ["a negative ttl", { ttl: "-60s" }, "ttl: must be greater than 0s"],
    ["a ttl under a millisecond", { ttl: "0.000000001s" }, "ttl: must be a positive duration"],
  ])("refuses %s with INVALID_ARGUMENT over REST and grpc-js, creating nothing", async (_what, lifetime, message) => {
    const count = await keyCount();
    const body: Record<string, unknown> = { name: uniqueName("k"), policyId, ...lifetime };
    if (body.expireTime === "EXPIRY") body.expireTime = new Date(kw.clock.now().getTime() + DAY).toISOString();
    const answer = await rest(body);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain(message);
    const seconds = (s: string) => ({ seconds: BigInt(Math.trunc(Number(s.slice(0, -1)))), nanos: Math.round((Number(s.slice(0, -1)) % 1) * 1e9) });
    const grpcInput = {
      name: body.name as string,
      policyId,
      expireTime: "expireTime" in body ? expiresIn(kw, DAY) : undefined,
      ttl: "ttl" in body && typeof body.ttl === "string" ? seconds(body.ttl) : undefined,
    };
    await expect(c.keys.call(ApiKeyService.method.adminCreateApiKey, grpcInput, kw.adminKey)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining(message),
    });
    expect(await keyCount()).toBe(count);
  });
});
