// The usage chart (issue #23) in headless Chromium: after real checks, the
// Usage page draws checks per hour by verdict with uPlot, for the deployment,
// for a key picked from the list and on a key's detail view, and states the
// totals in words.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { NO_BROWSER, openDashboard, signIn, type Dashboard } from "../support/browser.js";
import type { RunningKeyward } from "../support/keyward.js";

describe.skipIf(NO_BROWSER)("the usage chart in the dashboard", () => {
  let kw: RunningKeyward;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    ({ kw, page } = dashboard = await openDashboard());
  }, 120_000);
  afterAll(() => dashboard?.close());

  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });
  /** Whether the figure's canvas has any pixel drawn. */
  const drawn = (figure: string) =>
    page.getByRole("figure", { name: figure }).locator("canvas").first().evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      return canvas.width > 0 && data.some((byte, i) => i % 4 === 3 && byte > 0);
    });

  it("draws a key's and the deployment's checks per hour after real checks", async () => {
    const policy = (await connectJson(kw.url, PolicyService.method.adminCreateApiKeyPolicy, { name: "charted", permissions: ["keyward.keys.check"] }, auth())).body as { policy: { id: string } };
    const expireTime = new Date(Date.now() + 86_400_000).toISOString();
    const created = (await connectJson(kw.url, ApiKeyService.method.adminCreateApiKey, { name: "charted-job", policyId: policy.policy.id, expireTime }, auth())).body as {
      apiKey: { id: string };
      credentials: string;
    };
    const check = (key: string, permissions: string[]) => connectJson(kw.url, CheckService.method.checkKey, { key, permissions }, auth());
    for (let i = 0; i < 3; i++) expect((await check(created.credentials, ["keyward.keys.check"])).body).toMatchObject({ valid: true });
    expect((await check(created.credentials, ["keyward.api_keys.write"])).body).toMatchObject({ code: "CHECK_CODE_PERMISSION_DENIED" });
    await check("not-a-key", []);
    // Counts reach the store within the flush interval (200 ms in tests).
    await expect
      .poll(async () => ((await connectJson(kw.url, ApiKeyService.method.adminGetApiKeyUsage, { id: created.apiKey.id }, auth())).body as { buckets?: unknown[] }).buckets?.length ?? 0)
      .toBe(1);

    await signIn(page, kw);
    await page.getByRole("link", { name: "Usage" }).click();
    const all = page.getByRole("figure", { name: "All keys" });
    await expect.poll(() => all.locator(".usage-totals").textContent()).toBe(" — VALID 3, PERMISSION_DENIED 1, MALFORMED 1");
    expect(await drawn("All keys")).toBe(true);
    // One series per code seen, in the legend.
    expect(await all.locator(".u-legend .u-series").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining("VALID"), expect.stringContaining("MALFORMED")]));

    await page.getByLabel("Key", { exact: true }).selectOption({ label: "charted-job" });
    const one = page.getByRole("figure", { name: "Key charted-job" });
    await expect.poll(() => one.locator(".usage-totals").textContent()).toBe(" — VALID 3, PERMISSION_DENIED 1");
    expect(await drawn("Key charted-job")).toBe(true);

    // The same chart on the key's detail view.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("button", { name: "Details of charted-job" }).click();
    const detail = page.getByRole("figure", { name: "Usage of charted-job" });
    await expect.poll(() => detail.locator(".usage-totals").textContent()).toBe(" — VALID 3, PERMISSION_DENIED 1");
    expect(await drawn("Usage of charted-job")).toBe(true);
  });
});
