// Lifecycle rounds from two replicas on one PostgreSQL (issue #19): both run
// rounds on their own timers and, on top, the test runs rounds on both at the
// same moment, yet each key's `api_key.expiring` and `api_key.expired` is one
// event, one webhook-id, however often it is delivered: a round works under
// pg_try_advisory_xact_lock, and a replica that finds it held does nothing.
// Batches are shrunk to 4 keys, so a backlog takes several transactions, each
// settled before the next. And a held lock really stops a round, and the
// timers alone take over once it is released. PostgreSQL only: PGlite is one
// process's database.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, TestClock, testConfig, type RunningKeyward } from "../support/keyward.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

describe.skipIf(!POSTGRES_URL)("lifecycle rounds across replicas (postgres)", () => {
  let url: string;
  let a: RunningKeyward;
  let b: RunningKeyward;
  let ca: Clients;
  let receiver: WebhookReceiver;
  // One clock for both replicas, as one wall clock serves real ones.
  const clock = new TestClock();

  beforeAll(async () => {
    url = await freshPostgresDatabase();
    const store = { kind: "postgres" as const, url };
    const config = { lifecycle: { ...testConfig(store).lifecycle, intervalMs: 20, batchSize: 4 } };
    a = await startKeyward(store, { config, clock });
    b = await startKeyward(store, { config, clock });
    ca = grpcClients(a.port);
    receiver = await new WebhookReceiver().start();
    const hooks = new GrpcClient(WebhookService, a.port);
    await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes: ["api_key.expiring", "api_key.expired"] }, a.adminKey);
    hooks.close();
  });
  afterAll(async () => {
    ca?.close();
    await a?.close();
    await b?.close();
    await receiver?.close();
  });

  /**
   * The key of each distinct event of this type. Delivery is at least once
   * (Standard Webhooks): a receiver drops a message whose webhook-id it has
   * seen, and so does this. An attempt is resent when its claim runs out
   * before its outcome is recorded, which the test's three-day clock jump
   * can cause; a second event for a key would still show here.
   */
  const idsOf = (type: string) => {
    const seen = new Map<string, string>();
    for (const r of receiver.received) {
      const event = JSON.parse(r.body) as { type: string; data: { apiKey: { id: string } } };
      if (event.type === type) seen.set(String(r.headers["webhook-id"]), event.data.apiKey.id);
    }
    return [...seen.values()];
  };

  it("announces each key's expiry warning and expiry once, whichever replica runs the round", async () => {
    const { policy } = await ca.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("replicated"), permissions: [] }, a.adminKey);
    const n = 18;
    const keys = await Promise.all(
      Array.from({ length: n }, () =>
        ca.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("replicated"), policyId: policy!.id, expireTime: expiresIn(a, 2 * DAY) }, a.adminKey),
      ),
    );
    // Rounds on demand on both replicas at once, beside their timers'.
    const together = () => Promise.all([a.keyward.lifecycle.runOnce(), b.keyward.lifecycle.runOnce(), a.keyward.lifecycle.runOnce(), b.keyward.lifecycle.runOnce()]);
    await together();
    await receiver.waitFor(() => new Set(idsOf("api_key.expiring")).size === n);
    clock.advance(3 * DAY);
    await together();
    await receiver.waitFor(() => new Set(idsOf("api_key.expired")).size === n);
    await together();
    // Give a duplicate time to show up, were there one.
    await new Promise((r) => setTimeout(r, 1_000));
    const ids = keys.map((k) => k.apiKey!.id).sort();
    expect(idsOf("api_key.expiring").sort()).toEqual(ids);
    expect(idsOf("api_key.expired").sort()).toEqual(ids);
  });

  it("does nothing while another session holds the round's lock", async () => {
    const { policy } = await ca.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("locked"), permissions: [] }, a.adminKey);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("begin");
      // The lock id rounds use (storage/repositories/api-keys.ts).
      await holder.query("select pg_advisory_xact_lock($1)", [0x6b776c63]);
      const { apiKey } = await ca.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("locked"), policyId: policy!.id, expireTime: expiresIn(a, DAY) }, a.adminKey);
      expect(await a.keyward.lifecycle.runOnce()).toMatchObject({ busy: true, expiring: 0 });
      expect(idsOf("api_key.expiring")).not.toContain(apiKey!.id);
      await holder.query("rollback");
      // Released: the replicas' own timers announce it, with no round run by the test.
      await receiver.waitFor(() => idsOf("api_key.expiring").includes(apiKey!.id));
    } finally {
      await holder.end();
    }
  });
});
