// Signed webhooks (issue #19, design §8): endpoints managed over grpc-js and
// REST; a real receiver gets Standard Webhooks events for key and policy
// changes, whose signatures the reference `standardwebhooks` library accepts;
// no secret or hash ever travels in a body; a failing receiver gets retries
// and the delivery log shows them; event-type filters hold; a rolled-back
// change sends nothing; on every test store. And the SSRF guard: with
// KEYWARD_WEBHOOK_ALLOW_PRIVATE=false no endpoint on an internal address is
// accepted, nothing is sent to one whatever DNS says at send time, and no
// redirect is followed.
import * as grpc from "@grpc/grpc-js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookDeliveryState, WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, keyOnPolicy, keyWithPermissions, restCall, uniqueName, type Clients } from "../support/fixtures.js";
import type { Config } from "../../src/config.js";
import { LogCapture, startKeyward, testConfig, type RunningKeyward } from "../support/keyward.js";
import { webhookSender } from "../../src/transport/webhook-sender.js";
import { TEST_STORES } from "../support/stores.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

describe.each(TEST_STORES)("webhooks on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let hooks: GrpcClient<typeof WebhookService>;
  let audit: GrpcClient<typeof AuditService>;
  let receiver: WebhookReceiver;
  let secret: string;
  let endpointId: string;
  let policyId: string;
  const logs = new LogCapture();

  const rest = (method: string, path: string, body?: unknown, key?: string) => restCall(kw, method, path, body, key);

  const createKey = (name = uniqueName("hooked")) =>
    keyOnPolicy(kw, c, policyId, name);

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), { logger: logs.logger("trace") });
    c = grpcClients(kw.port);
    hooks = new GrpcClient(WebhookService, kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    receiver = await new WebhookReceiver().start();
    policyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("hooked"), permissions: ["keyward.audit.read"] }, kw.adminKey)).policy!.id;
    const created = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url }, kw.adminKey);
    secret = created.secret;
    endpointId = created.webhookEndpoint!.id;
  });
  afterAll(async () => {
    c?.close();
    hooks?.close();
    audit?.close();
    await kw?.close();
    await receiver?.close();
  });

  it("creates an endpoint over grpc-js with a whsec_ secret shown once: never listed, never audited", async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const bytes = Buffer.from(secret.slice("whsec_".length), "base64");
    expect(bytes.length).toBeGreaterThanOrEqual(24);
    expect(bytes.length).toBeLessThanOrEqual(32);
    const { webhookEndpoints } = await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey);
    expect(webhookEndpoints.find((e) => e.id === endpointId)).toMatchObject({ url: receiver.url, eventTypes: [] });
    expect(JSON.stringify(await rest("GET", "/webhook_endpoints"))).not.toContain(secret.slice(6));
    const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `webhook_endpoints/${endpointId}` }, kw.adminKey);
    expect(auditEvents.map((e) => e.action)).toEqual(["AdminCreateWebhookEndpoint"]);
    expect(auditEvents[0]!.changedFields).toEqual(["url", "event_types"]);
  });

  it("creates, lists and deletes endpoints over REST", async () => {
    const created = await rest("POST", "/webhook_endpoints", { url: `${receiver.url}?via=rest`, eventTypes: ["policy.deleted"] });
    expect(created.status).toBe(200);
    expect(created.body.secret).toMatch(/^whsec_/);
    const endpoint = created.body.webhookEndpoint as { id: string; url: string; eventTypes: string[] };
    expect(endpoint).toMatchObject({ url: `${receiver.url}?via=rest`, eventTypes: ["policy.deleted"] });
    const listed = await rest("GET", "/webhook_endpoints");
    expect((listed.body.webhookEndpoints as { id: string }[]).map((e) => e.id)).toContain(endpoint.id);
    expect(await rest("GET", `/webhook_endpoints/${endpoint.id}/deliveries`)).toEqual({ status: 200, body: { webhookDeliveries: [] } });
    expect((await rest("DELETE", `/webhook_endpoints/${endpoint.id}`)).status).toBe(200);
    expect((await rest("DELETE", `/webhook_endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await rest("GET", `/webhook_endpoints/${endpoint.id}/deliveries`)).status).toBe(404);
  });

  it("refuses unknown event types, non-http schemes and callers without keyward.webhooks.*", async () => {
    const bad = await rest("POST", "/webhook_endpoints", { url: receiver.url, eventTypes: ["api_key.exploded"] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('event_types[0]: "api_key.exploded" is not one of api_key.created');
    expect((await rest("POST", "/webhook_endpoints", { url: "ftp://127.0.0.1/x" })).status).toBe(400);
    expect((await rest("POST", "/webhook_endpoints", { url: "http://user:pw@127.0.0.1/x" })).status).toBe(400);
    const reader = await keyWithPermissions(kw, c, ["keyward.webhooks.read"]);
    expect((await rest("GET", "/webhook_endpoints", undefined, reader.credentials)).status).toBe(200);
    expect((await rest("POST", "/webhook_endpoints", { url: receiver.url }, reader.credentials)).status).toBe(403);
    await expect(hooks.call(WebhookService.method.adminDeleteWebhookEndpoint, { id: endpointId }, reader.credentials)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const { webhookEndpoints } = await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey);
    expect(webhookEndpoints.map((e) => e.id)).toContain(endpointId);
  });

  it("sends api_key.created, .rotated, .retired and policy.updated, signed so that standardwebhooks verifies them, with no secret or hash", async () => {
    const { apiKey, credentials } = await c.keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: uniqueName("hooked"), policyId, expireTime: expiresIn(kw, DAY), labels: { team: "payments" } },
      kw.adminKey,
    );
    const id = apiKey!.id;
    const rotated = await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id, overlap: durationFromMs(60_000) }, kw.adminKey);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id }, kw.adminKey);
    await c.policies.call(PolicyService.method.adminUpdateApiKeyPolicy, { policy: { id: policyId, description: "now with hooks" }, updateMask: { paths: ["description"] } }, kw.adminKey);
    const about = (type: string) => receiver.ofType(type).filter((e) => JSON.stringify(e.data).includes(id));
    // A round sends what it claimed at once: the four may arrive in any order.
    const updatedNow = () => receiver.ofType("policy.updated").filter((e) => JSON.stringify(e.data).includes("now with hooks"));
    await receiver.waitFor(() => ["api_key.created", "api_key.rotated", "api_key.retired"].every((type) => about(type).length === 1) && updatedNow().length === 1);

    const verifier = new Webhook(secret);
    for (const r of receiver.received) {
      const event = verifier.verify(r.body, r.headers as Record<string, string>) as { type: string };
      expect(event.type).toBe(JSON.parse(r.body).type);
      expect(r.headers["webhook-id"]).toMatch(/^msg_/);
      expect(r.headers["content-type"]).toBe("application/json");
      // No key's secret, no part of one, and no hash of one.
      for (const secretText of [credentials, rotated.credentials, credentials.split("_")[2]!, secret.slice(6)]) expect(r.body).not.toContain(secretText);
      expect(r.body).not.toMatch(/argon2|secretHash|secret_hash/i);
    }
    // A forged signature is refused by the same library: the check can fail.
    const r = receiver.received[0]!;
    expect(() => new Webhook(Buffer.alloc(32, 1).toString("base64")).verify(r.body, r.headers as Record<string, string>)).toThrow();

    const [created] = about("api_key.created");
    expect(created!.data).toMatchObject({ apiKey: { id, name: apiKey!.name, policyId, state: "active", service: null, labels: { team: "payments" } }, actor: { apiKeyId: kw.keyward.bootstrapKeyId } });
    expect(Date.parse(created!.timestamp)).not.toBeNaN();
    expect(about("api_key.rotated")[0]!.data).toMatchObject({ apiKey: { id }, previousSecretExpireTime: expect.any(String) });
    expect(about("api_key.retired")[0]!.data).toMatchObject({ apiKey: { id, state: "retired" } });
    expect(updatedNow()[0]!.data).toMatchObject({ policy: { id: policyId, description: "now with hooks" }, changedFields: ["description"] });
  });

  it("sends api_key.updated and .deleted, policy.created and .deleted (naming the keys that went with it)", async () => {
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("short-lived"), permissions: [] }, kw.adminKey);
    const { apiKey } = await createKey(uniqueName("moved"));
    const id = apiKey!.id;
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id, policyId: policy!.id }, updateMask: { paths: ["policy_id"] } }, kw.adminKey);
    const { apiKey: doomed } = await createKey(uniqueName("doomed"));
    await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: doomed!.id }, kw.adminKey);
    await c.policies.call(PolicyService.method.adminDeleteApiKeyPolicy, { id: policy!.id }, kw.adminKey);
    const about = (type: string, what: string) => receiver.ofType(type).filter((e) => JSON.stringify(e.data).includes(what));
    // A round sends what it claimed at once: the four may arrive in any order.
    await receiver.waitFor(() => [about("policy.created", policy!.id), about("api_key.updated", id), about("api_key.deleted", doomed!.id), about("policy.deleted", policy!.id)].every((e) => e.length === 1));
    expect(about("policy.created", policy!.id)[0]!.data).toMatchObject({ policy: { id: policy!.id, name: policy!.name, permissions: [] } });
    expect(about("api_key.updated", id)[0]!.data).toMatchObject({ apiKey: { id, policyId: policy!.id }, changedFields: ["policy_id"] });
    expect(about("api_key.deleted", doomed!.id)[0]!.data).toMatchObject({ apiKey: { id: doomed!.id, name: doomed!.name } });
    expect(about("policy.deleted", policy!.id)[0]!.data).toMatchObject({ policy: { id: policy!.id }, deletedApiKeyIds: [id] });
  });

  it("retries a receiver that answers 500, then 200; the delivery log shows both attempts", async () => {
    // A receiver of its own: no delivery still in flight from an earlier test can take its 500.
    const flaky = await new WebhookReceiver().start();
    try {
      flaky.answerWith(500);
      const { webhookEndpoint } = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: flaky.url, eventTypes: ["api_key.created"] }, kw.adminKey);
      const flakyId = webhookEndpoint!.id;
      await createKey();
      await flaky.waitFor((all) => all.length === 2);
      const [first, second] = flaky.received;
      expect([first!.status, second!.status]).toEqual([500, 200]);
      // The same message both times (receivers deduplicate on webhook-id), each attempt signed at its own time.
      expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
      expect(second!.body).toBe(first!.body);
      const deliveryId = first!.headers["webhook-id"];
      let delivery;
      for (let i = 0; i < 50 && delivery?.state !== WebhookDeliveryState.DELIVERED; i++) {
        await new Promise((r) => setTimeout(r, 50));
        [delivery] = (await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id: flakyId }, kw.adminKey)).webhookDeliveries;
      }
      expect(delivery).toMatchObject({ id: deliveryId, eventType: "api_key.created", state: WebhookDeliveryState.DELIVERED, attempts: 2, lastStatusCode: 200, lastError: "" });
      expect(delivery!.deliverTime).toBeDefined();
      const viaRest = await rest("GET", `/webhook_endpoints/${flakyId}/deliveries`);
      expect(viaRest.body.webhookDeliveries).toMatchObject([{ id: deliveryId, attempts: 2, state: "WEBHOOK_DELIVERY_STATE_DELIVERED", lastStatusCode: 200 }]);
    } finally {
      await flaky.close();
    }
  });

  it("gives up after the retry schedule, recording the last error, and sends nothing more", async () => {
    const failing = await new WebhookReceiver().start();
    try {
      failing.answerWith(503, 503, 503, 503, 503);
      const { webhookEndpoint } = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: failing.url, eventTypes: ["policy.created"] }, kw.adminKey);
      await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("doomed"), permissions: [] }, kw.adminKey);
      // The test schedule retries three times: four attempts in all.
      await failing.waitFor((all) => all.length === 4);
      let delivery;
      for (let i = 0; i < 50 && delivery?.state !== WebhookDeliveryState.FAILED; i++) {
        await new Promise((r) => setTimeout(r, 50));
        [delivery] = (await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id: webhookEndpoint!.id }, kw.adminKey)).webhookDeliveries;
      }
      expect(delivery).toMatchObject({ state: WebhookDeliveryState.FAILED, attempts: 4, lastStatusCode: 503, lastError: "the endpoint answered HTTP 503" });
      // Well past the schedule's longest wait (200 ms): a fifth attempt would have come.
      await new Promise((r) => setTimeout(r, 500));
      expect(failing.received).toHaveLength(4);
    } finally {
      await failing.close();
    }
  });

  it("announces a retire by possession as api_key.retired, with the key itself as actor and never the key", async () => {
    const { apiKey, credentials } = await createKey();
    const revoked = await fetch(`${kw.url}/api/v1/api_keys:revoke`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: credentials }) });
    expect(revoked.status).toBe(200);
    const about = () => receiver.ofType("api_key.retired").filter((e) => JSON.stringify(e.data).includes(apiKey!.id));
    await receiver.waitFor(() => about().length === 1);
    expect(about()[0]!.data).toMatchObject({ apiKey: { id: apiKey!.id, state: "retired" }, actor: { apiKeyId: apiKey!.id } });
    const body = receiver.received.find((r) => r.body.includes(`"api_key.retired"`) && r.body.includes(apiKey!.id))!.body;
    expect(body).not.toContain(credentials.split("_")[2]!);
  });

  it("sends an endpoint only the event types it asked for", async () => {
    const picky = await new WebhookReceiver().start();
    try {
      await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: picky.url, eventTypes: ["api_key.retired"] }, kw.adminKey);
      const { apiKey } = await createKey();
      await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: apiKey!.id }, kw.adminKey);
      await picky.waitFor((all) => all.length >= 1);
      // The catch-all endpoint has had the creation by now too; the picky one must not.
      await receiver.waitFor(() => receiver.ofType("api_key.retired").some((e) => JSON.stringify(e.data).includes(apiKey!.id)));
      await new Promise((r) => setTimeout(r, 300));
      expect(picky.received.map((r) => JSON.parse(r.body).type)).toEqual(["api_key.retired"]);
    } finally {
      await picky.close();
    }
  });

  it("sends nothing for a change that rolled back", async () => {
    const before = receiver.received.length;
    const name = uniqueName("taken");
    await createKey(name);
    // The same name again: the insert fails, the transaction rolls back, and its event with it.
    await expect(createKey(name)).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
    await receiver.waitFor((all) => all.slice(before).some((r) => r.body.includes(name)));
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.slice(before).filter((r) => r.body.includes(`"name":"${name}"`))).toHaveLength(1);
  });

  it("sends a full round of deliveries at once without Node warning of a listener leak", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    const before = receiver.received.length;
    receiver.delayMs = 300;
    try {
      // Twenty events, claimed and sent in one round: twenty attempts in flight together.
      const names = Array.from({ length: 20 }, () => uniqueName("burst"));
      await Promise.all(names.map((name) => c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name, permissions: [] }, kw.adminKey)));
      await receiver.waitFor((all) => names.every((name) => all.slice(before).some((r) => r.body.includes(name))));
      await new Promise((r) => setImmediate(r));
    } finally {
      receiver.delayMs = 0;
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it("stops delivering to an endpoint once it is deleted", async () => {
    const gone = await new WebhookReceiver().start();
    try {
      gone.answerWith(500, 500, 500);
      const { webhookEndpoint } = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: gone.url }, kw.adminKey);
      await createKey();
      await gone.waitFor((all) => all.length >= 1);
      await hooks.call(WebhookService.method.adminDeleteWebhookEndpoint, { id: webhookEndpoint!.id }, kw.adminKey);
      const after = gone.received.length;
      // Longer than the rest of the retry schedule (50 + 100 + 200 ms) takes.
      await new Promise((r) => setTimeout(r, 500));
      expect(gone.received.length).toBe(after);
    } finally {
      await gone.close();
    }
  });

  it("never writes an endpoint's secret to a log line, at trace level", () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.text).not.toContain(secret.slice("whsec_".length));
  });
});

describe("the SSRF guard (KEYWARD_WEBHOOK_ALLOW_PRIVATE=false)", () => {
  let kw: RunningKeyward;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    const store = await TEST_STORES[0]!.create();
    kw = await startKeyward(store, { config: { webhooks: { ...testConfig(store).webhooks, allowPrivate: false } } });
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await kw?.close();
    await receiver?.close();
  });

  const create = async (url: string) => {
    const res = await fetch(`${kw.url}/api/v1/webhook_endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${kw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ url }),
    });
    return { status: res.status, body: (await res.json()) as { code: number; message: string } };
  };

  it.each([
    ["http://127.0.0.1:9/hooks", "must be https (http only with KEYWARD_WEBHOOK_ALLOW_PRIVATE=true)"],
    ["http://hooks.example.com/", "must be https"],
    ["ftp://hooks.example.com/", "must be an https URL"],
    ["https://127.0.0.1/hooks", "127.0.0.1 is a loopback, private, link-local or otherwise non-public address"],
    ["https://localhost/hooks", "localhost resolves to"],
    ["https://[::1]/hooks", "::1 is a loopback"],
    ["https://[::ffff:7f00:1]/hooks", "::ffff:7f00:1 is a loopback"],
    ["https://169.254.169.254/latest/meta-data", "169.254.169.254 is a loopback, private, link-local"],
    ["https://10.0.0.1/", "10.0.0.1 is"],
    ["https://192.168.1.10/", "192.168.1.10 is"],
    ["https://[fd00::1]/", "fd00::1 is"],
    ["https://224.0.0.1/", "224.0.0.1 is"],
    ["https://0.0.0.0/", "0.0.0.0 is"],
  ])("refuses to create an endpoint at %s (400 INVALID_ARGUMENT), and stores nothing", async (url, message) => {
    const { status, body } = await create(url);
    expect(status).toBe(400);
    expect(body.code).toBe(3); // INVALID_ARGUMENT, as grpc-gateway writes it
    expect(body.message).toContain(message);
    const list = await fetch(`${kw.url}/api/v1/webhook_endpoints`, { headers: { authorization: `Bearer ${kw.adminKey}` } });
    expect(await list.json()).toEqual({ webhookEndpoints: [] });
  });

  it("refuses at send time too: an address literal, and a name whose DNS answer is loopback, get no request", async () => {
    const send = webhookSender({ allowPrivate: false, timeoutMs: 2_000 });
    const port = new URL(receiver.url).port;
    await expect(send(`https://127.0.0.1:${port}/hooks`, {}, "{}")).rejects.toThrow("127.0.0.1 is not a public address");
    await expect(send(`https://localhost:${port}/hooks`, {}, "{}")).rejects.toThrow(/localhost \((127\.0\.0\.1|::1)\) is not a public address/);
    await expect(send(`https://[::1]:${port}/hooks`, {}, "{}")).rejects.toThrow("::1 is not a public address");
    await expect(send(receiver.url, {}, "{}")).rejects.toThrow();
    expect(receiver.received).toEqual([]);
    // The same sender, with private addresses allowed, does reach it: the refusals above are the guard's.
    await expect(webhookSender({ allowPrivate: true, timeoutMs: 2_000 })(receiver.url, {}, "{}")).resolves.toBe(200);
  });

  it("follows no redirect: a 3xx is the attempt's answer, and where it points gets nothing", async () => {
    const elsewhere = await new WebhookReceiver().start();
    try {
      receiver.redirectTo = elsewhere.url;
      receiver.answerWith(302, 307);
      const send = webhookSender({ allowPrivate: true, timeoutMs: 2_000 });
      await expect(send(receiver.url, {}, "{}")).resolves.toBe(302);
      await expect(send(receiver.url, {}, "{}")).resolves.toBe(307);
      await new Promise((r) => setTimeout(r, 200));
      expect(elsewhere.received).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });
});

/** A Keyward of its own (PGlite) with these webhook settings, a receiver and clients, all closed after `run`. */
async function withOwnKeyward(
  webhooks: Partial<Config["webhooks"]>,
  run: (own: { kw: RunningKeyward; receiver: WebhookReceiver; hooks: GrpcClient<typeof WebhookService>; policies: GrpcClient<typeof PolicyService> }) => Promise<void>,
): Promise<void> {
  const store = await TEST_STORES[0]!.create();
  const kw = await startKeyward(store, { config: { webhooks: { ...testConfig(store).webhooks, ...webhooks } } });
  const receiver = await new WebhookReceiver().start();
  const hooks = new GrpcClient(WebhookService, kw.port);
  const policies = new GrpcClient(PolicyService, kw.port);
  try {
    await run({ kw, receiver, hooks, policies });
  } finally {
    hooks.close();
    policies.close();
    await kw.close();
    await receiver.close();
  }
}

describe("with a poll of a minute (KEYWARD_WEBHOOK_POLL)", () => {
  it("sends a delivery as soon as its change commits, and its retry when due, not at the next poll", () =>
    withOwnKeyward({ pollMs: 60_000 }, async ({ kw, receiver, hooks, policies }) => {
      receiver.answerWith(500);
      await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url }, kw.adminKey);
      await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("announced-at-once"), permissions: [] }, kw.adminKey);
      // The first attempt at once, the retry after the schedule's 50 ms: within seconds, where a poll would take a minute.
      await receiver.waitFor((all) => all.length === 2, 10_000);
      expect(receiver.received.map((r) => r.status)).toEqual([500, 200]);
    }));
});

describe("delivery retention (KEYWARD_WEBHOOK_RETENTION)", () => {
  // A retention this short, checked at every round of a 100 ms poll, prunes
  // within about a second; the default keeps a week.
  it("forgets delivered deliveries once they are older than the retention", () =>
    withOwnKeyward({ retentionMs: 1_000, pollMs: 100 }, async ({ kw, receiver, hooks, policies }) => {
      const { webhookEndpoint } = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url }, kw.adminKey);
      await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("kept-briefly"), permissions: [] }, kw.adminKey);
      await receiver.waitFor((all) => all.length === 1);
      const list = async () => (await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id: webhookEndpoint!.id }, kw.adminKey)).webhookDeliveries;
      expect(await list()).toHaveLength(1);
      const deadline = Date.now() + 5_000;
      while ((await list()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await list()).toEqual([]);
    }));
});

describe("a receiver that does not answer", () => {
  it("times an attempt out after KEYWARD_WEBHOOK_TIMEOUT, and Keyward stops without waiting for one in flight", async () => {
    const store = await TEST_STORES[0]!.create();
    const silent = await new WebhookReceiver().start();
    silent.delayMs = 60_000;
    const start = (timeoutMs: number) => startKeyward(store, { config: { webhooks: { ...testConfig(store).webhooks, timeoutMs, retryScheduleMs: [60_000] } } });
    const kw = await start(300);
    const hooks = new GrpcClient(WebhookService, kw.port);
    const policies = new GrpcClient(PolicyService, kw.port);
    try {
      const { webhookEndpoint } = await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: silent.url }, kw.adminKey);
      await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("unheard"), permissions: [] }, kw.adminKey);
      let delivery;
      for (const deadline = Date.now() + 20_000; !delivery?.lastError && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 50));
        [delivery] = (await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id: webhookEndpoint!.id }, kw.adminKey)).webhookDeliveries;
      }
      expect(delivery).toMatchObject({ state: WebhookDeliveryState.PENDING, attempts: 1, lastStatusCode: 0, lastError: "no answer within 300 ms" });
    } finally {
      hooks.close();
      policies.close();
      await kw.close();
    }
    // Now an attempt that would hang for 30 s: closing cuts it short.
    const patient = await start(30_000);
    const patientPolicies = new GrpcClient(PolicyService, patient.port);
    const patientHooks = new GrpcClient(WebhookService, patient.port);
    try {
      // An in-memory store per start: this one needs its own endpoint.
      await patientHooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: silent.url }, patient.adminKey);
      const before = silent.received.length;
      await patientPolicies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("unheard"), permissions: [] }, patient.adminKey);
      await silent.waitFor((all) => all.length > before);
    } finally {
      patientPolicies.close();
      patientHooks.close();
      const closing = Date.now();
      await patient.close();
      expect(Date.now() - closing).toBeLessThan(15_000);
      await silent.close();
    }
  }, 90_000);
});
