// Webhooks from two replicas on one PostgreSQL (issue #19): both dispatchers
// poll the same outbox at once, yet every event reaches the receiver exactly
// once per successful attempt — the claim (UPDATE … FOR UPDATE SKIP LOCKED)
// gives each due delivery to one replica — including the retries of attempts
// the receiver refused. PostgreSQL only: PGlite is one process's database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, testConfig, type RunningKeyward } from "../support/keyward.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

describe.skipIf(!POSTGRES_URL)("webhooks across replicas (postgres)", () => {
  let a: RunningKeyward;
  let b: RunningKeyward;
  let ca: Clients;
  let cb: Clients;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    const store = { kind: "postgres" as const, url: await freshPostgresDatabase() };
    // Both poll often, so their claims collide as much as they can.
    const config = { webhooks: { ...testConfig(store).webhooks, pollMs: 20 } };
    a = await startKeyward(store, { config });
    b = await startKeyward(store, { config });
    ca = grpcClients(a.port);
    cb = grpcClients(b.port);
    receiver = await new WebhookReceiver().start();
    // A slow receiver keeps attempts in flight while the other replica polls.
    receiver.delayMs = 30;
    const hooks = new GrpcClient(WebhookService, a.port);
    await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes: ["api_key.created"] }, a.adminKey);
    hooks.close();
  });
  afterAll(async () => {
    ca?.close();
    cb?.close();
    await a?.close();
    await b?.close();
    await receiver?.close();
  });

  it("delivers each event once, retries included, whichever replica made the change", async () => {
    const refused = 6;
    receiver.answerWith(...Array<number>(refused).fill(500));
    const { policy } = await ca.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("replicated"), permissions: [] }, a.adminKey);
    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 === 0 ? ca : cb).keys.call(
          ApiKeyService.method.adminCreateApiKey,
          { name: uniqueName("replicated"), policyId: policy!.id, expireTime: expiresIn(a, DAY) },
          a.adminKey,
        ),
      ),
    );
    await receiver.waitFor((all) => new Set(all.filter((r) => r.status === 200).map((r) => r.headers["webhook-id"])).size === n, 20_000);
    // Give a duplicate time to show up, were there one.
    await new Promise((r) => setTimeout(r, 1_000));
    const delivered = receiver.received.filter((r) => r.status === 200).map((r) => String(r.headers["webhook-id"]));
    expect(delivered).toHaveLength(n);
    expect(new Set(delivered).size).toBe(n);
    // Each refused attempt was retried once, not once per replica.
    expect(receiver.received).toHaveLength(n + refused);
    const keyIds = new Set(receiver.received.map((r) => (JSON.parse(r.body) as { data: { apiKey: { id: string } } }).data.apiKey.id));
    expect(keyIds.size).toBe(n);
  });
});
