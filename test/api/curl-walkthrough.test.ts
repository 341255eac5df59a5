// The README's curl walkthrough (examples/curl-walkthrough.sh), run as a user
// runs it, with the real curl binary, on each store: it must keep printing what
// the README shows, and stop with Keyward's own message when refused.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { TEST_STORES } from "../support/stores.js";

const run = promisify(execFile);

describe.each(TEST_STORES)("the README's curl walkthrough on $name", (store) => {
  let kw: RunningKeyward;
  beforeAll(async () => {
    kw = await startKeyward(await store.create());
  });
  afterAll(async () => {
    await kw?.close();
  });

  const walkthrough = (adminKey: string) => run("bash", ["examples/curl-walkthrough.sh"], { env: { ...process.env, KEYWARD_URL: kw.url, KEYWARD_ADMIN_KEY: adminKey } });

  it("runs with the real curl binary, twice against the same Keyward", async () => {
    await walkthrough(kw.adminKey);
    const { stdout } = await walkthrough(kw.adminKey);
    expect(stdout.split("\n").slice(1, -1)).toEqual([
      "read /invoices/7: CHECK_CODE_VALID",
      "read /payroll: CHECK_CODE_CONSTRAINT_DENIED",
      "write /invoices: CHECK_CODE_PERMISSION_DENIED",
      "write /invoices after widening: CHECK_CODE_VALID",
      "old secret during the overlap: CHECK_CODE_VALID",
      "new secret: CHECK_CODE_VALID",
      "listed as expiring within 45 days: yes",
      "listed by label team=reporting and name: yes",
      "audit events for the key: 2",
      "after retiring: CHECK_CODE_RETIRED",
      "revoked by possession: {}",
      "after revoking by possession: CHECK_CODE_RETIRED",
      "deleted with the policy: 2 key(s)",
    ]);
  });

  it("stops with Keyward's own message, never a JSON parse error or the key it was given", async () => {
    const wrongKey = `kw_${"x".repeat(40)}`;
    const failed = await walkthrough(wrongKey).then(
      () => expect.unreachable("the walkthrough ran with a wrong admin key"),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`keyward refused ${kw.url}/api/v1/services/billing/permissions: {"code":16,"message":"invalid API key","details":[]}\n`);
  });
});
