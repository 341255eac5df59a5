/// <reference lib="dom" />
// The dashboard says plainly when an action removes the key you are signed in
// with (issue #15, defect 4): deleting or retiring that key, deleting its
// policy, or narrowing that policy; and signs out once the key is gone.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { NO_BROWSER, openDashboard, type Dashboard } from "../support/browser.js";
import type { RunningKeyward } from "../support/keyward.js";


describe.skipIf(NO_BROWSER)("the dashboard warns before removing the signed-in key", () => {
  let kw: RunningKeyward;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    ({ kw, page } = dashboard = await openDashboard());
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(() => dashboard?.close());

  const auth = () => ({ authorization: `Bearer ${kw.adminKey}` });
  /** A policy holding `*` and an admin key on it, made with the bootstrap key. */
  async function adminKeyOnNewPolicy(name: string): Promise<string> {
    const policy = await connectJson(kw.url, PolicyService.method.adminCreateApiKeyPolicy, { name, permissions: ["*"] }, auth());
    const policyId = (policy.body.policy as { id: string }).id;
    const expireTime = new Date(Date.now() + 86_400_000).toISOString();
    const key = await connectJson(kw.url, ApiKeyService.method.adminCreateApiKey, { name: `${name}-key`, policyId, expireTime }, auth());
    return key.body.credentials as string;
  }
  async function signIn(key: string) {
    await page.goto(kw.url);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel("Admin key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  }
  const signedOut = () => page.getByLabel("Admin key").waitFor();

  it("deleting the signed-in key says so, then signs out", async () => {
    await adminKeyOnNewPolicy("ops");
    await signIn(await adminKeyOnNewPolicy("mine"));
    // Another key's confirmation stays generic.
    await page.getByRole("button", { name: "Delete ops-key" }).click();
    expect(await page.getByRole("dialog").textContent()).not.toContain("signed in with");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

    await page.getByRole("button", { name: "Delete mine-key" }).click();
    const confirm = page.getByRole("dialog");
    await expect.poll(() => confirm.textContent()).toContain("This deletes the key you are signed in with; you will be signed out");
    await confirm.getByRole("button", { name: "Delete" }).click();
    await signedOut();
  });

  it("retiring the signed-in key says so", async () => {
    await signIn(await adminKeyOnNewPolicy("retiring"));
    await page.getByRole("button", { name: "Retire retiring-key" }).click();
    await expect.poll(() => page.getByRole("dialog").textContent()).toContain("This retires the key you are signed in with; you will be signed out");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  });

  it("deleting the signed-in key's policy says so, then signs out", async () => {
    await signIn(await adminKeyOnNewPolicy("doomed"));
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("button", { name: "Delete doomed" }).click();
    const confirm = page.getByRole("dialog");
    await expect.poll(() => confirm.textContent()).toContain("This deletes the key you are signed in with (it is on this policy); you will be signed out");
    await confirm.getByRole("button", { name: "Delete" }).click();
    await signedOut();
  });

  it("narrowing the signed-in key's policy asks first", async () => {
    await signIn(kw.adminKey);
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("button", { name: "Edit keyward-admin" }).click();
    const form = page.getByRole("dialog").first();
    await form.getByRole("checkbox", { name: /every permission of every service/ }).uncheck();
    await form.getByRole("checkbox", { name: /all of keyward, now and later/ }).check();
    await form.getByRole("button", { name: "Save" }).click();
    const confirm = page.locator("dialog", { hasText: "This narrows the policy of the key you are signed in with" }).last(); // nested in the form
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('removing *');
    await confirm.getByRole("button", { name: "Cancel" }).click();
    // Nothing was saved.
    const policies = await connectJson(kw.url, PolicyService.method.adminGetApiKeyPolicies, {}, auth());
    expect((policies.body.policies as Array<{ name: string; permissions: string[] }>).find((p) => p.name === "keyward-admin")?.permissions).toEqual(["*"]);
  });
});
