// kill -9 during a stream of admin writes: every acknowledged write survives,
// with its audit event, and nothing is left half-written.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connectJson } from "../../harness/clients.js";
import { startKeywardProcess } from "../../harness/process.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";

const startProcess = (databaseUrl: string, keyFile: string) =>
  startKeywardProcess({ DATABASE_URL: databaseUrl, KEYWARD_BOOTSTRAP_KEY_FILE: keyFile, KEYWARD_ARGON2_MEMORY_KIB: "64", KEYWARD_ARGON2_ITERATIONS: "1" });

describe.skipIf(!POSTGRES_URL)("kill -9 during admin writes", () => {
  it("loses no acknowledged write and leaves no orphan or audit gap", async () => {
    const databaseUrl = await freshPostgresDatabase();
    const keyFile = join(mkdtempSync(join(tmpdir(), "keyward-crash-")), "admin.key");
    const first = await startProcess(databaseUrl, keyFile);
    const auth = { authorization: `Bearer ${readFileSync(keyFile, "utf8").trim()}` };
    const acknowledged: Array<{ policyId: string; keyId?: string }> = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const p = await connectJson(first.url, PolicyService.method.adminCreateApiKeyPolicy, { name: `p-${w}-${i}`, permissions: ["keyward.keys.check"] }, auth);
          if (p.status !== 200) continue;
          const entry: { policyId: string; keyId?: string } = { policyId: (p.body.policy as { id: string }).id };
          acknowledged.push(entry);
          const k = await connectJson(
            first.url,
            ApiKeyService.method.adminCreateApiKey,
            { name: `k-${w}-${i}`, policyId: entry.policyId, expireTime: new Date(Date.now() + 86_400_000).toISOString() },
            auth,
          );
          if (k.status === 200) entry.keyId = (k.body.apiKey as { id: string }).id;
        } catch {
          return; // the process is gone
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    first.child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(5);

    const second = await startProcess(databaseUrl, keyFile);
    try {
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const policies = new Set((await db.query<{ id: string }>("select id from policies")).rows.map((r) => r.id));
        const keys = new Set((await db.query<{ id: string }>("select id from api_keys")).rows.map((r) => r.id));
        const audited = new Set((await db.query<{ target: string }>("select target from audit_events where outcome = 'OK'")).rows.map((r) => r.target));
        for (const a of acknowledged) {
          expect(policies.has(a.policyId), a.policyId).toBe(true);
          expect(audited.has(`policies/${a.policyId}`)).toBe(true);
          if (a.keyId) {
            expect(keys.has(a.keyId)).toBe(true);
            expect(audited.has(`api_keys/${a.keyId}`)).toBe(true);
          }
        }
        // No key without its policy, and no mutation without its audit event.
        expect((await db.query("select count(*)::int as n from api_keys k left join policies p on p.id = k.policy_id where p.id is null")).rows[0].n).toBe(0);
        const unaudited = await db.query(
          "select count(*)::int as n from policies p where p.name like 'p-%' and not exists (select 1 from audit_events a where a.target = 'policies/' || p.id)",
        );
        expect(unaudited.rows[0].n).toBe(0);
      } finally {
        await db.end();
      }
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
    }
  });
});
