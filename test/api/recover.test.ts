// `npm run recover` (issue #15, defect 4): whoever can reach the store can
// always get a new admin key, even after every admin key and the keyward-admin
// policy are gone. It runs as a real process on the same configuration as
// `npm start`, prints the key once, and audits the recovery.
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { connectJson } from "../../harness/clients.js";
import { startKeyward } from "../support/keyward.js";
import type { StoreLocation } from "../../src/storage/open.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the build `npm run recover` runs (dist/src/recover.js, from the globalSetup) with the store's configuration, as an operator would. */
function recover(store: StoreLocation, extraEnv: Record<string, string> = {}): Promise<Run> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: store.kind === "postgres" ? store.url : "",
    KEYWARD_DATA_DIR: store.kind === "pglite" ? store.dataDir! : "",
    KEYWARD_BOOTSTRAP_KEY_FILE: "",
    KEYWARD_ARGON2_MEMORY_KIB: "8",
    KEYWARD_ARGON2_ITERATIONS: "1",
    LOG_LEVEL: "warn",
    ...extraEnv,
  };
  const child = spawn(process.execPath, ["dist/src/recover.js"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

const KEY = /kw_[A-Za-z0-9]+_[A-Za-z0-9_-]+/g;

const stores: Array<[string, () => Promise<StoreLocation>]> = [
  ["pglite", async () => ({ kind: "pglite", dataDir: join(await mkdtemp(join(tmpdir(), "keyward-recover-")), "data") })],
  ...(POSTGRES_URL ? [["postgres", async () => ({ kind: "postgres" as const, url: await freshPostgresDatabase() })] as [string, () => Promise<StoreLocation>]] : []),
];

describe.each(stores)("npm run recover on %s", (_name, create) => {
  it("issues a working admin key after every admin key and the keyward-admin policy were deleted in the store", { timeout: 120_000 }, async () => {
    const store = await create();
    const first = await startKeyward(store);
    const oldKey = first.adminKey;
    // Lose everything: no key, no admin policy (as a careless SQL session might).
    await first.keyward.store.db.deleteFrom("api_keys").execute();
    await first.keyward.store.db.deleteFrom("policies").execute();
    await first.close();

    const run = await recover(store);
    expect(run.code, run.stderr).toBe(0);
    const keys = run.stdout.match(KEY) ?? [];
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).not.toBe(oldKey);
    // One line with the key and what it is; nothing else that looks secret.
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/argon2|\$v=19/);

    const second = await startKeyward(store);
    try {
      expect(second.adminKey).toBe(""); // the bootstrap is not issued again
      const auth = { authorization: `Bearer ${key}` };
      const policies = await connectJson(second.url, PolicyService.method.adminGetApiKeyPolicies, {}, auth);
      expect(policies.status).toBe(200);
      expect(policies.body.policies).toEqual([expect.objectContaining({ name: "keyward-admin", permissions: ["*"], apiKeyCount: 1 })]);
      const created = await connectJson(second.url, PolicyService.method.adminCreateApiKeyPolicy, { name: "after-recovery", permissions: ["keyward.keys.check"] }, auth);
      expect(created.status).toBe(200);
      const events = await connectJson(second.url, AuditService.method.adminListAuditEvents, {}, auth);
      const recovery = (events.body.auditEvents as Array<{ action: string; target: string; actorKeyId?: string }>).find((e) => e.action === "RecoverAdminKey" && e.target.startsWith("api_keys/"));
      expect(recovery).toMatchObject({ action: "RecoverAdminKey", target: expect.stringMatching(/^api_keys\//) });
      expect(JSON.stringify(events.body)).not.toContain(key);
    } finally {
      await second.close();
    }
  });

  it("reuses an existing keyward-admin policy and writes the key to KEYWARD_BOOTSTRAP_KEY_FILE when set", { timeout: 120_000 }, async () => {
    const store = await create();
    const first = await startKeyward(store);
    await first.keyward.store.db.updateTable("api_keys").set({ state: "retired" }).execute();
    await first.close();
    const file = join(await mkdtemp(join(tmpdir(), "keyward-recover-file-")), "admin.key");

    const run = await recover(store, { KEYWARD_BOOTSTRAP_KEY_FILE: file });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(KEY);
    const { readFile, stat } = await import("node:fs/promises");
    const key = (await readFile(file, "utf8")).trim();
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await startKeyward(store);
    try {
      const policies = await connectJson(second.url, PolicyService.method.adminGetApiKeyPolicies, {}, { authorization: `Bearer ${key}` });
      expect(policies.body.policies).toEqual([expect.objectContaining({ name: "keyward-admin", apiKeyCount: 2 })]);
    } finally {
      await second.close();
    }
  });
});
