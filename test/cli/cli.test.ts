// The admin CLI as scripts run it: a real process, through the bin launcher as npx
// runs it (the build the globalSetup made; the audit follower runs the sources
// through tsx, the launcher's fallback in a checkout), against a real Keyward on
// PGlite. The CLI is a Connect client only, so one store is enough: the stores are
// covered by the API suites.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const KEY = /^kw_[0-9A-Za-z]{16}_[0-9A-Za-z]{39}$/;

// Each run starts a Node process (the built CLI takes ~0.3 s; through tsx it took ~1 s),
// and the machine may be shared: each test may take two minutes.
describe("keyward CLI", { timeout: 120_000 }, () => {
  let kw: RunningKeyward;
  let dir: string;
  /** Every run's stderr, to check that no credential ever reached it. */
  const stderrs: string[] = [];

  beforeAll(async () => {
    kw = await startKeyward({ kind: "pglite" });
    dir = await mkdtemp(join(tmpdir(), "keyward-cli-"));
  });
  afterAll(async () => {
    await kw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs `keyward …` with the admin key in the environment unless `env` says otherwise. */
  function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
    const fullEnv: Record<string, string | undefined> = { ...process.env, KEYWARD_URL: kw.url, KEYWARD_ADMIN_KEY: kw.adminKey, ...env };
    for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
    return new Promise((resolve) => {
      execFile(process.execPath, ["bin/keyward.mjs", ...args], { env: fullEnv }, (err, stdout, stderr) => {
        stderrs.push(stderr);
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      });
    });
  }
  const json = async (args: string[]) => {
    const run = await cli([...args, "--json"]);
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: "" });
    return JSON.parse(run.stdout) as Record<string, any>;
  };

  it("explains itself: commands, the admin key's sources and the exit codes", async () => {
    const [top, create] = await Promise.all([cli(["--help"]), cli(["keys", "create", "--help"])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("keys rotate");
    expect(top.stdout).toContain("KEYWARD_ADMIN_KEY");
    expect(top.stdout).toMatch(/never taken as an argument/);
    expect(top.stdout).toMatch(/^ {2}5 +unavailable/m);
    expect(create.code).toBe(0);
    expect(create.stdout).toMatch(/--ttl DURATION/);
    expect(create.stdout).toMatch(/--constraint TYPE:VALUE .*\(repeatable\)/);
  });

  // Runs in stages: the calls within one stage are independent and run at once.
  it("takes a key through its life: permissions, policy, create (credentials once), list, rotate, retire, delete", async () => {
    const perms = join(dir, "billing.json");
    await writeFile(perms, JSON.stringify({ service: "billing", permissions: [{ name: "billing.invoices.read", description: "Read invoices" }] }));
    const registered = await cli(["permissions", "register", "--file", perms]);
    expect(registered).toMatchObject({ code: 0, stdout: "Registered 1 permission(s) of billing.\n" });

    const [permissions, { policy }] = await Promise.all([
      json(["permissions", "list"]),
      json(["policies", "create", "--name", "billing-readers", "--permission", "billing.invoices.read", "--permission", "keyward.keys.check"]),
    ]);
    expect(permissions.permissions).toContainEqual(expect.objectContaining({ name: "billing.invoices.read", registered: true }));
    expect(policy).toMatchObject({ name: "billing-readers", permissions: ["billing.invoices.read", "keyward.keys.check"] });

    const expires = new Date(Date.now() + 100 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const [made, scripted] = await Promise.all([
      cli(["keys", "create", "--name", "invoicer", "--policy", policy.id, "--ttl", "30d", "--service", "billing"]),
      json(["keys", "create", "--name", "invoicer-2", "--policy", policy.id, "--expires", expires]),
    ]);
    // For people: the key's fields, then the credentials, marked, on stdout only.
    expect(made).toMatchObject({ code: 0, stderr: "" });
    const lines = made.stdout.trimEnd().split("\n");
    const credentials = lines.at(-1)!;
    expect(credentials).toMatch(KEY);
    expect(lines.at(-2)).toMatch(/^Credentials \(shown this once/);
    expect(made.stdout).toMatch(/^name: +invoicer$/m);
    const id = /^id: +(\S+)$/m.exec(made.stdout)![1]!;
    expect(credentials).toContain(id);
    // For scripts: one JSON document with the credentials in it.
    expect(scripted.credentials).toMatch(KEY);
    expect(scripted.apiKey).toMatchObject({ name: "invoicer-2", policyId: policy.id, expireTime: expires, state: "API_KEY_STATE_ACTIVE" });

    const [table, listed, rotated, asNewKey] = await Promise.all([
      cli(["keys", "list", "--policy", policy.id]),
      json(["keys", "list", "--policy", policy.id, "--limit", "1"]),
      json(["keys", "rotate", id, "--overlap", "1h"]),
      // The printed credentials are a real key: it authenticates, and lacks the admin permission.
      cli(["keys", "list"], { KEYWARD_ADMIN_KEY: scripted.credentials }),
    ]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID +NAME +POLICY +STATE +EXPIRES +LAST USED +SERVICE$/);
    expect(rows).toHaveLength(2);
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${id} +invoicer +${policy.id} +active +\\S+Z +- +billing$`)));
    // Aligned: every column starts where its header does.
    for (const row of rows) expect(row.indexOf(policy.id)).toBe(header!.indexOf("POLICY"));
    expect(listed.apiKeys).toHaveLength(1);
    expect(listed.nextPageToken).toBeTruthy();
    expect(rotated.credentials).toMatch(KEY);
    expect(rotated.credentials).not.toBe(credentials);
    expect(Date.parse(rotated.previousExpireTime) - Date.now()).toBeGreaterThan(50 * 60_000);
    expect(asNewKey).toMatchObject({ code: 3, stderr: expect.stringMatching(/^keyward: permission_denied: /) });

    const updated = await json(["keys", "update", id, "--name", "invoicer-renamed", "--subnet", "10.0.0.0/8"]);
    expect(updated.apiKey).toMatchObject({ name: "invoicer-renamed", allowedSubnets: ["10.0.0.0/8"], service: "billing" });

    const retired = await cli(["keys", "retire", id]);
    expect(retired.stdout).toMatch(/^state: +retired$/m);
    const [got, active] = await Promise.all([json(["keys", "get", id]), json(["keys", "list", "--state", "active", "--policy", policy.id])]);
    expect(got.apiKey.state).toBe("API_KEY_STATE_RETIRED");
    expect(active).toMatchObject({ apiKeys: [{ name: "invoicer-2" }] });

    expect(await cli(["keys", "delete", id])).toMatchObject({ code: 0, stdout: `Deleted API key ${id}.\n` });
    const [gone, audit] = await Promise.all([cli(["keys", "get", id]), json(["audit", "tail", "-n", "50"])]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^keyward: not_found: /);
    // Oldest first, as tail prints: the last three writes are this key's.
    const actions = audit.auditEvents.filter((e: { target: string }) => e.target.endsWith(id)).map((e: { action: string }) => e.action);
    expect(actions.slice(-3)).toEqual(["AdminUpdateApiKey", "AdminRetireApiKey", "AdminDeleteApiKey"]);

    const dropped = await json(["policies", "delete", policy.id]);
    expect(dropped.deletedApiKeyCount).toBe(1);
  });

  it("exits with the documented code for each kind of failure, naming the cause on stderr", async () => {
    const [unknownFlag, missing, unknownCommand, badTtl, notFound, badKey, noKey, invalid, unreachable] = await Promise.all([
      cli(["keys", "list", "--nme", "x"]),
      cli(["keys", "create", "--name", "x", "--ttl", "1d"]),
      cli(["kyes", "list"]),
      cli(["keys", "create", "--name", "x", "--policy", "p", "--ttl", "soon"]),
      cli(["policies", "get", "NoSuchPolicy0000"]),
      cli(["keys", "list"], { KEYWARD_ADMIN_KEY: "kw_AAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" }),
      cli(["keys", "list"], { KEYWARD_ADMIN_KEY: undefined }),
      cli(["policies", "create", "--name", "bad", "--permission", "no.such.permission"]),
      cli(["keys", "list"], { KEYWARD_URL: "http://127.0.0.1:1" }),
    ]);
    expect(unknownFlag).toMatchObject({ code: 1, stdout: "" });
    expect(unknownFlag.stderr).toMatch(/--nme/);
    expect(missing).toMatchObject({ code: 1, stderr: "keyward: --policy is required (keyward keys create --help shows its flags)\n" });
    expect(unknownCommand).toMatchObject({ code: 1, stderr: expect.stringMatching(/unknown command "kyes"/) });
    expect(badTtl).toMatchObject({ code: 1, stderr: expect.stringMatching(/--ttl: "soon" is not a duration/) });
    expect(notFound.code).toBe(2);
    expect(badKey).toMatchObject({ code: 3, stderr: expect.stringMatching(/^keyward: unauthenticated: /) });
    expect(noKey).toMatchObject({ code: 3, stderr: expect.stringMatching(/KEYWARD_ADMIN_KEY or pass --key-file/) });
    expect(invalid).toMatchObject({ code: 4, stderr: expect.stringMatching(/no\.such\.permission/) });
    expect(unreachable).toMatchObject({ code: 5, stderr: expect.stringMatching(/^keyward: unavailable: /) });
    // With --json the error is JSON too.
    const scripted = await cli(["policies", "get", "NoSuchPolicy0000", "--json"]);
    expect(scripted.code).toBe(2);
    expect(JSON.parse(scripted.stderr)).toMatchObject({ code: "not_found", exitCode: 2 });
  });

  it("reads the admin key from --key-file", async () => {
    const file = join(dir, "admin.key");
    await writeFile(file, `${kw.adminKey}\n`, { mode: 0o600 });
    const viaFile = await cli(["policies", "list", "--key-file", file], { KEYWARD_ADMIN_KEY: undefined });
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(viaFile.stdout).toMatch(/^ID +NAME +KEYS +PERMISSIONS\n[^]*keyward-admin +1 +\*$/m);
  });

  it("follows the audit log: an action taken while tailing shows up", async () => {
    const before = await json(["policies", "create", "--name", "before-tail"]);
    const env = { ...process.env, KEYWARD_URL: kw.url, KEYWARD_ADMIN_KEY: kw.adminKey };
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "audit", "tail", "-n", "1", "--follow", "--interval", "100ms", "--json"], { env });
    try {
      const lines: string[] = [];
      createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
      const waitFor = async (test: (events: any[]) => boolean) => {
        for (let i = 0; i < 300 && !test(lines.map((l) => JSON.parse(l))); i++) await new Promise((r) => setTimeout(r, 50));
        return lines.map((l) => JSON.parse(l));
      };
      // -n 1: the newest event only.
      expect(await waitFor((e) => e.length >= 1)).toEqual([expect.objectContaining({ target: `policies/${before.policy.id}` })]);
      const made = await json(["policies", "create", "--name", "tailed"]);
      const events = await waitFor((e) => e.some((x) => x.target === `policies/${made.policy.id}`));
      expect(events.at(-1)).toMatchObject({ action: "AdminCreateApiKeyPolicy", target: `policies/${made.policy.id}`, outcome: "OK" });
      // Printed once, not again at each poll.
      await new Promise((r) => setTimeout(r, 400));
      expect(lines.filter((l) => l.includes(made.policy.id))).toHaveLength(1);
    } finally {
      child.kill();
    }
  });

  it("lists every policy, past the server's first page of 50", async () => {
    const names = Array.from({ length: 55 }, (_, i) => `paged-${String(i).padStart(2, "0")}`);
    for (const name of names) {
      const made = await fetch(`${kw.url}/keyward.v1.PolicyService/AdminCreateApiKeyPolicy`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${kw.adminKey}` },
        body: JSON.stringify({ name }),
      });
      expect(made.status).toBe(200);
    }
    const everything = await json(["policies", "list"]);
    expect(everything.policies.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(names));
    const table = await cli(["policies", "list"]);
    expect(table.stdout.trim().split("\n")).toHaveLength(1 + everything.policies.length);
    const listed = await json(["policies", "list", "--name-contains", "paged-"]);
    expect(listed.policies.map((p: { name: string }) => p.name)).toEqual(names);
    expect((await json(["policies", "list", "--name-contains", "paged-", "--limit", "3"])).policies).toHaveLength(3);
  });

  it("gives keys labels, rate limits and credits, and finds them by label, service, name and idleness, in the order asked", async () => {
    const { policy } = await json(["policies", "create", "--name", "metered", "--permission", "keyward.keys.check", "--rate-limit", "1000/1h"]);
    expect(policy.rateLimits).toEqual([{ limit: "1000", period: "3600s" }]);
    const made = async (name: string, ...flags: string[]) => (await json(["keys", "create", "--name", name, "--policy", policy.id, "--ttl", "30d", ...flags])).apiKey;
    const billing = await made("labelled-b", "--label", "team=billing", "--label", "tier=gold", "--rate-limit", "100/1m", "--credits", "500", "--refill", "500/day");
    expect(billing).toMatchObject({
      labels: { team: "billing", tier: "gold" },
      rateLimits: [{ limit: "100", period: "60s" }],
      credits: { remaining: "500", refill: { amount: "500", interval: "REFILL_INTERVAL_DAY" } },
    });
    await made("labelled-a", "--label", "team=billing");
    await made("labelled-c", "--label", "team=search");
    const shown = await cli(["keys", "get", billing.id]);
    expect(shown.stdout).toMatch(/rate limits: +100\/60s/);
    expect(shown.stdout).toMatch(/credits: +500 left, refilled to 500 each day/);
    expect(shown.stdout).toMatch(/labels: +team=billing, tier=gold/);

    const names = async (...flags: string[]) => ((await json(["keys", "list", ...flags])).apiKeys ?? []).map((k: { name: string }) => k.name);
    expect(await names("--label", "team=billing", "--order-by", "name")).toEqual(["labelled-a", "labelled-b"]);
    expect(await names("--label", "team", "--name-contains", "labelled-", "--order-by", "name", "--descending")).toEqual(["labelled-c", "labelled-b", "labelled-a"]);
    expect(await names("--label", "tier=gold")).toEqual(["labelled-b"]);
    // Never used: idle since its creation, moments ago.
    expect(await names("--label", "tier=gold", "--idle-for", "30d")).toEqual([]);

    const updated = (await json(["keys", "update", billing.id, "--clear-labels", "--clear-credits", "--rate-limit", "5/1s"])).apiKey;
    expect(updated.labels ?? {}).toEqual({});
    expect(updated.credits).toBeUndefined();
    expect(updated.rateLimits).toEqual([{ limit: "5", period: "1s" }]);

    expect(await cli(["keys", "list", "--order-by", "size"])).toMatchObject({ code: 1, stderr: expect.stringContaining("--order-by") });
    expect(await cli(["keys", "create", "--name", "x", "--policy", policy.id, "--ttl", "1d", "--rate-limit", "lots"])).toMatchObject({ code: 1, stderr: expect.stringContaining("--rate-limit") });
    expect(await cli(["keys", "create", "--name", "x", "--policy", policy.id, "--ttl", "1d", "--refill", "5/day"])).toMatchObject({ code: 1, stderr: expect.stringContaining("--refill needs --credits") });
  });

  // Over every run of this file (the runs above, and one more that fails after authenticating).
  it("never wrote the admin key or any credential to stderr", async () => {
    expect((await cli(["keys", "get", "NoSuchKey0000000"])).code).toBe(2);
    for (const stderr of stderrs) {
      expect(stderr).not.toContain(kw.adminKey);
      expect(stderr).not.toMatch(/kw_[0-9A-Za-z]{16}_/);
    }
  });
});
