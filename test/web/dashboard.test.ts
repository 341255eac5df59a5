/// <reference lib="dom" />
// The dashboard end to end in headless Chromium (Debian's package, driven by
// playwright-core): an admin signs in with the bootstrap key and does every
// task without a terminal. Screenshots for the README are taken on the way.
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { connectJson } from "../../harness/clients.js";
import { desktopContext, launchDashboardBrowser, NO_BROWSER } from "../support/browser.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

// The README's pictures are refreshed on request (UPDATE_SCREENSHOTS=1), so a
// test run leaves the work tree as it found it.
const SHOTS = process.env.UPDATE_SCREENSHOTS ? "docs/screenshots" : mkdtempSync(join(tmpdir(), "keyward-shots-"));

describe.skipIf(NO_BROWSER)("the dashboard in Chromium", () => {
  let kw: RunningKeyward;
  let browser: Browser;
  let page: Page;
  // A secret scanner's key pair, for a leak report to show in the audit log.
  const scanner = generateKeyPairSync("ec", { namedCurve: "P-256" });

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" }, { config: { leakReportPublicKeys: { "test-scanner": scanner.publicKey.export({ type: "spki", format: "pem" }) as string } } });
    browser = await launchDashboardBrowser();
    const context = await desktopContext(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: kw.url });
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await kw?.close();
  });

  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });
  const check = async (key: string, permissions: string[] = []) =>
    (await connectJson(kw.url, CheckService.method.checkKey, { key, permissions }, auth())).body;

  it("refuses a wrong key with a clear message, then signs in with the bootstrap key", async () => {
    await page.goto(kw.url);
    await page.screenshot({ path: `${SHOTS}/sign-in.png` });
    await page.getByLabel("Admin key").fill("kw_not_a_real_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not accepted");
    await page.getByLabel("Admin key").fill(kw.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it("creates a policy from a service's registered permissions", async () => {
    await connectJson(
      kw.url,
      PermissionService.method.registerPermissions,
      { service: "billing", permissions: [{ name: "billing.invoices.read", description: "Read invoices" }, { name: "billing.invoices.write" }] },
      auth(),
    );
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("button", { name: "New policy" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill("invoice-readers");
    await dialog.getByLabel("Search permissions").fill("invoices.read");
    await dialog.getByLabel(/billing\.invoices\.read/).check();
    await page.screenshot({ path: `${SHOTS}/policy-form.png` });
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByRole("cell", { name: /invoice-readers/ }).first().waitFor();
    await page.screenshot({ path: `${SHOTS}/policies.png` });
  });

  let credentials = "";

  it("shows a server error next to the field, then creates a key and shows its credentials once", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("button", { name: "New API key" }).click();
    const dialog = page.getByRole("dialog");
    // A rule declared in the protos (protovalidate), shown from the violation detail.
    await dialog.getByLabel("Name").fill("reporting-job ");
    await dialog.getByLabel("Policy").selectOption({ label: "invoice-readers" });
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => dialog.locator("#key-name-error").textContent()).toBe("must not start or end with spaces");
    // A rule the domain checks, shown from the message.
    await dialog.getByLabel("Name").fill("reporting-job");
    await dialog.getByLabel(/Allowed subnets/).fill("10.0.0.1/8");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => dialog.locator("#key-subnets-error").textContent()).toContain("the network is 10.0.0.0/8");
    await dialog.getByLabel(/Allowed subnets/).fill("");
    // The service the key belongs to: a bad name is shown next to the field, a good one is kept.
    await dialog.getByLabel(/^Service/).fill("Reporting");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => dialog.locator("#key-service-error").textContent()).toContain("lower-case letters");
    await dialog.getByLabel(/^Service/).fill("reporting");
    await dialog.getByRole("button", { name: "Create" }).click();
    const shown = page.getByRole("dialog", { name: "API key created" });
    await shown.waitFor();
    await expect.poll(() => shown.getByRole("alert").textContent()).toContain("cannot be shown again");
    await shown.getByRole("button", { name: "Copy" }).click();
    credentials = await page.evaluate(() => navigator.clipboard.readText());
    // The README's picture must not carry a string secret scanners would flag as a key.
    await shown.getByLabel("Credentials").evaluate((el) => ((el as HTMLInputElement).value = "kw_xxxxxxxxxxxxxxxx_… (shown once)"));
    await page.screenshot({ path: `${SHOTS}/credentials.png` });
    expect(credentials).toMatch(/^kw_/);
    expect(await check(credentials, ["billing.invoices.read"])).toMatchObject({ valid: true, code: "CHECK_CODE_VALID", service: "reporting" });
    await shown.getByRole("button", { name: "Done" }).click();
    await page.getByRole("cell", { name: /reporting-job/ }).first().waitFor();
    expect(await page.locator("tr", { hasText: "reporting-job" }).locator(".service").textContent()).toBe("reporting");
  });

  it("keeps no credentials after a reload", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    const html = await page.content();
    expect(html).not.toContain(credentials);
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(credentials.split("_")[2]!);
    await page.screenshot({ path: `${SHOTS}/keys.png` });
  });

  it("rotates, then retires a key, each confirmed, and shows its state", async () => {
    await page.getByRole("button", { name: "Rotate reporting-job" }).click();
    const rotate = page.getByRole("dialog");
    await rotate.getByLabel(/Hours the current secret keeps working/).fill("0");
    await rotate.getByRole("button", { name: "Rotate" }).click();
    const shown = page.getByRole("dialog", { name: "API key rotated" });
    await shown.waitFor();
    const rotated = await shown.getByLabel("Credentials").inputValue();
    await shown.getByRole("button", { name: "Done" }).click();
    expect(await check(credentials)).toMatchObject({ code: "CHECK_CODE_NOT_FOUND" });
    expect(await check(rotated)).toMatchObject({ code: "CHECK_CODE_VALID" });

    await page.getByRole("button", { name: "Retire reporting-job" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Retire" }).click();
    await expect.poll(() => page.locator("tr", { hasText: "reporting-job" }).locator(".state").textContent()).toBe("Retired");
    expect(await check(rotated)).toMatchObject({ code: "CHECK_CODE_RETIRED" });
  });

  it("lists permissions by service and the audit log", async () => {
    await page.getByRole("link", { name: "Permissions" }).click();
    await page.getByRole("region", { name: "billing" }).getByText("billing.invoices.read").waitFor();
    await page.getByRole("link", { name: "Audit log" }).click();
    // Actions read as phrases (dashboard-audit.test.ts covers the words in full).
    await page.getByRole("cell", { name: /^retired key / }).first().waitFor();
    await page.screenshot({ path: `${SHOTS}/audit.png` });
  });

  it("shows who retired a key when no key did: a leak report's signer, source and URL", async () => {
    const admin = (await connectJson(kw.url, ApiKeyService.method.adminGetApiKey, { id: kw.keyward.bootstrapKeyId }, auth())).body as { apiKey: { policyId: string } };
    const created = await connectJson(
      kw.url,
      ApiKeyService.method.adminCreateApiKey,
      { name: "leaky-job", policyId: admin.apiKey.policyId, expireTime: new Date(kw.clock.now().getTime() + 86_400_000).toISOString() },
      auth(),
    );
    const { credentials } = created.body as { credentials: string };
    const body = JSON.stringify([{ token: credentials, type: "keyward_api_key", url: "https://github.com/octocat/hello/blob/abc/.env", source: "commit" }]);
    const signature = sign("sha256", Buffer.from(body), { key: scanner.privateKey, dsaEncoding: "der" }).toString("base64");
    const report = await fetch(`${kw.url}/api/v1/leak_reports`, {
      method: "POST",
      headers: { "Github-Public-Key-Identifier": "test-scanner", "Github-Public-Key-Signature": signature },
      body,
    });
    expect(report.status).toBe(200);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("cell", { name: /^Keyward itself.*leak report signed by test-scanner; source: commit; url: https:\/\/github.com\/octocat/ }).waitFor();
    await page.getByRole("cell", { name: "retired key leaky-job (leak report)" }).waitFor();
  });

  it("deletes a policy after saying how many keys go with it", async () => {
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("button", { name: "Delete invoice-readers" }).click();
    const confirm = page.getByRole("dialog");
    await expect.poll(() => confirm.textContent()).toContain("its 1 API key");
    await confirm.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await expect.poll(async () => page.getByRole("cell", { name: /reporting-job/ }).count()).toBe(0);
  });

  it("is usable at 375 px and with the keyboard", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByRole("link", { name: "API keys" }).click();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SHOTS}/keys-375.png` });
    // Keyboard: Tab reaches "New API key", Enter opens the dialog, Escape closes it.
    await page.getByRole("button", { name: "New API key" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "New API key" }).waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    await page.setViewportSize({ width: 1200, height: 800 });
  });

  it("signs out and forgets the key", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
