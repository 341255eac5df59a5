// Webhook endpoint upkeep (issue #19): a signing secret rotated with an
// overlap, during which every delivery carries a signature by each secret
// (Standard Webhooks allows several) and after which the old one verifies
// nothing; and an endpoint whose deliveries fail for KEYWARD_WEBHOOK_DISABLE_AFTER
// disabled by Keyward itself (audited, its pending deliveries failed, nothing
// more queued) until an admin enables it. Time moves on the test clock; over
// grpc-js and REST, on every test store.
import * as grpc from "@grpc/grpc-js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookDeliveryState, WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, firstAttemptRecorded, grpcClients, keyOnPolicy, keyWithPermissions, restCall, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, testConfig, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";
import { WebhookReceiver, type ReceivedWebhook } from "../support/webhook-receiver.js";

const HOUR = 3_600_000;

/** The dispatcher's poll in this suite. */
const POLL_MS = 100;

/** Lets `n` polls pass: long enough for the dispatcher's next round to have acted, had it been going to. */
const rounds = (n: number) => new Promise((r) => setTimeout(r, n * POLL_MS));

/**
 * Verifies with the reference library, its clock set to when Keyward signed
 * (the test clock may be days ahead of real time, which `verify` would refuse
 * as a replay): the event, or the library's error.
 */
function verifyAsReceiver(secret: string, r: ReceivedWebhook): unknown {
  const now = vi.spyOn(Date, "now").mockReturnValue(Number(r.headers["webhook-timestamp"]) * 1000);
  try {
    return new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
  } finally {
    now.mockRestore();
  }
}

describe.each(TEST_STORES)("webhook endpoint upkeep on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let hooks: GrpcClient<typeof WebhookService>;
  let audit: GrpcClient<typeof AuditService>;
  let policyId: string;
  const receivers: WebhookReceiver[] = [];

  const rest = (method: string, path: string, body?: unknown, key?: string) => restCall(kw, method, path, body, key);

  /** A change that every endpoint hears about (api_key.created); the new key's id. */
  const announce = async () =>
    (await keyOnPolicy(kw, c, policyId, uniqueName("announced"), 30 * DAY)).apiKey!.id;

  const newReceiver = async () => {
    const receiver = await new WebhookReceiver().start();
    receivers.push(receiver);
    return receiver;
  };

  const subscribe = (receiver: WebhookReceiver) =>
    hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes: ["api_key.created"] }, kw.adminKey);

  const endpoint = async (id: string) => (await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey)).webhookEndpoints.find((e) => e.id === id)!;

  const auditOf = async (id: string) => (await audit.call(AuditService.method.adminListAuditEvents, { target: `webhook_endpoints/${id}` }, kw.adminKey)).auditEvents;

  /** The delivery announcing key `keyId`. */
  const deliveryOf = (receiver: WebhookReceiver, keyId: string) => receiver.received.find((r) => r.body.includes(keyId));

  beforeAll(async () => {
    const location = await store.create();
    // One retry, days away: a failed first attempt stays pending past the disable threshold
    // (and the delivery log keeps it, though the clock moves days). A poll of 100 ms: after
    // the clock moves, the next round (the one that disables or not) is soon.
    kw = await startKeyward(location, {
      config: { webhooks: { ...testConfig(location).webhooks, retryScheduleMs: [20 * DAY], retentionMs: 60 * DAY, pollMs: POLL_MS } },
    });
    c = grpcClients(kw.port);
    hooks = new GrpcClient(WebhookService, kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    policyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("upkeep"), permissions: [] }, kw.adminKey)).policy!.id;
  });
  afterAll(async () => {
    c?.close();
    hooks?.close();
    audit?.close();
    await kw?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("rotates a secret over REST: both signatures during the overlap, only the new one after; audited without the secret", async () => {
    const receiver = await newReceiver();
    const created = await subscribe(receiver);
    const id = created.webhookEndpoint!.id;
    const oldSecret = created.secret;

    const rotated = await rest("POST", `/webhook_endpoints/${id}:rotateSecret`, { overlap: "3600s" });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(newSecret).not.toBe(oldSecret);

    const during = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, during) !== undefined);
    const both = deliveryOf(receiver, during)!;
    expect(String(both.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    // A receiver still on the old secret and one already on the new both accept it.
    expect(verifyAsReceiver(oldSecret, both)).toMatchObject({ type: "api_key.created" });
    expect(verifyAsReceiver(newSecret, both)).toMatchObject({ type: "api_key.created" });

    kw.clock.advance(HOUR + 1_000);
    const after = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, after) !== undefined);
    const one = deliveryOf(receiver, after)!;
    expect(String(one.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verifyAsReceiver(newSecret, one)).toMatchObject({ type: "api_key.created" });
    expect(() => verifyAsReceiver(oldSecret, one)).toThrow();

    const events = await auditOf(id);
    expect(events.map((e) => e.action)).toContain("AdminRotateWebhookEndpointSecret");
    expect(events.find((e) => e.action === "AdminRotateWebhookEndpointSecret")!.changedFields).toEqual(["secret"]);
    for (const secret of [oldSecret, newSecret]) expect(JSON.stringify(await rest("GET", `/audit_events?target=webhook_endpoints/${id}`))).not.toContain(secret.slice(6));
  });

  it("rotates over grpc-js with no overlap: the old secret stops at once", async () => {
    const receiver = await newReceiver();
    const created = await subscribe(receiver);
    const { secret } = await hooks.call(WebhookService.method.adminRotateWebhookEndpointSecret, { id: created.webhookEndpoint!.id }, kw.adminKey);
    const keyId = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, keyId) !== undefined);
    const r = deliveryOf(receiver, keyId)!;
    expect(verifyAsReceiver(secret, r)).toMatchObject({ type: "api_key.created" });
    expect(() => verifyAsReceiver(created.secret, r)).toThrow();
  });

  it("refuses an overlap over 7 days, an unknown endpoint and a caller without keyward.webhooks.write, changing nothing", async () => {
    const receiver = await newReceiver();
    const created = await subscribe(receiver);
    const id = created.webhookEndpoint!.id;
    expect((await rest("POST", `/webhook_endpoints/${id}:rotateSecret`, { overlap: `${7 * 86_400 + 1}s` })).status).toBe(400);
    expect((await rest("POST", `/webhook_endpoints/${id}:rotateSecret`, { overlap: "-1s" })).status).toBe(400);
    await expect(
      hooks.call(WebhookService.method.adminRotateWebhookEndpointSecret, { id, overlap: durationFromMs(8 * DAY) }, kw.adminKey),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect((await rest("POST", `/webhook_endpoints/${"0".repeat(16)}:rotateSecret`, {})).status).toBe(404);
    expect((await rest("POST", `/webhook_endpoints/${"0".repeat(16)}:enable`, {})).status).toBe(404);
    const reader = await keyWithPermissions(kw, c, ["keyward.webhooks.read"]);
    expect((await rest("POST", `/webhook_endpoints/${id}:rotateSecret`, {}, reader.credentials)).status).toBe(403);
    expect((await rest("POST", `/webhook_endpoints/${id}:enable`, {}, reader.credentials)).status).toBe(403);
    // The secret from creation still signs alone.
    const keyId = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, keyId) !== undefined);
    expect(verifyAsReceiver(created.secret, deliveryOf(receiver, keyId)!)).toMatchObject({ type: "api_key.created" });
    // The refusals are audited as such; the only change is the creation.
    expect((await auditOf(id)).filter((e) => e.outcome === "OK").map((e) => e.action)).toEqual(["AdminCreateWebhookEndpoint"]);
    expect((await auditOf(id)).filter((e) => e.outcome !== "OK").map((e) => e.action)).toEqual(
      expect.arrayContaining(["AdminRotateWebhookEndpointSecret", "AdminEnableWebhookEndpoint"]),
    );
  });

  it("disables an endpoint failing for KEYWARD_WEBHOOK_DISABLE_AFTER (audited as Keyward), fails its pending deliveries, and an admin enables it", async () => {
    const receiver = await newReceiver();
    receiver.answerWith(...Array<number>(100).fill(500));
    const created = await subscribe(receiver);
    const id = created.webhookEndpoint!.id;
    const first = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, first) !== undefined);
    await firstAttemptRecorded(hooks, id, kw.adminKey);

    // Failing, but not for long enough yet.
    kw.clock.advance(4 * DAY);
    await rounds(3);
    expect((await endpoint(id)).disableTime).toBeUndefined();

    kw.clock.advance(DAY + 60_000);
    const deadline = Date.now() + 30_000; // a loaded CI machine may run rounds late
    while ((await endpoint(id)).disableTime === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const disabled = await rest("GET", "/webhook_endpoints");
    const listed = (disabled.body.webhookEndpoints as { id: string; disableTime?: string }[]).find((e) => e.id === id)!;
    expect(Date.parse(listed.disableTime!)).toBeGreaterThan(Date.now() + 5 * DAY - HOUR);

    const disabling = (await auditOf(id)).find((e) => e.action === "DisableFailingWebhookEndpoint")!;
    expect(disabling).toMatchObject({ actorKeyId: "", changedFields: ["disable_time"] });
    const { webhookDeliveries } = await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id }, kw.adminKey);
    expect(webhookDeliveries).toHaveLength(1);
    expect(webhookDeliveries[0]).toMatchObject({ state: WebhookDeliveryState.FAILED, attempts: 1, lastError: expect.stringContaining("disabled") });

    // Nothing is queued for it, and nothing sent.
    const received = receiver.received.length;
    await announce();
    await rounds(3);
    expect(receiver.received).toHaveLength(received);
    expect((await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id }, kw.adminKey)).webhookDeliveries).toHaveLength(1);

    expect(await rest("POST", `/webhook_endpoints/${id}:enable`, {})).toEqual({ status: 200, body: {} });
    expect((await endpoint(id)).disableTime).toBeUndefined();
    const enabling = (await auditOf(id)).find((e) => e.action === "AdminEnableWebhookEndpoint")!;
    expect(enabling.actorKeyId).toBe(kw.keyward.bootstrapKeyId);
    const again = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, again) !== undefined);
    // Its failing streak started over: another day of failures does not disable it.
    kw.clock.advance(DAY);
    await rounds(3);
    expect((await endpoint(id)).disableTime).toBeUndefined();
  });

  it("keeps an endpoint that delivers now and then enabled, however old its first failure", async () => {
    const receiver = await newReceiver();
    receiver.answerWith(500);
    const created = await subscribe(receiver);
    const id = created.webhookEndpoint!.id;
    const failed = await announce();
    await receiver.waitFor(() => deliveryOf(receiver, failed) !== undefined);
    kw.clock.advance(3 * DAY);
    const delivered = await announce();
    await receiver.waitFor(() => receiver.received.some((r) => r.body.includes(delivered) && r.status === 200));
    kw.clock.advance(3 * DAY);
    await rounds(3);
    expect((await endpoint(id)).disableTime).toBeUndefined();
  });
});
