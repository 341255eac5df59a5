/// <reference lib="dom" />
// The dashboard for an admin with many keys (issue #23), in headless Chromium:
// edit a key from its detail view (read back through the API), search and page
// through 120 keys with page tokens, destructive actions that look and ask like
// it, keys that need attention standing out, and webhook endpoints.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService, ApiKeyState } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { EVENT_TYPES } from "../../src/domain/events.js";
import { EVENT_TYPES as DASHBOARD_EVENT_TYPES } from "../../web/src/event-types.js";
import { GrpcClient } from "../../harness/clients.js";
import { launchDashboardBrowser, NO_BROWSER, signIn } from "../support/browser.js";
import { DAY, expiresIn, grpcClients, keyOnPolicy, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

// The README's pictures, refreshed on request (UPDATE_SCREENSHOTS=1), as in dashboard.test.ts.
const SHOTS = process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : mkdtempSync(join(tmpdir(), "keyward-shots-"));

describe.skipIf(NO_BROWSER)("the dashboard for an admin with many keys", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let hooks: GrpcClient<typeof WebhookService>;
  let browser: Browser;
  let page: Page;
  let policyId = "";
  let otherPolicyId = "";

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    hooks = new GrpcClient(WebhookService, kw.port);
    browser = await launchDashboardBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: "UTC" });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: kw.url });
    page = await context.newPage();
    policyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "batch-jobs", permissions: [] }, kw.adminKey)).policy!.id;
    otherPolicyId = (await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "reporting", permissions: [] }, kw.adminKey)).policy!.id;
  }, 120_000);
  afterAll(async () => {
    c?.close();
    hooks?.close();
    await browser?.close();
    await kw?.close();
  });

  const create = async (name: string, extra: Record<string, unknown> = {}) =>
    (await keyOnPolicy(kw, c, policyId, name, 90 * DAY, extra)).apiKey!;
  const read = async (id: string) => (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id }, kw.adminKey)).apiKey!;
  const row = (name: string) => page.locator("tr", { hasText: name });

  it("serves the dashboard at / to a browser, with an inline SVG favicon that renders", async () => {
    const res = await fetch(`${kw.url}/`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toContain("<title>Keyward</title>");
    await page.goto(kw.url);
    const icon = await page.locator("link[rel=icon]").getAttribute("href");
    expect(icon).toMatch(/^data:image\/svg\+xml,<svg /);
    // Drawn by Chromium under the page's content security policy (img-src allows data:).
    const width = await page.evaluate(
      (href) => new Promise<number>((resolve) => Object.assign(new Image(), { onload: (e: Event) => resolve((e.target as HTMLImageElement).naturalWidth), onerror: () => resolve(0), src: href })),
      icon!,
    );
    expect(width).toBeGreaterThan(0);
  });

  it("signs in", async () => {
    await signIn(page, kw);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  });

  it("shows a key's subnets, constraints, creator, service and labels, and edits only what changed", async () => {
    const key = await create("edit-me", {
      service: "billing",
      allowedSubnets: ["10.0.0.0/8"],
      constraints: [{ type: 2, value: "/v1/invoices" }],
      labels: { owner: "ana" },
    });
    await page.reload();
    await page.getByRole("button", { name: "Details of edit-me" }).click();
    const detail = page.getByRole("dialog", { name: "Key edit-me" });
    await detail.waitFor();
    expect(await detail.locator("[data-field=subnets]").textContent()).toBe("10.0.0.0/8");
    expect(await detail.locator("[data-field=constraints]").textContent()).toBe("Path prefix: /v1/invoices");
    expect(await detail.locator("[data-field=service]").textContent()).toBe("billing");
    expect(await detail.locator("[data-field=labels]").textContent()).toBe("owner=ana");
    expect(await detail.locator("[data-field=creator]").textContent()).toMatch(/^[0-9A-Za-z]{16}$/);
    await expect.poll(() => detail.locator("[data-field=creator-name]").textContent()).toBe("keyward-admin ");
    // The expiry reads as a phrase, with the absolute time and its zone on hover.
    expect(await detail.locator("[data-field=expires] time").textContent()).toMatch(/^in (3 months|90 days)$/);
    expect(await detail.locator("[data-field=expires] time").getAttribute("title")).toMatch(/\d{4}.*UTC/);

    await detail.getByRole("button", { name: "Edit" }).click();
    const form = page.getByRole("dialog", { name: "Edit edit-me" });
    // A label key the API refuses is shown next to the field, and nothing is saved.
    await form.getByLabel(/^Labels/).fill("owner=ana\nBad Key=x");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => form.locator("#edit-labels-error").textContent()).not.toBe("");
    expect((await read(key.id)).labels).toEqual({ owner: "ana" });

    const extended = new Date(Date.now() + 200 * DAY).toISOString().slice(0, 10);
    await form.getByLabel("Expires on").fill(extended);
    await form.getByLabel(/^Labels/).fill("owner=bo\nticket=OPS-42");
    await page.screenshot({ path: `${SHOTS}/key-edit.png` });
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("dialog", { name: "Key edit-me" }).locator("[data-field=labels]").textContent()).toBe("owner=boticket=OPS-42");

    await page.screenshot({ path: `${SHOTS}/key-detail.png` });
    const saved = await read(key.id);
    expect(saved.labels).toEqual({ owner: "bo", ticket: "OPS-42" });
    expect(timestampDate(saved.expireTime!).toISOString()).toBe(`${extended}T23:59:59.000Z`);
    // Fields not changed are not sent: still as created.
    expect(saved).toMatchObject({ name: "edit-me", policyId, service: "billing", allowedSubnets: ["10.0.0.0/8"] });
    expect(saved.constraints.map((x) => x.value)).toEqual(["/v1/invoices"]);

    // Policy, service and subnets change too; clearing the service clears it.
    await page.getByRole("dialog", { name: "Key edit-me" }).getByRole("button", { name: "Edit" }).click();
    await form.getByLabel("Policy").selectOption({ label: "reporting" });
    await form.getByLabel(/^Service/).fill("");
    await form.getByLabel(/^Allowed subnets/).fill("192.168.0.0/16");
    await form.getByRole("button", { name: "Remove constraint 1" }).click();
    await form.getByRole("button", { name: "Save" }).click();
    await page.getByRole("dialog", { name: "Key edit-me" }).waitFor();
    expect(await read(key.id)).toMatchObject({ policyId: otherPolicyId, service: "", allowedSubnets: ["192.168.0.0/16"], constraints: [] });
    await page.getByRole("dialog", { name: "Key edit-me" }).getByRole("button", { name: "Close" }).click();
  });

  it("searches by name on the server and pages through 120 keys with next and previous", async () => {
    for (let i = 0; i < 120; i += 12) {
      await Promise.all(Array.from({ length: 12 }, (_, j) => create(`bulk-${String(i + j).padStart(3, "0")}`, { service: i + j < 30 ? "exports" : "" })));
    }
    await page.reload();
    await page.getByLabel("Search by name").fill("bulk-");
    await page.getByRole("button", { name: "Search" }).click();
    const status = page.locator(".pager [role=status]");
    await expect.poll(() => page.getByRole("cell", { name: /edit-me/ }).count()).toBe(0);
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–50)");
    const ids = async () => page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key-id")));
    const first = await ids();
    expect(first).toHaveLength(50);
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 2 (keys 51–100)");
    const second = await ids();
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 3 (keys 101–120)");
    const third = await ids();
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    // Every bulk key once, and nothing else (edit-me and the admin key do not match).
    expect(new Set([...first, ...second, ...third]).size).toBe(120);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 2 (keys 51–100)");
    expect(await ids()).toEqual(second);

    // Another filter starts again at page 1: the 30 keys of service "exports".
    await page.getByRole("textbox", { name: "Service", exact: true }).fill("exports");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–30)");

    // The server sorts (the whole list, so paging keeps the order): by name, descending on a second click.
    await page.getByRole("button", { name: "Sort by name" }).click();
    await page.getByRole("button", { name: "Sort by name" }).click();
    await expect.poll(() => page.locator("tbody tr strong").first().textContent()).toBe("bulk-029");
    // The order holds across pages: all 120 bulk keys by name, descending, 50 a page.
    await page.getByRole("textbox", { name: "Service", exact: true }).fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–50)");
    await expect.poll(() => page.locator("tbody tr strong").first().textContent()).toBe("bulk-119");
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 2 (keys 51–100)");
    await expect.poll(() => page.locator("tbody tr strong").first().textContent()).toBe("bulk-069");
    await page.getByRole("textbox", { name: "Service", exact: true }).fill("");

    // A slow answer to an earlier search never replaces the answer to a later one.
    const list = "**/keyward.v1.ApiKeyService/AdminListApiKeys";
    await page.route(list, async (route) => {
      if (route.request().postData()?.includes("no-such-key")) await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    });
    await page.getByLabel("Search by name").fill("no-such-key");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByLabel("Search by name").fill("bulk-11");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–10)");
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await status.textContent()).toBe("Page 1 (keys 1–10)");
    await page.unroute(list);

    await page.getByLabel("Search by name").fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–50)");
  });

  it("finds a key by its id as well as by name", async () => {
    const wanted = await create("found-by-id");
    await page.getByLabel("Search by name or id").fill(wanted.id);
    await page.getByRole("button", { name: "Search" }).click();
    await row("found-by-id").waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.getByLabel("Search by name or id").fill("");
    await page.getByRole("button", { name: "Search" }).click();
  });

  it("pages through 2,000 keys, 200 at a time, each key once", async () => {
    for (let i = 0; i < 2_000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => create(`many-${String(i + j).padStart(4, "0")}`)));
    }
    await page.getByLabel("Search by name").fill("many-");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByLabel("Per page").first().selectOption("200");
    const status = page.locator(".pager [role=status]");
    await expect.poll(() => status.textContent()).toBe("Page 1 (keys 1–200)");
    const seen = new Set<string | null>();
    for (let n = 1; n <= 10; n++) {
      await expect.poll(() => status.textContent()).toBe(`Page ${n} (keys ${(n - 1) * 200 + 1}–${n * 200})`);
      const ids = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key-id")));
      expect(ids).toHaveLength(200);
      for (const id of ids) seen.add(id);
      if (n < 10) await page.getByRole("button", { name: "Next" }).click();
    }
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    expect(seen.size).toBe(2_000);
    await page.getByLabel("Search by name").fill("");
    await page.getByRole("button", { name: "Search" }).click();
  }, 240_000);

  it("searches policies by name on the server and pages through them", async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: `team-${String(i).padStart(2, "0")}`, permissions: [] }, kw.adminKey),
      ),
    );
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByLabel("Search policies by name").fill("TEAM-");
    await page.getByRole("button", { name: "Search" }).click();
    const status = page.locator(".pager [role=status]");
    await expect.poll(() => page.getByRole("cell", { name: /batch-jobs/ }).count()).toBe(0);
    await expect.poll(() => status.textContent()).toBe("Page 1 (policies 1–50)");
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 2 (policies 51–60)");
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => status.textContent()).toBe("Page 1 (policies 1–50)");
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  });

  it("styles retire and delete as destructive and asks before retiring; expiring and retired keys stand out", async () => {
    const soon = await create("expiring-soon", { expireTime: expiresIn(kw, 3 * DAY) });
    const retired = await create("already-retired");
    await c.keys.call(ApiKeyService.method.adminRetireApiKey, { id: retired.id }, kw.adminKey);
    await page.getByLabel("Search by name").fill("e");
    await page.getByLabel("Expires within").selectOption({ label: "7 days" });
    await page.getByRole("button", { name: "Search" }).click();
    await row("expiring-soon").waitFor();
    expect(await row("edit-me").count()).toBe(0);
    expect(await row("expiring-soon").getAttribute("class")).toBe("expiring");
    expect(await row("expiring-soon").locator(".chip.warn").textContent()).toBe("expires in 3 days");
    await page.getByLabel("Expires within").selectOption({ label: "Any time" });
    await row("already-retired").waitFor();
    expect(await row("already-retired").getAttribute("class")).toBe("retired");
    await page.screenshot({ path: `${SHOTS}/keys-attention.png` });

    const colour = (name: string) => page.getByRole("button", { name }).evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await colour("Retire expiring-soon")).toBe("rgb(179, 38, 30)");
    expect(await colour("Delete expiring-soon")).toBe("rgb(179, 38, 30)");
    expect(await colour("Rotate expiring-soon")).not.toBe(await colour("Retire expiring-soon"));

    await page.getByRole("button", { name: "Retire expiring-soon" }).click();
    const confirm = page.getByRole("dialog", { name: "Retire expiring-soon?" });
    await expect.poll(() => confirm.textContent()).toContain("stops working at once");
    expect(await confirm.getByRole("button", { name: "Retire" }).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(179, 38, 30)");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect((await read(soon.id)).state).toBe(ApiKeyState.ACTIVE);
    await page.getByRole("button", { name: "Retire expiring-soon" }).click();
    await confirm.getByRole("button", { name: "Retire" }).click();
    await expect.poll(async () => (await read(soon.id)).state).toBe(ApiKeyState.RETIRED);
    await expect.poll(() => row("expiring-soon").getAttribute("class")).toBe("retired");
  });

  it("marks keys unused for 30 days as idle, and keys in use not", async () => {
    // Created 40 days ago on Keyward's clock, never used since.
    kw.clock.advance(-40 * DAY);
    await create("idle-for-weeks");
    kw.clock.advance(40 * DAY);
    await create("idle-fresh");
    await page.getByLabel("Search by name").fill("idle-");
    await page.getByLabel("Expires within").selectOption({ label: "Any time" });
    await page.getByRole("button", { name: "Search" }).click();
    await row("idle-for-weeks").waitFor();
    expect(await row("idle-for-weeks").locator(".chip.idle").textContent()).toBe("idle: never used");
    await row("idle-fresh").waitFor();
    expect(await row("idle-fresh").locator(".chip.idle").count()).toBe(0);
  });

  it("creates a webhook endpoint showing its secret once, shows its deliveries, and deletes it after a confirm", async () => {
    expect(DASHBOARD_EVENT_TYPES).toEqual(EVENT_TYPES);
    const receiver = await new WebhookReceiver().start();
    try {
      await page.getByRole("link", { name: "Webhooks" }).click();
      await page.getByRole("heading", { name: "Webhooks" }).waitFor();
      await page.getByRole("button", { name: "New endpoint" }).click();
      const form = page.getByRole("dialog", { name: "New webhook endpoint" });
      await form.getByLabel("URL").fill("https://exa mple.com/");
      await form.getByRole("button", { name: "Create" }).click();
      await expect.poll(() => form.locator("#endpoint-url-error").textContent()).not.toBe("");
      await form.getByLabel("URL").fill(receiver.url);
      await form.getByLabel("api_key.created").check();
      await form.getByRole("button", { name: "Create" }).click();

      const shown = page.getByRole("dialog", { name: "Endpoint created" });
      await expect.poll(() => shown.getByRole("alert").textContent()).toContain("cannot be shown again");
      await shown.getByRole("button", { name: "Copy" }).click();
      const secret = await page.evaluate(() => navigator.clipboard.readText());
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      await shown.getByRole("button", { name: "Done" }).click();
      // Once: gone from the page when the dialog closes, and never in the list.
      const endpointRow = page.locator("tr", { hasText: receiver.url });
      await endpointRow.waitFor();
      expect(await endpointRow.textContent()).toContain("api_key.created");
      expect(await page.content()).not.toContain(secret);
      const { webhookEndpoints } = await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey);
      expect(webhookEndpoints.map((e) => e.url)).toEqual([receiver.url]);

      // Every attempt answered 500: the delivery fails after the retries, and says why.
      receiver.answerWith(500, 500, 500, 500);
      await create("announced");
      await receiver.waitFor((r) => r.length >= 4);
      await page.getByRole("button", { name: `Deliveries to ${receiver.url}` }).click();
      const deliveries = page.getByRole("dialog", { name: `Deliveries to ${receiver.url}` });
      const delivery = deliveries.locator("tbody tr").first();
      await expect
        .poll(async () => {
          await deliveries.getByRole("button", { name: "Refresh" }).click();
          return delivery.locator(".state").textContent();
        })
        .toBe("Failed");
      expect(await delivery.locator(".attempts").textContent()).toBe("4");
      expect(await delivery.locator(".last").textContent()).toContain("HTTP 500");
      expect(await delivery.textContent()).toContain("api_key.created");
      await page.screenshot({ path: `${SHOTS}/webhook-deliveries.png` });
      await deliveries.getByRole("button", { name: "Close" }).click();

      await page.getByRole("button", { name: `Delete ${receiver.url}` }).click();
      const confirm = page.getByRole("dialog", { name: "Delete this endpoint?" });
      expect(await confirm.getByRole("button", { name: "Delete" }).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(179, 38, 30)");
      await confirm.getByRole("button", { name: "Delete" }).click();
      await expect.poll(() => endpointRow.count()).toBe(0);
      expect((await hooks.call(WebhookService.method.adminListWebhookEndpoints, {}, kw.adminKey)).webhookEndpoints).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
