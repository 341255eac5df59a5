/// <reference lib="dom" />
// Issue #17, item 1, in the dashboard: two-segment and deeper permission
// names are listed under their service, grouped by the prefix they sit under,
// and a policy can be made from them and from prefix patterns (billing.invoices.*).
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { desktopContext, launchDashboardBrowser, NO_BROWSER, signIn } from "../support/browser.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";


describe.skipIf(NO_BROWSER)("permission names of any depth in the dashboard", () => {
  let kw: RunningKeyward;
  let browser: Browser;
  let page: Page;
  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    for (const [service, names] of [
      ["orders", ["orders.read", "orders.write"]],
      ["billing", ["billing.read", "billing.invoices.read", "billing.invoices.lines.read"]],
    ] as const) {
      await connectJson(kw.url, PermissionService.method.registerPermissions, { service, permissions: names.map((name) => ({ name })) }, auth());
    }
    browser = await launchDashboardBrowser();
    page = await (await desktopContext(browser)).newPage();
    await signIn(page, kw);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await kw?.close();
  });

  it("lists orders.read under orders, and billing's deeper names under their prefixes", async () => {
    await page.getByRole("link", { name: "Permissions" }).click();
    const orders = page.getByRole("region", { name: "orders" });
    await orders.getByText("orders.read").waitFor();
    const billing = page.getByRole("region", { name: "billing" });
    await billing.getByText("billing.invoices.lines.read").waitFor();
    expect(await billing.getByRole("heading").allTextContents()).toEqual(["billing", "billing.invoices.*", "billing.invoices.lines.*"]);
  });

  it("creates a policy holding orders.read and the pattern billing.invoices.*", async () => {
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("button", { name: "New policy" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill("depth");
    await dialog.getByLabel("orders.read", { exact: true }).check();
    await dialog.getByLabel(/billing\.invoices\.\* — all under billing\.invoices,/).check();
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByRole("cell", { name: /depth/ }).first().waitFor();
    const listed = await connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicies, {}, auth());
    const policies = listed.body.policies as Array<{ name: string; permissions: string[] }>;
    expect(policies.find((p) => p.name === "depth")?.permissions.sort()).toEqual(["billing.invoices.*", "orders.read"]);
  });
});
