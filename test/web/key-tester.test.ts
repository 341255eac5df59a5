// The key tester (issue #23) in headless Chromium: a pasted key's verdict in
// words, from the real CheckKey: a valid key with its name and policy, the
// permission a key's policy lacks, and a forged key as unknown. The pasted key
// never reaches the page's URL or storage.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { NO_BROWSER, openDashboard, signIn, type Dashboard } from "../support/browser.js";
import { DAY } from "../support/fixtures.js";
import type { RunningKeyward } from "../support/keyward.js";

describe.skipIf(NO_BROWSER)("the key tester in the dashboard", () => {
  let kw: RunningKeyward;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    ({ kw, page } = dashboard = await openDashboard());
  }, 120_000);
  afterAll(() => dashboard?.close());

  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });
  const verdict = () => page.getByRole("status", { name: "Verdict" });
  async function test(key: string, permissions: string) {
    await page.getByLabel("Key", { exact: true }).fill(key);
    await page.getByLabel(/^Permissions/).fill(permissions);
    await page.getByRole("button", { name: "Test", exact: true }).click();
    await verdict().waitFor();
    return (await verdict().locator(".verdict-text").textContent()) ?? "";
  }

  it("says VALID with the key's name and policy, names a missing permission, and calls a forged key unknown", async () => {
    await connectJson(
      kw.url,
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.invoices.read" }, { name: "billing.invoices.write" }] },
      auth(),
    );
    const policy = (await connectJson(kw.url, PolicyService.method.adminCreateApiKeyPolicy, { name: "invoice-reader", permissions: ["billing.invoices.read"] }, auth())).body as {
      policy?: { id: string };
    };
    expect(policy.policy).toBeDefined();
    const created = (await connectJson(kw.url, ApiKeyService.method.adminCreateApiKey, { name: "billing-job", policyId: policy.policy!.id, expireTime: new Date(kw.clock.now().getTime() + 30 * DAY).toISOString() }, auth()))
      .body as { apiKey: { id: string }; credentials: string };

    await signIn(page, kw);
    await page.getByRole("link", { name: "Test a key" }).click();
    await page.getByRole("heading", { name: "Test a key" }).waitFor();

    // Hidden as typed, shown on request.
    const input = page.getByLabel("Key", { exact: true });
    expect(await input.getAttribute("type")).toBe("password");
    await page.getByRole("button", { name: "Show key" }).click();
    expect(await input.getAttribute("type")).toBe("text");

    expect(await test(created.credentials, "billing.invoices.read")).toBe("VALID: key billing-job under policy invoice-reader");
    expect(await verdict().getAttribute("class")).toBe("verdict valid");
    expect(await verdict().textContent()).toContain(created.apiKey.id);
    expect(await verdict().locator("time").textContent()).toMatch(/^in (4 weeks|30 days|1 month)$/);

    expect(await test(created.credentials, "billing.invoices.read, billing.invoices.write")).toBe("Denied: the key's policy lacks billing.invoices.write.");
    expect(await verdict().getAttribute("class")).toBe("verdict denied");

    // Same shape, other secret: no key has this id and secret.
    const forged = created.credentials.replace(/_[^_]+$/, `_${"A".repeat(created.credentials.split("_").pop()!.length)}`);
    expect(await test(forged, "")).toMatch(/^Unknown key: /);

    // The key was in the check's body only: not in the URL, not in storage.
    expect(page.url()).not.toContain(created.credentials);
    expect(page.url()).not.toContain(created.credentials.split("_").pop()!);
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
    expect(stored).not.toContain(created.credentials);
  });
});
