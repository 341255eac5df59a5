// What a cached key costs (issue #16): N keys written straight into a store
// (rows in bulk, one cheap argon2 hash shared by all: a key's cost in the cache
// depends on neither), a Keyward process started on it, every key checked once
// over gRPC so that each is verified and cached, then the server's heap and RSS
// after a full collection (bench/memory-hook.ts). The per-key figures are
// deltas over the keys after the first WARM_UP, which warm the code paths.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckCode, CheckService } from "../gen/keyward/v1/check_pb.js";
import { formatKey, SECRET_LENGTH } from "../src/domain/key-format.js";
import { newId } from "../src/domain/random.js";
import { SecretHasher } from "../src/domain/secret-hasher.js";
import { openStore, type StoreLocation } from "../src/storage/open.js";
import { GrpcClient } from "../harness/clients.js";
import type { ListeningProcess } from "../harness/process.js";
import { startBenchKeyward } from "./keyward-process.js";
import { round } from "./stats.js";

const WARM_UP = 1_000;
const BATCH = 1_000;
/** Checks in flight: well within the argon2 budget's default queue. */
const CONCURRENCY = 16;
/** The cheapest argon2id: verifying 100,000 keys at OWASP cost would take half an hour. */
const CHEAP_HASH = { memoryKiB: 8, iterations: 1, parallelism: 1 };

export interface MemoryFigures {
  keys: number;
  cachedVerified: number;
  /** Heap and off-heap memory (after a full GC) per cached key. */
  bytesPerKey: number;
  heapBytesPerKey: number;
  /** RSS growth per cached key (after a full GC; RSS rarely shrinks, so an upper bound). */
  rssBytesPerKey: number;
  rssMiBAtStart: number;
  rssMiBWithKeysCached: number;
  heapMiBAtStart: number;
  heapMiBWithKeysCached: number;
  /** How long checking every key took (cold checks: store read and argon2 each). */
  seconds: number;
}

/** Writes one policy and `n` keys on it; their credentials. */
async function writeKeys(location: StoreLocation, n: number): Promise<string[]> {
  const store = await openStore(location);
  try {
    const now = new Date();
    const policyId = newId();
    await store.db
      .insertInto("policies")
      .values({ id: policyId, name: `memory-${Date.now()}`, description: "", permissions: ["bench.items.read"], create_time: now, update_time: now, creator_key_id: null, rate_limits: "[]" })
      .execute();
    const secret = "s".repeat(SECRET_LENGTH);
    const secretHash = await new SecretHasher(CHEAP_HASH).hash(secret);
    const expireTime = new Date(now.getTime() + 86_400_000);
    const credentials: string[] = [];
    for (let start = 0; start < n; start += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, n - start) }, (_, i) => {
        const id = newId();
        credentials.push(formatKey("kw", id, secret));
        return {
          id, name: `memory-${start + i}`, policy_id: policyId, secret_hash: secretHash, expire_time: expireTime, allowed_subnets: [], constraints: "[]",
          state: "active" as const, create_time: now, update_time: now, service: null, rate_limits: "[]",
          credits_remaining: null, credits_refill_amount: null, credits_refill_interval: null, credits_set_time: null,
        };
      });
      await store.db.insertInto("api_keys").values(rows).execute();
    }
    return credentials;
  } finally {
    await store.close();
  }
}

/** Checks each key once, `CONCURRENCY` at a time; every answer must be VALID. */
async function checkAll(port: number, caller: string, keys: readonly string[]): Promise<void> {
  const client = new GrpcClient(CheckService, port);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const verdict = await client.call(CheckService.method.checkKey, { key, permissions: ["bench.items.read"] }, caller);
        if (verdict.code !== CheckCode.VALID) throw new Error(`memory bench: a key was ${CheckCode[verdict.code]}`);
      }
    }));
  } finally {
    client.close();
  }
}

/**
 * Caches `n` keys in a fresh Keyward on `location` (an empty database, or a
 * PGlite directory not yet created) and reports what they cost. `env` tells
 * Keyward the same store.
 */
export async function memoryPerCachedKey(location: StoreLocation, env: Record<string, string>, n: number, dir: string): Promise<MemoryFigures> {
  const keys = await writeKeys(location, n);
  const adminFile = join(dir, `memory-admin-${Date.now()}.key`);
  let waiting: ((usage: NodeJS.MemoryUsage) => void) | undefined;
  const server: ListeningProcess = await startBenchKeyward(
    { ...env, KEYWARD_BOOTSTRAP_KEY_FILE: adminFile, KEYWARD_CACHE_MAX_ENTRIES: String(n + 1_000), LOG_LEVEL: "warn" },
    ["--expose-gc", "--import", "./bench/memory-hook.ts"],
  );
  server.events.on("line", (line: string) => {
    if (line.startsWith("bench-memory ")) waiting?.(JSON.parse(line.slice("bench-memory ".length)) as NodeJS.MemoryUsage);
  });
  const measure = () =>
    new Promise<NodeJS.MemoryUsage>((resolve) => {
      waiting = resolve;
      server.child.kill("SIGUSR2");
    });
  try {
    const admin = readFileSync(adminFile, "utf8").trim();
    const atStart = await measure();
    const t0 = performance.now();
    await checkAll(server.port, admin, keys.slice(0, WARM_UP));
    const warm = await measure();
    await checkAll(server.port, admin, keys.slice(WARM_UP));
    const seconds = (performance.now() - t0) / 1000;
    const cached = await measure();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const cachedVerified = Number(/^keyward_cache_entries\{kind="verified"\} (\S+)$/m.exec(text)?.[1] ?? NaN);
    const measured = n - WARM_UP;
    const perKey = (bytes: number) => Math.round(bytes / measured);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    return {
      keys: n,
      cachedVerified,
      bytesPerKey: perKey(cached.heapUsed + cached.external - warm.heapUsed - warm.external),
      heapBytesPerKey: perKey(cached.heapUsed - warm.heapUsed),
      rssBytesPerKey: perKey(cached.rss - warm.rss),
      rssMiBAtStart: mib(atStart.rss),
      rssMiBWithKeysCached: mib(cached.rss),
      heapMiBAtStart: mib(atStart.heapUsed),
      heapMiBWithKeysCached: mib(cached.heapUsed),
      seconds: round(seconds, 1),
    };
  } finally {
    await server.stop();
  }
}
