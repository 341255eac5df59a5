// The README's grpc-js walkthrough (examples/grpc-walkthrough.ts), run as a
// user runs it, against a real server: it must keep printing what the README shows.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

const run = promisify(execFile);

describe("README walkthrough with a stock grpc-js client", () => {
  let kw: RunningKeyward;
  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
  });
  afterAll(async () => {
    await kw?.close();
  });

  it("registers, creates a policy and a key, and gets VALID, PERMISSION_DENIED, VALID, NOT_FOUND", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "examples/grpc-walkthrough.ts"], {
      env: { ...process.env, KEYWARD_ADDRESS: `127.0.0.1:${kw.port}`, KEYWARD_ADMIN_KEY: kw.adminKey },
    });
    expect(stdout).toMatch(/^created key \w{16} /m);
    expect(stdout).toContain("read invoices: CHECK_CODE_VALID");
    expect(stdout).toContain("write invoices: CHECK_CODE_PERMISSION_DENIED");
    expect(stdout).toContain("write invoices after widening: CHECK_CODE_VALID");
    expect(stdout).toContain("after deleting the policy: CHECK_CODE_NOT_FOUND");
  });
});
