/// <reference lib="dom" />
// The audit log in words (issue #23), in headless Chromium: actors and targets
// by name with their ids on hover, actions as phrases, a deleted key named as
// such, times relative with the absolute time on hover, and a date range; and
// the keys page's "Idle for" filter, which the audit trail's keys serve to test.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { launchDashboardBrowser, NO_BROWSER, signIn } from "../support/browser.js";
import { DAY, grpcClients, keyOnPolicy, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe.skipIf(NO_BROWSER)("the dashboard's audit log", () => {
  let kw: RunningKeyward;
  let c: Clients;
  let browser: Browser;
  let page: Page;
  let adminId = "";
  let adminName = "";
  let keyId = "";
  let goneId = "";

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    c = grpcClients(kw.port);
    browser = await launchDashboardBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: "UTC" });
    page = await context.newPage();
    adminId = kw.keyward.bootstrapKeyId!;
    adminName = (await c.keys.call(ApiKeyService.method.adminGetApiKey, { id: adminId }, kw.adminKey)).apiKey!.name;
    const { policy } = await c.policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: "invoice-reader", permissions: [] }, kw.adminKey);
    const create = async (name: string) =>
      (await keyOnPolicy(kw, c, policy!.id, name)).apiKey!.id;
    keyId = await create("reporting-job");
    await c.keys.call(ApiKeyService.method.adminRotateApiKey, { id: keyId }, kw.adminKey);
    goneId = await create("short-lived");
    await c.keys.call(ApiKeyService.method.adminDeleteApiKey, { id: goneId }, kw.adminKey);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await browser?.close();
    await kw?.close();
  });

  const row = (text: string) => page.locator("tbody tr", { hasText: text });

  it("says who did what to which by name, with ids and the absolute time on hover", async () => {
    await signIn(page, kw);
    await page.getByRole("link", { name: "Audit log" }).click();
    const rotated = row("rotated key reporting-job");
    await rotated.waitFor();
    const who = rotated.locator("td").nth(1).locator("span");
    expect(await who.textContent()).toBe(adminName);
    expect(await who.getAttribute("title")).toBe(adminId);
    const what = rotated.locator("td").nth(2).locator("span");
    expect(await what.getAttribute("title")).toBe(`AdminRotateApiKey api_keys/${keyId}`);
    expect(await rotated.locator("time").textContent()).toMatch(/now|seconds? ago/);
    expect(await rotated.locator("time").getAttribute("title")).toMatch(/\d{4}.*UTC/);
    await row("created policy invoice-reader").waitFor();
    await row("created key reporting-job").waitFor();
    // Deleted since: named by its id, and the deletion not worded twice.
    expect(await row(`created deleted key ${goneId}`).count()).toBe(1);
    expect(await row(`deleted key ${goneId}`).count()).toBe(2);
    expect(await page.getByText("deleted deleted").count()).toBe(0);
  });

  it("filters by date: a range without today hides today's events, one with it shows them", async () => {
    const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
    await page.getByLabel("From", { exact: true }).fill(day(1));
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => row("rotated key reporting-job").count()).toBe(0);
    expect(await page.locator("tbody tr").count()).toBe(0);
    await page.getByLabel("From", { exact: true }).fill(day(-1));
    await page.getByLabel("To", { exact: true }).fill(day(-1));
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(0);
    await page.getByLabel("To", { exact: true }).fill(day(0));
    await page.getByRole("button", { name: "Filter" }).click();
    await row("rotated key reporting-job").waitFor();
  });

  // Last: it moves the server's clock a month on.
  it("the keys page's 'Idle for' filter lists the keys unused that long, on the server", async () => {
    kw.clock.advance(31 * DAY);
    await page.getByRole("link", { name: "API keys" }).click();
    await row("reporting-job").waitFor();
    await page.getByLabel("Idle for").selectOption("30");
    await row("reporting-job").waitFor();
    await page.getByLabel("Idle for").selectOption("60");
    await expect.poll(() => row("reporting-job").count()).toBe(0);
    await page.getByLabel("Idle for").selectOption("0");
    await row("reporting-job").waitFor();
  });
});
