// A PostgreSQL outage: Keyward fails closed (UNAVAILABLE), writes nothing
// half-way, reports 503 on /healthz, and recovers by itself when the database
// returns. Runs a cluster of its own, so stopping it disturbs no other suite.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

const postgresInstalled = existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").length > 0;
const env = { ...process.env, KEYWARD_PG_PORT: "54341", KEYWARD_PG_DIR: join(tmpdir(), `keyward-outage-${process.pid}`) };
const cluster = (action: "start" | "stop" | "resume") => execFileSync("bash", ["scripts/throwaway-postgres.sh", action], { env, encoding: "utf8" }).trim();

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await probe();
  }
  return value;
}

describe.skipIf(!postgresInstalled || process.getuid?.() !== 0)("a PostgreSQL outage", () => {
  let kw: RunningKeyward;
  let c: Clients;

  beforeAll(async () => {
    const url = cluster("start");
    kw = await startKeyward({ kind: "postgres", url });
    c = grpcClients(kw.port);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
    cluster("stop");
  });

  it("fails closed, writes nothing, reports 503, and recovers without a restart", async () => {
    const admin = kw.adminKey;
    const { policies } = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    const policyId = policies[0]!.id;
    const known = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "known", policyId, expireTime: expiresIn(kw, DAY) }, admin);
    const never = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "never-checked", policyId, expireTime: expiresIn(kw, DAY) }, admin);
    const retired = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: "retired", policyId, expireTime: expiresIn(kw, DAY) }, admin);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.apiKey!.id }, admin);
    expect((await c.check.call(CheckService.method.checkKey, { key: known.credentials }, admin)).code).toBe(CheckCode.VALID);

    cluster("stop");

    const healthz = await eventually(async () => (await fetch(`${kw.url}/healthz`)).status, (s) => s === 503);
    expect(healthz).toBe(503);
    expect((await fetch(`${kw.url}/readyz`)).status).toBe(503);
    // Not ready, but alive: an orchestrator must not restart every replica because the database is down.
    expect((await fetch(`${kw.url}/livez`)).status).toBe(200);
    // Unverified keys (and the caller's own, whose cache went with the feed): UNAVAILABLE, never VALID.
    for (const key of [never.credentials, retired.credentials]) {
      await expect(c.check.call(CheckService.method.checkKey, { key }, admin)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    }
    // An admin write fails with UNAVAILABLE.
    await expect(
      c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "during-outage", permissions: ["keyward.keys.check"] }, admin),
    ).rejects.toMatchObject({ code: status.UNAVAILABLE });
    const rest = await fetch(`${kw.url}/api/v1/api_keys/policies`, { headers: { authorization: `Bearer ${admin}` } });
    expect(rest.status).toBe(503);

    cluster("resume");

    const back = await eventually(async () => (await fetch(`${kw.url}/healthz`)).status, (s) => s === 200);
    expect(back).toBe(200);
    const verdict = await eventually(
      async () => (await c.check.call(CheckService.method.checkKey, { key: never.credentials }, admin).catch(() => undefined))?.code,
      (code) => code === CheckCode.VALID,
    );
    expect(verdict).toBe(CheckCode.VALID);
    expect((await c.check.call(CheckService.method.checkKey, { key: retired.credentials }, admin)).code).toBe(CheckCode.RETIRED);
    // Nothing of the refused write exists; writes work again; the feed is back.
    const after = await c.policies.call(PolicyService.method.adminGetApiKeyPolicies, {}, admin);
    expect(after.policies.map((p) => p.name)).not.toContain("during-outage");
    await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("after-outage"), permissions: ["keyward.keys.check"] }, admin);
    const feed = await eventually(
      async () => (await (await fetch(`${kw.url}/metrics`)).text()).includes("keyward_change_feed_up 1"),
      (up) => up,
    );
    expect(feed).toBe(true);
  });
});
