/// <reference lib="dom" />
// Usage limits in the dashboard (issue #20), in headless Chromium: an admin
// gives a key a rate limit and credits when creating it, reads them (and the
// credits left) in the list, changes the credits, and clears the rate limit.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { launchDashboardBrowser, NO_BROWSER, signIn } from "../support/browser.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

describe.skipIf(NO_BROWSER)("usage limits in the dashboard", () => {
  let kw: RunningKeyward;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    browser = await launchDashboardBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: kw.url });
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await kw?.close();
  });

  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });
  const check = async (key: string) => (await connectJson(kw.url, CheckService.method.checkKey, { key, permissions: [] }, auth())).body;
  const row = () => page.locator("tr", { hasText: "metered-job" });

  it("creates a key with a rate limit and credits, shows them, changes the credits and clears the rate limit", async () => {
    await connectJson(kw.url, PermissionService.method.registerPermissions, { service: "billing", permissions: [{ name: "billing.invoices.read" }] }, auth());
    await connectJson(kw.url, PolicyService.method.adminCreateApiKeyPolicy, { name: "metered", permissions: ["billing.invoices.read"] }, auth());
    await signIn(page, kw);
    await page.getByRole("heading", { name: "API keys" }).waitFor();

    await page.getByRole("button", { name: "New API key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("metered-job");
    await dialog.getByLabel("Policy").selectOption({ label: "metered" });
    await dialog.getByLabel(/^Rate limit/).fill("10");
    await dialog.getByLabel("per", { exact: true }).selectOption({ label: "second" });
    await dialog.getByLabel(/^Credits/).fill("3");
    await dialog.getByLabel(/^Refill to/).fill("100");
    await dialog.getByLabel("each", { exact: true }).selectOption("day");
    await dialog.getByRole("button", { name: "Create" }).click();
    const shown = page.getByRole("dialog", { name: "API key created" });
    await shown.waitFor();
    const credentials = await shown.getByLabel("Credentials").inputValue();
    await shown.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => row().locator(".limits").textContent()).toBe("10/second; 3 credits left, refilled to 100 each day");

    // The key meets its limits.
    expect(await check(credentials)).toMatchObject({ code: "CHECK_CODE_VALID", remaining: "2" });

    await page.getByRole("button", { name: "Limits of metered-job" }).click();
    const edit = page.getByRole("dialog");
    await edit.getByLabel(/^Rate limit/).fill("");
    await edit.getByLabel(/^Credits/).fill("0");
    await edit.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => row().locator(".limits").textContent()).toBe("0 credits left, refilled to 100 each day");
    expect(await check(credentials)).toMatchObject({ code: "CHECK_CODE_USAGE_EXCEEDED", remaining: "0" });
  });
});
