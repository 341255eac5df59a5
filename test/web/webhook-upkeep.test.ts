/// <reference lib="dom" />
// Webhook endpoint upkeep in the dashboard (issues #19, #23), in headless
// Chromium: Rotate secret asks first, then shows the new whsec_… once (and a
// later delivery verifies with it, by the standardwebhooks library); an
// endpoint Keyward disabled after failing for KEYWARD_WEBHOOK_DISABLE_AFTER
// shows it as a warning, and Enable sends to it again.
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { launchDashboardBrowser, NO_BROWSER, signIn } from "../support/browser.js";
import { DAY, firstAttemptRecorded, grpcClients, keyOnPolicy, type Clients } from "../support/fixtures.js";
import { startKeyward, testConfig, type RunningKeyward } from "../support/keyward.js";
import { WebhookReceiver, type ReceivedWebhook } from "../support/webhook-receiver.js";

describe.skipIf(NO_BROWSER)("webhook endpoint upkeep in the dashboard", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let hooks: GrpcClient<typeof WebhookService>;
  let browser: Browser;
  let page: Page;
  let policyId = "";
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    const location = { kind: "pglite" } as const;
    // One retry, weeks away: a failed first attempt stays pending past the disable threshold.
    kw = await startKeyward(location, { config: { webhooks: { ...testConfig(location).webhooks, retryScheduleMs: [20 * DAY], retentionMs: 60 * DAY } } });
    c = grpcClients(kw.port);
    hooks = new GrpcClient(WebhookService, kw.port);
    browser = await launchDashboardBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: "UTC" });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: kw.url });
    page = await context.newPage();
    policyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "announced", permissions: [] }, kw.adminKey)).policy!.id;
    await signIn(page, kw);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  }, 120_000);
  afterAll(async () => {
    c?.close();
    hooks?.close();
    await browser?.close();
    await kw?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  const newReceiver = async () => {
    const receiver = await new WebhookReceiver().start();
    receivers.push(receiver);
    return receiver;
  };
  const subscribe = async (receiver: WebhookReceiver) =>
    (await hooks.call(WebhookService.method.adminCreateWebhookEndpoint, { url: receiver.url, eventTypes: ["api_key.created"] }, kw.adminKey)).webhookEndpoint!.id;
  /** A change every endpoint hears about (api_key.created); the new key's id. */
  const announce = async (name: string) => (await keyOnPolicy(kw, c, policyId, name, 30 * DAY)).apiKey!.id;
  const endpoint = async (id: string) => (await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey)).webhookEndpoints.find((e) => e.id === id)!;
  const openWebhooks = async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
  };
  /** Verified by the reference library at the time Keyward signed (the test clock may differ from real time). */
  function verify(secret: string, r: ReceivedWebhook): unknown {
    const now = vi.spyOn(Date, "now").mockReturnValue(Number(r.headers["webhook-timestamp"]) * 1000);
    try {
      return new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
    } finally {
      now.mockRestore();
    }
  }

  it("rotates a secret after asking, with the overlap chosen, and shows the new one once", async () => {
    const receiver = await newReceiver();
    const id = await subscribe(receiver);
    await openWebhooks();
    await page.getByRole("button", { name: `Rotate secret of ${receiver.url}` }).click();
    const ask = page.getByRole("dialog", { name: "Rotate this endpoint's secret?" });
    expect(await ask.getByLabel("Overlap").locator("option").allTextContents()).toEqual(["None: the old secret stops at once", "1 hour", "24 hours", "7 days"]);
    // Cancel changes nothing: a delivery still carries one signature.
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "detached" });

    await page.getByRole("button", { name: `Rotate secret of ${receiver.url}` }).click();
    await ask.getByLabel("Overlap").selectOption({ label: "None: the old secret stops at once" });
    await ask.getByRole("button", { name: "Rotate" }).click();
    const shown = page.getByRole("dialog", { name: "Secret rotated" });
    await expect.poll(() => shown.getByRole("alert").textContent()).toContain("cannot be shown again");
    await shown.getByRole("button", { name: "Copy" }).click();
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await shown.getByRole("button", { name: "Done" }).click();
    await shown.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);

    // No overlap: the next delivery is signed by the new secret alone.
    const keyId = await announce("after-rotation");
    await receiver.waitFor((r) => r.some((x) => x.body.includes(keyId)));
    const delivery = receiver.received.find((x) => x.body.includes(keyId))!;
    expect(String(delivery.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verify(secret, delivery)).toMatchObject({ type: "api_key.created" });
    expect((await endpoint(id)).disableTime).toBeUndefined();
  });

  it("shows an endpoint Keyward disabled as a warning, and Enable sends to it again", async () => {
    const receiver = await newReceiver();
    receiver.answerWith(...Array<number>(100).fill(500));
    // Failing since 5 days and a minute before now, so it is disabled about now (as the browser reads time).
    kw.clock.advance(-(5 * DAY + 60_000));
    const id = await subscribe(receiver);
    const first = await announce("failing-first");
    await receiver.waitFor((r) => r.some((x) => x.body.includes(first)));
    await firstAttemptRecorded(hooks, id, kw.adminKey);
    kw.clock.advance(5 * DAY + 60_000);
    await expect.poll(async () => (await endpoint(id)).disableTime, { timeout: 30_000 }).toBeDefined();

    await openWebhooks();
    const row = page.locator("tr", { hasText: receiver.url });
    expect(await row.getAttribute("class")).toBe("disabled");
    expect(await row.locator(".chip.warn").textContent()).toMatch(/^disabled (now|\d+ seconds? ago|1 minute ago)$/);
    expect(await page.locator("tr", { hasText: receivers[0]!.url }).getByRole("button", { name: /^Enable/ }).count()).toBe(0);

    await row.getByRole("button", { name: `Enable ${receiver.url}` }).click();
    await expect.poll(() => row.locator(".chip.warn").count()).toBe(0);
    expect(await row.getAttribute("class")).toBeNull();
    expect((await endpoint(id)).disableTime).toBeUndefined();
    // Sent to again (answered 500 still: the receiver was never fixed, but Keyward tries).
    const again = await announce("after-enable");
    await receiver.waitFor((r) => r.some((x) => x.body.includes(again)));
  });
});
