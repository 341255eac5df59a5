// The lifecycle that runs itself (issue #19, design §8): a key entering its
// KEYWARD_EXPIRY_WARNING window is announced `api_key.expiring` once however
// many rounds see it, and again only after its expiry is changed; a key past
// its expiry is announced `api_key.expired` once; with KEYWARD_IDLE_RETIRE_AFTER
// set, a key unused that long is retired by Keyward itself (audited with no
// actor key, `api_key.retired` and `api_key.idle_retired` sent), a key in use
// is not, and the last admin key never is; each only after an idle warning
// (`api_key.expiring`, reason "idle") given KEYWARD_EXPIRY_WARNING before, once
// per idle spell: a key used again starts over, and turning idle retirement on
// warns old idle keys before retiring any. Time moves on the test clock; the
// test runs rounds itself (keyward.lifecycle.runOnce). A real receiver checks
// every event with the reference `standardwebhooks` library. On every test store.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Webhook } from "standardwebhooks";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, uniqueName, type Clients } from "../support/fixtures.js";
import { LogCapture, startKeyward, testConfig, TestClock, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";
import { WebhookReceiver, type ReceivedWebhook } from "../support/webhook-receiver.js";

/**
 * Lets a duplicate, were there one, reach the receiver before counting: the
 * commit that queues a delivery wakes the dispatcher, so it would be sent at
 * once, not at the next poll.
 */
const settle = () => new Promise((r) => setTimeout(r, 300));

/** Creates an endpoint for `eventTypes` on `receiver`; its secret. */
async function subscribe(kw: RunningKeyward, receiver: WebhookReceiver, eventTypes: string[], admin = kw.adminKey): Promise<string> {
  const hooks = new GrpcClient(WebhookService, kw.port);
  try {
    return (await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes }, admin)).secret;
  } finally {
    hooks.close();
  }
}

/** Events of `type` naming key `id`. */
const about = (receiver: WebhookReceiver, type: string, id: string) =>
  receiver.ofType(type).filter((e) => (e.data as { apiKey: { id: string } }).apiKey.id === id);

/**
 * Checks each signature with the reference library. Not with its `verify`:
 * that refuses timestamps far from real time, and these were signed at the
 * test clock's time, days ahead; so the library signs the same id, time and
 * body, and the signatures must match.
 */
const verifyAll = (received: ReceivedWebhook[], secret: string) => {
  const signer = new Webhook(secret);
  for (const r of received) {
    const sentAt = new Date(Number(r.headers["webhook-timestamp"]) * 1000);
    expect(r.headers["webhook-signature"]).toBe(signer.sign(String(r.headers["webhook-id"]), sentAt, r.body));
  }
};

describe.each(TEST_STORES)("expiry announcements on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let receiver: WebhookReceiver;
  let secret: string;
  let policyId: string;

  const createKey = async (expiresInMs: number) =>
    (await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("expiring"), policyId, expireTime: expiresIn(kw, expiresInMs) }, kw.adminKey))
      .apiKey!;

  beforeAll(async () => {
    kw = await startKeyward(await store.create());
    c = grpcClients(kw.port);
    receiver = await new WebhookReceiver().start();
    secret = await subscribe(kw, receiver, ["api_key.expiring", "api_key.expired"]);
    policyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("expiring"), permissions: [] }, kw.adminKey)).policy!.id;
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
    await receiver?.close();
  });

  it("warns once of a key within KEYWARD_EXPIRY_WARNING, announces its expiry once, and warns again after its expiry is changed", async () => {
    const lifecycle = kw.keyward.lifecycle;
    const later = await createKey(30 * DAY);
    const soon = await createKey(3 * DAY);
    const retired = await createKey(2 * DAY);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.id }, kw.adminKey);

    // Only the key due within 7 days, and only the first round announces it.
    expect(await lifecycle.runOnce()).toMatchObject({ busy: false, expiring: 1, expired: 0 });
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 0 });
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 0 });
    await receiver.waitFor(() => about(receiver, "api_key.expiring", soon.id).length === 1);
    const [warning] = about(receiver, "api_key.expiring", soon.id);
    expect(warning!.data).toMatchObject({
      apiKey: { id: soon.id, name: soon.name, state: "active", expireTime: timestampToIso(soon.expireTime!) },
      reason: "expiry",
    });

    // Past its expiry: announced expired, once.
    kw.clock.advance(4 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 1 });
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 0 });
    await receiver.waitFor(() => about(receiver, "api_key.expired", soon.id).length === 1);

    // The other key enters its window 24 days after creation.
    kw.clock.advance(20 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 1, expired: 0 });
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0 });
    // Extended: no longer due, so nothing now; warned again once the new expiry nears.
    const extended = timestampFromDate(new Date(kw.clock.now().getTime() + 60 * DAY));
    await c.keys.call(ApiKeyService.method.adminUpdateApiKey, { apiKey: { id: later.id, expireTime: extended }, updateMask: { paths: ["expire_time"] } }, kw.adminKey);
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 0 });
    kw.clock.advance(54 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 1, expired: 0 });
    kw.clock.advance(7 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 1 });
    expect(await lifecycle.runOnce()).toMatchObject({ expiring: 0, expired: 0 });

    await receiver.waitFor(() => about(receiver, "api_key.expired", later.id).length === 1);
    await settle();
    expect(about(receiver, "api_key.expiring", soon.id)).toHaveLength(1);
    expect(about(receiver, "api_key.expired", soon.id)).toHaveLength(1);
    expect(about(receiver, "api_key.expiring", later.id)).toHaveLength(2);
    // Deliveries may arrive in any order: one of the two warnings is about the new expiry.
    const warnedExpiries = about(receiver, "api_key.expiring", later.id).map((e) => (e.data as { apiKey: { expireTime: string } }).apiKey.expireTime);
    expect(warnedExpiries).toContain(timestampToIso(extended));
    expect(about(receiver, "api_key.expired", later.id)).toHaveLength(1);
    // A retired key is not announced: it stopped working before it could expire.
    expect(receiver.received.filter((r) => r.body.includes(retired.id))).toHaveLength(0);
    expect(receiver.received).toHaveLength(5);
    verifyAll(receiver.received, secret);
  });
});

const timestampToIso = (t: { seconds: bigint; nanos: number }) => new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();

const HOUR = 3_600_000;

/** Idle retirement on in these suites: 30 days, warned KEYWARD_EXPIRY_WARNING (7 days) ahead. */
const IDLE_LIFECYCLE = { ...testConfig({ kind: "pglite" }).lifecycle, idleRetireAfterMs: 30 * DAY };

/** The idle warnings about key `id`. */
const idleWarnings = (receiver: WebhookReceiver, id: string) =>
  about(receiver, "api_key.expiring", id).filter((e) => (e.data as { reason: string }).reason === "idle");

describe.each(TEST_STORES)("idle retirement on $name", (store) => {
  let kw: RunningKeyward;
  let c: Clients;
  let audit: GrpcClient<typeof AuditService>;
  let receiver: WebhookReceiver;
  let secret: string;
  const logs = new LogCapture();
  /** The only admin key once the bootstrap key is retired. */
  let admin: { id: string; credentials: string };
  /** A service's key, calling CheckKey now and then. */
  let service: { id: string; credentials: string };
  let idle: { id: string; credentials: string };

  const newKey = async (permissions: string[], caller: string) => {
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("idle"), permissions }, caller);
    const created = await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("idle"), policyId: policy!.id, expireTime: expiresIn(kw, 300 * DAY) }, caller);
    return { id: created.apiKey!.id, credentials: created.credentials };
  };
  const codeOf = async (key: string) => (await c.check.call(CheckService.method.checkKey, { key, permissions: [] }, service.credentials)).code;

  beforeAll(async () => {
    kw = await startKeyward(await store.create(), {
      logger: logs.logger("info"),
      config: { lifecycle: IDLE_LIFECYCLE },
    });
    c = grpcClients(kw.port);
    audit = new GrpcClient(AuditService, kw.port);
    receiver = await new WebhookReceiver().start();
    admin = await newKey(["*"], kw.adminKey);
    secret = await subscribe(kw, receiver, ["api_key.expiring", "api_key.retired", "api_key.idle_retired"], admin.credentials);
    service = await newKey(["keyward.keys.check"], admin.credentials);
    idle = await newKey([], admin.credentials);
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: kw.keyward.bootstrapKeyId! }, admin.credentials);
  });
  afterAll(async () => {
    c?.close();
    audit?.close();
    await kw?.close();
    await receiver?.close();
  });

  /** The service uses its key; resolves once the use is recorded. */
  const useServiceKey = async () => {
    expect(await codeOf(service.credentials)).toBe(CheckCode.VALID);
    const at = kw.clock.now().getTime() - 1_000;
    for (let i = 0; i < 100; i++) {
      const used = (await kw.keyward.store.apiKeys.get(service.id))?.lastUsedTime;
      if (used && used.getTime() >= at) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the service key's use was not recorded");
  };

  it("warns once, then retires a key unused for KEYWARD_IDLE_RETIRE_AFTER as Keyward itself, keeps a key in use and the last admin key", async () => {
    const lifecycle = kw.keyward.lifecycle;
    await receiver.waitFor(() => receiver.ofType("api_key.retired").length === 1); // the bootstrap key's
    // Nothing is idle yet.
    kw.clock.advance(20 * DAY);
    await useServiceKey();
    expect(await lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [], lastAdminKept: [] });

    // 25 days: the unused key and the admin key are idle past 23 days (30 less the
    // 7-day warning), so warned, once; two days late, so each gets the full 7 days.
    kw.clock.advance(5 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleWarned: 2, idleRetired: [], lastAdminKept: [] });
    expect(await lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [], lastAdminKept: [] });
    // 31 days: idle past 30, but warned only 6 days ago: not yet.
    kw.clock.advance(6 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [], lastAdminKept: [] });
    // Still active (read, not checked: a check would be a use, and make the key not idle once recorded).
    expect((await kw.keyward.store.apiKeys.get(idle.id))?.state).toBe("active");

    // 35 days: the service's key was used 15 days ago.
    kw.clock.advance(4 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [idle.id], lastAdminKept: [admin.id] });
    expect(await lifecycle.runOnce()).toMatchObject({ idleRetired: [], lastAdminKept: [admin.id] });
    // Told once, not once a round.
    const kept = logs.lines.filter((l) => l.includes("the last admin key is idle"));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain(admin.id);
    expect(logs.text).toContain(`"apiKeyId":"${idle.id}","msg":"retired an API key unused for KEYWARD_IDLE_RETIRE_AFTER"`);

    expect(await codeOf(idle.credentials)).toBe(CheckCode.RETIRED);
    expect(await codeOf(service.credentials)).toBe(CheckCode.VALID);
    expect(await codeOf(admin.credentials)).toBe(CheckCode.VALID);

    await receiver.waitFor(() => about(receiver, "api_key.idle_retired", idle.id).length === 1);
    await settle();
    expect(about(receiver, "api_key.idle_retired", idle.id)).toHaveLength(1);
    expect(about(receiver, "api_key.retired", idle.id)).toHaveLength(1);
    // Warned once, before it was retired, of when it would be.
    expect(about(receiver, "api_key.expiring", idle.id)).toHaveLength(1);
    const [warning] = idleWarnings(receiver, idle.id);
    expect(warning!.data).toEqual({
      apiKey: expect.objectContaining({ id: idle.id, state: "active" }),
      reason: "idle",
      // Two days late (25 days idle): it gets the whole 7 days from the warning.
      retireTime: new Date(Date.parse(warning!.timestamp) + 7 * DAY).toISOString(),
      lastUsedTime: null,
    });
    expect(warning!.timestamp < about(receiver, "api_key.idle_retired", idle.id)[0]!.timestamp).toBe(true);
    expect(about(receiver, "api_key.expiring", service.id)).toHaveLength(0);
    expect(about(receiver, "api_key.idle_retired", idle.id)[0]!.data).toEqual({
      apiKey: expect.objectContaining({ id: idle.id, state: "retired" }),
      lastUsedTime: null,
      actor: { apiKeyId: "", clientIp: "" },
    });
    expect(about(receiver, "api_key.retired", idle.id)[0]!.data).toMatchObject({ actor: { apiKeyId: "" } });
    // Nothing else happened: the bootstrap key's retirement, the two warnings and the idle key's retirement.
    expect(receiver.received).toHaveLength(5);
    verifyAll(receiver.received, secret);

    const { auditEvents } = await audit.call(AuditService.method.adminListAuditEvents, { target: `api_keys/${idle.id}` }, admin.credentials);
    expect(auditEvents[0]).toMatchObject({ action: "IdleRetireApiKey", actorKeyId: "", outcome: "OK", changedFields: ["state"] });
    const { apiKey } = await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: idle.id }, admin.credentials);
    expect(apiKey!.retirerKeyId).toBe("");
  });

  it("does not retire a key used after its warning, and warns it again before retiring it", async () => {
    const lifecycle = kw.keyward.lifecycle;
    // The last test ends on day 35 with the service's key just used.
    await useServiceKey();
    kw.clock.advance(23 * DAY + HOUR);
    await lifecycle.runOnce();
    await lifecycle.runOnce();
    await receiver.waitFor(() => idleWarnings(receiver, service.id).length === 1);
    const first = idleWarnings(receiver, service.id)[0]!;
    expect(first.data).toMatchObject({ reason: "idle", retireTime: new Date(Date.parse(first.timestamp) + 7 * DAY).toISOString() });

    // Used again five days later; past the warned retirement time it is still active, and not warned again yet.
    kw.clock.advance(5 * DAY);
    await useServiceKey();
    kw.clock.advance(3 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleRetired: [] });
    kw.clock.advance(19 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleRetired: [] });
    expect(await codeOf(service.credentials)).toBe(CheckCode.VALID);
    await settle();
    expect(idleWarnings(receiver, service.id)).toHaveLength(1);

    // The check just made was a use too: idle again, it is warned again, then retired 7 days after that.
    kw.clock.advance(23 * DAY + HOUR);
    await lifecycle.runOnce();
    kw.clock.advance(6 * DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleRetired: [] });
    kw.clock.advance(DAY);
    expect(await lifecycle.runOnce()).toMatchObject({ idleRetired: [service.id] });

    await receiver.waitFor(() => about(receiver, "api_key.idle_retired", service.id).length === 1);
    await settle();
    const warnings = idleWarnings(receiver, service.id);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.data).toMatchObject({ reason: "idle", lastUsedTime: expect.any(String) });
    expect(Date.parse((warnings[1]!.data as { lastUsedTime: string }).lastUsedTime)).toBeGreaterThan(Date.parse(warnings[0]!.timestamp));
    expect(warnings[1]!.timestamp < about(receiver, "api_key.idle_retired", service.id)[0]!.timestamp).toBe(true);
    verifyAll(receiver.received, secret);
  });
});

describe.each(TEST_STORES)("idle retirement turned on later, on $name", (store) => {
  let dir: string | undefined;
  let kw: RunningKeyward | undefined;
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    await kw?.close();
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("warns a key idle for long before retiring it, instead of retiring it at once", async () => {
    // Restarted on the same store: PGlite in a directory, PostgreSQL in a database of its own.
    dir = store.name === "pglite" ? await mkdtemp(join(tmpdir(), "keyward-idle-")) : undefined;
    const location = dir ? { kind: "pglite" as const, dataDir: join(dir, "data") } : await store.create();
    const clock = new TestClock();
    receiver = await new WebhookReceiver().start();

    // Idle retirement off: a key nobody uses for 100 days stays active.
    kw = await startKeyward(location, { clock });
    const secret = await subscribe(kw, receiver, ["api_key.expiring", "api_key.idle_retired"]);
    const c = grpcClients(kw.port);
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: uniqueName("old"), permissions: [] }, kw.adminKey);
    const old = (await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("old"), policyId: policy!.id, expireTime: expiresIn(kw, 300 * DAY) }, kw.adminKey)).apiKey!;
    c.close();
    clock.advance(100 * DAY);
    expect(await kw.keyward.lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [] });
    await kw.close();

    // Turned on: the first round warns (this key and the bootstrap admin key), and retires nothing.
    kw = await startKeyward(location, { clock, config: { lifecycle: IDLE_LIFECYCLE } });
    expect(await kw.keyward.lifecycle.runOnce()).toMatchObject({ idleWarned: 2, idleRetired: [] });
    clock.advance(6 * DAY);
    expect(await kw.keyward.lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [] });
    clock.advance(DAY + HOUR);
    expect(await kw.keyward.lifecycle.runOnce()).toMatchObject({ idleWarned: 0, idleRetired: [old.id] });

    await receiver.waitFor(() => about(receiver!, "api_key.idle_retired", old.id).length === 1);
    await settle();
    const warnings = idleWarnings(receiver, old.id);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.data).toEqual({
      apiKey: expect.objectContaining({ id: old.id, state: "active" }),
      reason: "idle",
      retireTime: new Date(Date.parse(warnings[0]!.timestamp) + 7 * DAY).toISOString(),
      lastUsedTime: null,
    });
    expect(warnings[0]!.timestamp < about(receiver, "api_key.idle_retired", old.id)[0]!.timestamp).toBe(true);
    verifyAll(receiver.received, secret);
  });
});
