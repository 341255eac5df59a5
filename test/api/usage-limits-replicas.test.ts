// Usage limits across replicas on one PostgreSQL (issue #20): credits raced
// through two replicas are spent exactly, a replica killed with -9 while it
// holds a lease loses at most that lease (one and a half of the ceiling once a
// hot key's lease has grown), and a rate limit under a steady
// overload through two replicas stays within the README's bound.
// PostgreSQL only: PGlite is one process's database, so it has no replicas.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { killAll, listening, spawnKeyward } from "../../harness/process.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";

const LEASE = 10;
const LEASE_MAX = 100;
const SYNC_MS = 100;

describe.skipIf(!POSTGRES_URL)("usage limits across replicas (postgres)", () => {
  let url: string;
  let a: RunningKeyward;
  let b: RunningKeyward;
  let ca: Clients;
  let cb: Clients;
  let caller: { credentials: string };
  let policyId: string;

  beforeAll(async () => {
    url = await freshPostgresDatabase();
    const config = { usage: { syncMs: SYNC_MS, leaseSize: LEASE, leaseMaxSize: LEASE_MAX, leaseHoldMs: 1_000 } };
    a = await startKeyward({ kind: "postgres", url }, { config });
    b = await startKeyward({ kind: "postgres", url }, { config });
    ca = grpcClients(a.port);
    cb = grpcClients(b.port);
    await ca.permissions.call(PermissionService.method.registerPermissions, { service: "orders", permissions: [{ name: "orders.items.read" }] }, a.adminKey);
    caller = await keyWithPermissions(a, ca, ["keyward.keys.check"]);
    policyId = (await keyWithPermissions(a, ca, ["orders.items.read"])).policyId;
  });
  afterEach(() => killAll());
  afterAll(async () => {
    ca?.close();
    cb?.close();
    await a?.close();
    await b?.close();
  });

  const createKey = async (init: Record<string, unknown>) =>
    ca.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("replicated"), policyId, expireTime: expiresIn(a, DAY), ...init }, a.adminKey);

  const checkOn = (c: { check: GrpcClient<typeof CheckService> }, key: string) =>
    c.check.call(CheckService.method.checkKey, { key, permissions: ["orders.items.read"] }, caller.credentials);

  /** `n` checks at once, alternating between the two replicas; how many were VALID. */
  async function race(key: string, n: number): Promise<number> {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => checkOn(i % 2 === 0 ? ca : cb, key)));
    expect(answers.every((x) => x.code === CheckCode.VALID || x.code === CheckCode.USAGE_EXCEEDED)).toBe(true);
    return answers.filter((x) => x.code === CheckCode.VALID).length;
  }

  /** Races checks until the replicas have given back their leases and a round finds nothing left. */
  async function drain(key: string): Promise<number> {
    let valid = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1_300)); // past the lease hold: unused credits are back in the pool
      const got = await race(key, 40);
      valid += got;
      if (got === 0) return valid;
    }
  }

  it("answers VALID exactly as many times as there are credits, under checks raced through two replicas", async () => {
    const credits = 300;
    const { credentials } = await createKey({ credits: { remaining: BigInt(credits) } });
    const first = await race(credentials, 3 * credits);
    // Never more than the credits, whatever the race.
    expect(first).toBeLessThanOrEqual(credits);
    const total = first + (await drain(credentials));
    expect(total).toBe(credits);
  });

  it("loses at most one lease when a replica holding it is killed with -9", async () => {
    const credits = 100;
    const created = await createKey({ credits: { remaining: BigInt(credits) } });
    const dir = await mkdtemp(join(tmpdir(), "keyward-kill-"));
    const keyFile = join(dir, "never-written");
    const victim = spawnKeyward({
      DATABASE_URL: url,
      KEYWARD_BOOTSTRAP_KEY_FILE: keyFile,
      KEYWARD_CREDIT_LEASE: String(LEASE),
      // It would never give the lease back on its own before the kill.
      KEYWARD_CREDIT_LEASE_HOLD: "60s",
      KEYWARD_ARGON2_MEMORY_KIB: "64",
      KEYWARD_ARGON2_ITERATIONS: "1",
    });
    const victimUrl = await listening(victim);
    const victimClient = new GrpcClient(CheckService, Number(new URL(victimUrl).port));
    try {
      const answer = await victimClient.call(CheckService.method.checkKey, { key: created.credentials, permissions: ["orders.items.read"] }, caller.credentials);
      expect(answer.code).toBe(CheckCode.VALID);
    } finally {
      victimClient.close();
    }
    victim.child.kill("SIGKILL");
    await victim.exited;
    await expect(readFile(keyFile)).rejects.toThrow(); // it was a replica, not a first start

    const survivors = await drain(created.credentials);
    // One credit was spent on the victim; what else its lease held is lost, never spent twice.
    expect(1 + survivors).toBeLessThanOrEqual(credits);
    expect(1 + survivors).toBeGreaterThanOrEqual(credits - LEASE + 1);
  });

  it("loses at most one and a half leases of KEYWARD_CREDIT_LEASE_MAX when a replica whose lease grew is killed with -9", async () => {
    const credits = 5_000;
    const created = await createKey({ credits: { remaining: BigInt(credits) } });
    const victim = spawnKeyward({
      DATABASE_URL: url,
      KEYWARD_BOOTSTRAP_KEY_FILE: join(await mkdtemp(join(tmpdir(), "keyward-kill-")), "never-written"),
      KEYWARD_CREDIT_LEASE: String(LEASE),
      KEYWARD_CREDIT_LEASE_MAX: String(LEASE_MAX),
      KEYWARD_CREDIT_LEASE_HOLD: "60s",
      KEYWARD_ARGON2_MEMORY_KIB: "64",
      KEYWARD_ARGON2_ITERATIONS: "1",
    });
    const victimClient = new GrpcClient(CheckService, Number(new URL(await listening(victim)).port));
    let spent = 0;
    try {
      // A hot key: its lease grows past the base as the replica measures its pace.
      for (let wave = 0; wave < 20; wave++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => victimClient.call(CheckService.method.checkKey, { key: created.credentials, permissions: ["orders.items.read"] }, caller.credentials)),
        );
        spent += answers.filter((x) => x.code === CheckCode.VALID).length;
      }
    } finally {
      victimClient.close();
    }
    victim.child.kill("SIGKILL");
    await victim.exited;
    expect(spent).toBe(1_000);
    // The pool is final once the victim is gone: what it held is lost, never spent twice.
    const read = await ca.keys.call(ApiKeyService.method.adminGetApiKey, { id: created.apiKey!.id }, a.adminKey);
    const lost = credits - spent - Number(read.apiKey!.credits!.remaining);
    // Its lease grows only as fast as this machine checks (usage-limits.test.ts proves the growth on a
    // test clock); whatever it grew to, the README's bound holds.
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(LEASE_MAX * 1.5);
  });

  it("keeps a rate limit within the stated bound under a steady overload through two replicas", async () => {
    const limit = 20;
    const periodMs = 1_000;
    const { credentials } = await createKey({ rateLimits: [{ limit: BigInt(limit), period: durationFromMs(periodMs) }] });
    // Start on a period boundary, so the run covers whole windows.
    await new Promise((r) => setTimeout(r, periodMs - (Date.now() % periodMs)));
    const perReplicaRate = 100; // checks per second sent to each replica
    const durationMs = 3_000;
    const answers: Array<Promise<{ code: CheckCode }>> = [];
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (Date.now() - started >= durationMs) {
          clearInterval(timer);
          resolve();
          return;
        }
        answers.push(checkOn(ca, credentials), checkOn(cb, credentials));
      }, 1_000 / perReplicaRate);
    });
    const codes = (await Promise.all(answers)).map((x) => x.code);
    const admitted = codes.filter((code) => code === CheckCode.VALID).length;
    expect(codes.every((code) => code === CheckCode.VALID || code === CheckCode.RATE_LIMITED)).toBe(true);
    // README "Usage limits": in any period, at most L + (N−1)·r·(S + d) admitted, with N replicas each
    // asked r checks a second, a sync every S and a round trip d (allowed 50 ms here).
    const periods = durationMs / periodMs;
    const overshootPerPeriod = (2 - 1) * perReplicaRate * ((SYNC_MS + 50) / 1000);
    const bound = (periods + 1) * (limit + overshootPerPeriod);
    console.log(`rate limit ${limit}/${periodMs}ms, 2 replicas × ${perReplicaRate}/s for ${durationMs} ms: ${admitted} admitted of ${codes.length} (ideal ≤ ${limit * (periods + 1)}, bound ${bound})`);
    expect(admitted).toBeLessThanOrEqual(bound);
    // And the limit does not starve the key: at least the limit in each whole period.
    expect(admitted).toBeGreaterThanOrEqual(limit * periods);
  });
});
