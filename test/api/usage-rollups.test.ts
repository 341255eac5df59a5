// Usage per key (issue #23): checks counted per hour, key and verdict code in
// memory, added to the store once per flush interval, read back through
// AdminGetApiKeyUsage over grpc-js and REST, moved to the next bucket when the
// clock passes the hour, pruned after the retention, on every test store.
import { status } from "@grpc/grpc-js";
import { vi, afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { newCredentials } from "../../src/domain/key-format.js";
import { UsageRollups } from "../../src/domain/usage-rollups.js";
import { metricValue } from "../support/metrics.js";
import { connectJson } from "../../harness/clients.js";
import { DAY, grpcClients, keyWithPermissions, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const HOUR = 3_600_000;
/** The test config's KEYWARD_LAST_USE_FLUSH is 200 ms: counts must show within a few of those. */
const WITHIN_FLUSH = { timeout: 1_500, interval: 50 };

describe.each(TEST_STORES)("usage rollups on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let caller: { id: string; credentials: string };
  let target: { id: string; credentials: string };
  let firstHour: number;

  const hourOf = (ms: number) => ms - (ms % HOUR);
  const check = (key: string, permissions = ["keyward.keys.check"]) =>
    c.check.call(CheckService.method.checkKey, { key, permissions }, caller.credentials);
  const restCheck = async (key: string) => {
    const res = await fetch(`${kw.url}/api/v1/api_keys:check`, {
      method: "POST",
      headers: { authorization: `Bearer ${caller.credentials}`, "content-type": "application/json" },
      body: JSON.stringify({ key, permissions: ["keyward.keys.check"] }),
    });
    expect(res.status).toBe(200);
  };
  /** Buckets over grpc-js, as {hour ms: {code: count}}. */
  const usage = async (id: string, range: { start?: number; end?: number } = {}) => {
    const answer = await c.keys.call(
      ApiKeyService.method.adminGetApiKeyUsage,
      {
        id,
        startTime: range.start === undefined ? undefined : { seconds: BigInt(Math.floor(range.start / 1000)) },
        endTime: range.end === undefined ? undefined : { seconds: BigInt(Math.floor(range.end / 1000)) },
      },
      kw.adminKey,
    );
    return Object.fromEntries(
      answer.buckets.map((b) => [Number(b.hour!.seconds) * 1000, Object.fromEntries(Object.entries(b.counts).map(([k, v]) => [k, Number(v)]))]),
    );
  };
  /** A Timestamp in proto JSON, as REST writes it (no fraction when there is none). */
  const jsonTime = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  const rest = async (path: string) => {
    const res = await fetch(`${kw.url}/api/v1${path}`, { headers: { authorization: `Bearer ${kw.adminKey}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    // A minute past an hour, so no check below straddles two hours by accident.
    const now = kw.clock.now().getTime();
    kw.clock.advance(HOUR - (now % HOUR) + 60_000);
    firstHour = hourOf(kw.clock.now().getTime());
    c = grpcClients(kw.port);
    caller = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    target = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("counts each check once, by key and verdict, in the current hour, within the flush interval", async () => {
    for (let i = 0; i < 5; i++) expect((await check(target.credentials)).valid).toBe(true);
    for (let i = 0; i < 2; i++) await restCheck(target.credentials);
    for (let i = 0; i < 3; i++) expect((await check(target.credentials, ["keyward.api_keys.write"])).valid).toBe(false);
    // Forged: well-formed, unknown id (NOT_FOUND); and not a key at all (MALFORMED). Neither names a key.
    for (let i = 0; i < 2; i++) await check(newCredentials("kw").credentials);
    await check("not-a-key");

    await vi.waitFor(async () => expect(await usage(target.id)).toEqual({ [firstHour]: { VALID: 7, PERMISSION_DENIED: 3 } }), WITHIN_FLUSH);
    // The deployment: every key's checks and the keyless ones; the caller's own authentication is no check.
    // (The keyless checks may reach the store a flush later than the key's: wait for them too.)
    await vi.waitFor(async () => {
      const all = await rest("/usage");
      expect(all.status).toBe(200);
      expect(all.body.buckets).toEqual([{ hour: jsonTime(firstHour), counts: { VALID: "7", PERMISSION_DENIED: "3", NOT_FOUND: "2", MALFORMED: "1" } }]);
    }, WITHIN_FLUSH);
    const one = await rest(`/api_keys/${target.id}/usage`);
    expect(one.body.buckets).toEqual([{ hour: jsonTime(firstHour), counts: { VALID: "7", PERMISSION_DENIED: "3" } }]);
    // The Connect protocol (JSON over HTTP/1.1) answers the same.
    const connect = await connectJson(kw.url, ApiKeyService.method.adminGetApiKeyUsage, { id: target.id }, { authorization: `Bearer ${kw.adminKey}` });
    expect(connect.body).toEqual({ buckets: [{ hour: jsonTime(firstHour), counts: { VALID: "7", PERMISSION_DENIED: "3" } }] });
    // Another key's history holds none of it.
    expect(await usage(caller.id)).toEqual({});
  });

  it("adds later checks to the hour's row, and puts checks an hour later in the next bucket", async () => {
    await check(target.credentials);
    await vi.waitFor(async () => expect((await usage(target.id))[firstHour]).toEqual({ VALID: 8, PERMISSION_DENIED: 3 }), WITHIN_FLUSH);
    kw.clock.advance(HOUR);
    await check(target.credentials);
    await check(target.credentials);
    await vi.waitFor(
      async () => expect(await usage(target.id)).toEqual({ [firstHour]: { VALID: 8, PERMISSION_DENIED: 3 }, [firstHour + HOUR]: { VALID: 2 } }),
      WITHIN_FLUSH,
    );
    // A range reads whole hours: from inside the first hour to before the second.
    expect(await usage(target.id, { start: firstHour + 30 * 60_000, end: firstHour + HOUR })).toEqual({ [firstHour]: { VALID: 8, PERMISSION_DENIED: 3 } });
  });

  it("counts exactly under load: 2,000 concurrent checks of a fresh key over 8 connections, spanning several flushes", async () => {
    const busy = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    const clients = Array.from({ length: 8 }, () => grpcClients(kw.port));
    try {
      const answers = await Promise.all(
        Array.from({ length: 2_000 }, (_, i) =>
          clients[i % 8]!.check.call(CheckService.method.checkKey, { key: busy.credentials, permissions: i % 4 === 0 ? ["keyward.api_keys.write"] : [] }, caller.credentials),
        ),
      );
      const valid = answers.filter((a) => a.valid).length;
      expect(valid).toBe(1_500);
      const hour = hourOf(kw.clock.now().getTime());
      await vi.waitFor(async () => expect(await usage(busy.id)).toEqual({ [hour]: { VALID: 1_500, PERMISSION_DENIED: 500 } }), WITHIN_FLUSH);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("refuses a bad range with INVALID_ARGUMENT (400), an unknown key with NOT_FOUND, and a key without keyward.api_keys.read", async () => {
    const now = kw.clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    const tooLong = await rest(`/api_keys/${target.id}/usage?startTime=${iso(now - 91 * DAY)}&endTime=${iso(now)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toMatch(/end_time.*90 days/);
    const backwards = await rest(`/usage?startTime=${iso(now)}&endTime=${iso(now - HOUR)}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toMatch(/start_time/);
    expect((await rest(`/usage?startTime=yesterday`)).status).toBe(400);
    await expect(usage(target.id, { start: now - 100 * DAY, end: now })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((await rest(`/api_keys/${newCredentials("kw").id}/usage`)).status).toBe(404);
    await expect(c.keys.call(ApiKeyService.method.adminGetApiKeyUsage, {}, caller.credentials)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("prunes hours older than the retention (30 days here), at most hourly", async () => {
    const oldRange = { start: firstHour, end: firstHour + 2 * HOUR };
    expect(Object.keys(await usage(target.id, oldRange))).toHaveLength(2);
    kw.clock.advance(31 * DAY);
    // The caller's key has expired too: a new one checks.
    caller = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    // The key has expired by now: its checks still count, as EXPIRED.
    expect((await check(target.credentials)).valid).toBe(false);
    await vi.waitFor(async () => expect(await usage(target.id)).toEqual({ [hourOf(kw.clock.now().getTime())]: { EXPIRED: 1 } }), WITHIN_FLUSH);
    await vi.waitFor(async () => expect(await usage(target.id, oldRange)).toEqual({}), WITHIN_FLUSH);
    const all = await rest(`/usage?startTime=${new Date(oldRange.start).toISOString()}&endTime=${new Date(oldRange.end).toISOString()}`);
    expect(all.body.buckets ?? []).toEqual([]);
  });

  it("bounds memory: past maxEntries keys between two flushes, checks are dropped and counted, never queued", async () => {
    expect(await metricValue(kw.url, "keyward_usage_rollup_dropped_total")).toBe(0);
    const errors: unknown[] = [];
    const rollups = new UsageRollups(kw.keyward.store, { retentionMs: 30 * DAY, maxEntries: 2 }, kw.clock.now, (e) => errors.push(e));
    for (const keyId of ["bound-a", "bound-b", "bound-c", "bound-a", "bound-c"]) rollups.record({ code: "RETIRED", keyId }, kw.clock.now());
    expect(rollups.dropped).toBe(2);
    await rollups.flush();
    expect(errors).toEqual([]);
    const hour = new Date(hourOf(kw.clock.now().getTime()));
    const read = (id: string) => kw.keyward.store.usageRollups.read(id, hour, new Date(hour.getTime() + HOUR));
    expect(await read("bound-a")).toEqual([{ hour, apiKeyId: "bound-a", code: "RETIRED", count: 2 }]);
    expect(await read("bound-b")).toEqual([{ hour, apiKeyId: "bound-b", code: "RETIRED", count: 1 }]);
    expect(await read("bound-c")).toEqual([]);
  });
});
