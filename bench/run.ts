// npm run bench: Keyward's hot path against the floor of its runtime measured
// in the same run (a raw node:http2 server and a bare grpc-js server, driven by
// h2load on the other CPU: bench/floor.ts), then what a stock grpc-js client
// sees (latency), the cold path, a forged-secret flood, memory (what a cached
// key costs: bench/memory.ts) and revocation across replicas. Prints medians
// and ratios, writes JSON. BENCH_ONLY=floor, limits or memory runs one part.
//
// Store: PGlite, or PostgreSQL when DATABASE_URL is set. Revocation lag needs
// two replicas on one PostgreSQL: DATABASE_URL, or a throwaway cluster when
// Debian's postgresql is installed (scripts/throwaway-postgres.sh).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyService } from "../gen/keyward/v1/api_keys_pb.js";
import { CheckCode, CheckService } from "../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../gen/keyward/v1/policies_pb.js";
import { GrpcClient } from "../harness/clients.js";
import { floorComparison } from "./floor.js";
import { memoryPerCachedKey, type MemoryFigures } from "./memory.js";
import { usageLimitsThroughput } from "./limits.js";
import type { ListeningProcess } from "../harness/process.js";
import { startBenchKeyward } from "./keyward-process.js";
import { median, quantile, round } from "./stats.js";
import { h2load } from "./h2load.js";
import type { Mode } from "./load.js";

// Latency as a grpc-js client sees it: CheckKey (the fast path) and health (an
// RPC through Connect) in alternating windows over one connection, ABBA, so a
// drift in this machine's speed touches both alike; each window long enough
// for its p99 to rest on enough calls.
const LATENCY_PAIRS = Number(process.env.BENCH_LATENCY_PAIRS ?? 60);
const LATENCY_WINDOW_SECONDS = 0.5;
/** Rounds of "warm checks alone, then during a flood", and their length. */
const FLOOD_ROUNDS = Number(process.env.BENCH_FLOOD_ROUNDS ?? 7);
const FLOOD_SECONDS = 2;
/** Unmeasured calls at the start of each measured load generator (see LoadOptions.warmupSeconds). */
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const CACHE_MAX_ENTRIES = 1_000;
const CACHE_NEGATIVE_MAX_ENTRIES = 1_000;

interface LoadResult {
  mode: string;
  calls: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuUsPerCall: number;
  /** NaN when the server's CPU could not be read. */
  serverCpuUsPerCall: number;
}

type Server = ListeningProcess;

/** Keyward with small cache bounds, so the memory phase shows them holding. */
const startServer = (env: Record<string, string>): Promise<Server> =>
  startBenchKeyward({ KEYWARD_CACHE_MAX_ENTRIES: String(CACHE_MAX_ENTRIES), KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES: String(CACHE_NEGATIVE_MAX_ENTRIES), ...env });

// The latency windows run with the server on CPU 0 and the grpc-js client on
// CPU 1 (when taskset and two CPUs are there), as the floor comparison does.
const PINNING = availableParallelism() >= 2 && (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return true;
  } catch {
    return false;
  }
})();

/** Restricts a running process and all its threads (argon2's too) to `cpus`, e.g. "0" or "0-1". */
function pin(pid: number, cpus: string): void {
  if (PINNING) execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

interface LoadOptions {
  /** Measured windows, in order, all over one connection. */
  plan: { mode: Mode; seconds: number }[];
  concurrency: number;
  callerKey: string;
  key?: string;
  /** CPUs to pin the load generator to. */
  cpus?: string;
  rateLimitedKey?: string;
  creditsKey?: string;
  /** Unmeasured calls of each mode first, so the load generator's JIT is warm as a long-running client's is. */
  warmupSeconds?: number;
}

/** Runs one load generator; one result per window of its plan. */
function load(server: Server, o: LoadOptions): Promise<LoadResult[]> {
  return new Promise((resolve, reject) => {
    const spec = { ...o, target: server.target, key: o.key ?? "", warmupSeconds: o.warmupSeconds ?? 0, serverPid: server.child.pid };
    const args = ["--import", "tsx", "bench/load.ts", JSON.stringify(spec)];
    const child = PINNING && o.cpus ? spawn("taskset", ["-c", o.cpus, process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    const results: LoadResult[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => results.push(JSON.parse(line) as LoadResult));
    child.once("close", (code) => (code === 0 && results.length === o.plan.length ? resolve(results) : reject(new Error(`load ${o.plan[0]?.mode} exited ${code}`))));
  });
}

/** One window of one mode. */
const once = async (server: Server, o: Omit<LoadOptions, "plan">, mode: Mode, seconds: number): Promise<LoadResult> =>
  (await load(server, { ...o, plan: [{ mode, seconds }] }))[0]!;

/** One metric's value; `name` may carry its labels, as /metrics writes them (`x{kind="failed"}`). */
async function metric(server: Server, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : NaN;
}

interface Setup {
  admin: string;
  key: string;
  policyId: string;
}

async function setUp(server: Server, admin: string): Promise<Setup> {
  const port = server.port;
  const permissions = new GrpcClient(PermissionService, port);
  const policies = new GrpcClient(PolicyService, port);
  const keys = new GrpcClient(ApiKeyService, port);
  await permissions.call(PermissionService.method.registerPermissions, { service: "bench", permissions: [{ name: "bench.items.read" }] }, admin);
  const { policy } = await policies.call(PolicyService.method.adminCreateApiKeyPolicy, { name: `bench-${Date.now()}`, permissions: ["bench.items.read"] }, admin);
  const created = await keys.call(
    ApiKeyService.method.adminCreateApiKey,
    { name: `bench-key-${Date.now()}`, policyId: policy!.id, expireTime: timestampFromDate(new Date(Date.now() + 86_400_000)) },
    admin,
  );
  [permissions, policies, keys].forEach((c) => c.close());
  return { admin, key: created.credentials, policyId: policy!.id };
}

async function createKeys(server: Server, admin: string, policyId: string, n: number): Promise<string[]> {
  const keys = new GrpcClient(ApiKeyService, server.port);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await keys.call(
      ApiKeyService.method.adminCreateApiKey,
      { name: `cold-${Date.now()}-${i}`, policyId, expireTime: timestampFromDate(new Date(Date.now() + 86_400_000)) },
      admin,
    );
    out.push(created.credentials);
  }
  keys.close();
  return out;
}

function postgresUrl(): { url: string; stop?: () => void } | undefined {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  try {
    const env = { ...process.env, KEYWARD_PG_PORT: "54339", KEYWARD_PG_DIR: join(tmpdir(), "keyward-bench-pg") };
    const url = execFileSync("bash", ["scripts/throwaway-postgres.sh", "start"], { env, encoding: "utf8" }).trim();
    return { url, stop: () => execFileSync("bash", ["scripts/throwaway-postgres.sh", "stop"], { env }) };
  } catch {
    return undefined;
  }
}

/** A new, empty database on the server at `url` (so that the bootstrap key is ours); its URL. */
function freshDatabase(url: string): string {
  const db = `keyward_bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  execFileSync("psql", [url, "-qc", `create database ${db}`]);
  return Object.assign(new URL(url), { pathname: `/${db}` }).toString();
}

async function revocationLag(url: string): Promise<{ p50Ms: number; p99Ms: number; samples: number } | { skipped: string }> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-bench-"));
  const dbUrl = freshDatabase(url);
  const a = await startServer({ DATABASE_URL: dbUrl, KEYWARD_BOOTSTRAP_KEY_FILE: join(dir, "admin.key") });
  const b = await startServer({ DATABASE_URL: dbUrl, KEYWARD_BOOTSTRAP_KEY_FILE: join(dir, "other.key") });
  try {
    const admin = readFileSync(join(dir, "admin.key"), "utf8").trim();
    const { policyId } = await setUp(a, admin);
    const keysA = new GrpcClient(ApiKeyService, Number(a.target.split(":")[1]));
    const checkB = new GrpcClient(CheckService, Number(b.target.split(":")[1]));
    const lags: number[] = [];
    for (let i = 0; i < 30; i++) {
      const [key] = await createKeys(a, admin, policyId, 1);
      const id = key!.split("_")[1]!;
      for (let w = 0; w < 2; w++) await checkB.call(CheckService.method.checkKey, { key }, admin);
      const t0 = performance.now();
      await keysA.call(ApiKeyService.method.adminRetireApiKey, { id }, admin);
      while ((await checkB.call(CheckService.method.checkKey, { key }, admin)).code === CheckCode.VALID) {
        if (performance.now() - t0 > 5_000) throw new Error("revocation not seen within 5 s");
      }
      lags.push(performance.now() - t0);
    }
    keysA.close();
    checkB.close();
    return { p50Ms: round(median(lags)), p99Ms: round(quantile(lags, 0.99)), samples: lags.length };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

/** Keys for the usage-limit figures: a rate limit never reached, credits never run out. */
async function limitedKeys(server: Server, setup: Setup): Promise<{ rateLimited: string; credits: string }> {
  const keys = new GrpcClient(ApiKeyService, server.port);
  const expireTime = timestampFromDate(new Date(Date.now() + 86_400_000));
  const create = async (name: string, init: object) =>
    (await keys.call(ApiKeyService.method.adminCreateApiKey, { name: `${name}-${Date.now()}`, policyId: setup.policyId, expireTime, ...init }, setup.admin)).credentials;
  const rateLimited = await create("bench-rate", { rateLimits: [{ limit: 1_000_000_000n, period: { seconds: 1n } }] });
  const credits = await create("bench-credits", { credits: { remaining: 1_000_000_000_000n } });
  keys.close();
  return { rateLimited, credits };
}

/** How many distinct keys the memory phase verifies and caches (BENCH_MEMORY_KEYS); BENCH_ONLY=memory defaults to fewer. */
const MEMORY_KEYS = Number(process.env.BENCH_MEMORY_KEYS ?? (process.env.BENCH_ONLY === "memory" ? 20_000 : 100_000));

/** What cached keys cost on a fresh PGlite store (bench/memory.ts). */
function memoryOnPglite(dir: string): Promise<MemoryFigures> {
  const dataDir = join(mkdtempSync(join(dir, "memory-")), "data");
  // DATABASE_URL empty: Keyward would otherwise take the bench's own (config.ts reads empty as unset).
  return memoryPerCachedKey({ kind: "pglite", dataDir }, { KEYWARD_DATA_DIR: dataDir, DATABASE_URL: "" }, MEMORY_KEYS, dir);
}

/** The same on a fresh database of the PostgreSQL server at `url`. */
function memoryOnPostgres(url: string, dir: string): Promise<MemoryFigures> {
  const db = freshDatabase(url);
  return memoryPerCachedKey({ kind: "postgres", url: db }, { DATABASE_URL: db }, MEMORY_KEYS, dir);
}

const memoryLine = (store: string, m: MemoryFigures) =>
  `memory (${store}): ${m.bytesPerKey} bytes per cached key (heap ${m.heapBytesPerKey}, RSS ${m.rssBytesPerKey}); ` +
  `heap ${m.heapMiBAtStart} → ${m.heapMiBWithKeysCached} MiB, RSS ${m.rssMiBAtStart} → ${m.rssMiBWithKeysCached} MiB with ${m.cachedVerified} keys cached`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-bench-"));
  const log = (s: string) => process.stdout.write(`${s}\n`);
  if (process.env.BENCH_ONLY === "memory") {
    // Issue #16's figures alone: what a cached key costs, on each store.
    log(`memory: caching ${MEMORY_KEYS} distinct keys…`);
    const results: Record<string, MemoryFigures | { skipped: string }> = { pglite: await memoryOnPglite(dir) };
    log(memoryLine("PGlite", results.pglite as MemoryFigures));
    const pg = postgresUrl();
    if (pg) {
      try {
        results.postgres = await memoryOnPostgres(pg.url, dir);
        log(memoryLine("PostgreSQL", results.postgres as MemoryFigures));
      } finally {
        pg.stop?.();
      }
    } else results.postgres = { skipped: "no PostgreSQL (set DATABASE_URL or install postgresql)" };
    log(JSON.stringify(results, null, 2));
    return;
  }
  const storeEnv: Record<string, string> = process.env.DATABASE_URL ? {} : { KEYWARD_DATA_DIR: join(dir, "data") };
  const server = await startServer({ ...storeEnv, KEYWARD_BOOTSTRAP_KEY_FILE: join(dir, "admin.key") });
  const store = process.env.DATABASE_URL ? "postgres" : "pglite";
  log(`Keyward bench — store ${store}, server ${server.url}`);
  let admin: string;
  try {
    admin = readFileSync(join(dir, "admin.key"), "utf8").trim();
  } catch {
    throw new Error("DATABASE_URL must name an empty database for the bench (it needs the bootstrap key)");
  }
  const setup = await setUp(server, admin);
  pin(server.child.pid!, "0");
  const keyward = { pid: server.child.pid!, baseUrl: server.url };
  const limitsOf = async () =>
    usageLimitsThroughput(
      { keyward, callerKey: admin, keys: { plain: setup.key, ...(await limitedKeys(server, setup)) }, permission: "bench.items.read", workDir: dir },
      log,
    );
  if (process.env.BENCH_ONLY === "limits") {
    // Issue #20's figures alone: warm throughput of keys with limits against one without.
    const limits = await limitsOf();
    await server.stop();
    log(JSON.stringify(limits, null, 2));
    return;
  }
  log("\nwarm CheckKey against the floor (raw node:http2, bare grpc-js), h2load on CPU 1:");
  const floor = await floorComparison({ keyward, callerKey: admin, checkedKey: setup.key, permission: "bench.items.read", workDir: dir }, log);
  if (process.env.BENCH_ONLY === "floor") {
    await server.stop();
    return;
  }
  const pairs = (n: number, seconds: number) =>
    Array.from({ length: n }, (_, r) => (r % 2 ? (["health", "check"] as const) : (["check", "health"] as const))).flat().map((mode) => ({ mode, seconds }));
  const hotPath = { callerKey: admin, key: setup.key, cpus: "1" };
  const limits = await limitsOf();
  // Latency at concurrency 8.
  const ofMode = (runs: LoadResult[], mode: Mode) => runs.filter((run) => run.mode === mode);
  const latRuns = await load(server, { ...hotPath, plan: pairs(LATENCY_PAIRS, LATENCY_WINDOW_SECONDS), concurrency: 8, warmupSeconds: WARMUP });
  const latencyOf = (mode: Mode, q: "p50Ms" | "p99Ms") => median(ofMode(latRuns, mode).map((run) => run[q]));
  pin(server.child.pid!, `0-${availableParallelism() - 1}`);
  // Cold first checks: each key verified once (argon2id at OWASP cost).
  const coldKeys = await createKeys(server, admin, setup.policyId, 40);
  const cold = await once(server, { concurrency: 8, callerKey: admin, key: coldKeys.join(",") }, "cold", 60);
  // A cold check while warm traffic runs at half its maximum rate: the p99 a new caller sees on a busy Keyward.
  const busyColdKeys = await createKeys(server, admin, setup.policyId, 40);
  const checkClient = new GrpcClient(CheckService, server.port);
  const warmTraffic = h2load({
    url: `${server.url}/keyward.v1.CheckService/CheckKey`,
    bodyFile: join(dir, "check.bin"),
    headers: { "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${admin}` },
    connections: 4,
    streams: 16,
    seconds: 20,
    ratePerConnection: Math.max(1, Math.floor(floor.rps.keyward / 2 / 4)),
  });
  const coldUnderLoad: number[] = [];
  for (const key of busyColdKeys) {
    const t0 = performance.now();
    await checkClient.call(CheckService.method.checkKey, { key }, admin);
    coldUnderLoad.push(performance.now() - t0);
  }
  checkClient.close();
  await warmTraffic;
  // Warm checks during a flood of forged secrets for a real key id, against
  // warm checks without just before: one ratio per round.
  const warmChecks = { concurrency: 16, warmupSeconds: WARMUP, callerKey: admin, key: setup.key };
  const flood = { alone: [] as number[], flooded: [] as number[], ratios: [] as number[], floodRps: [] as number[] };
  for (let r = 0; r < FLOOD_ROUNDS; r++) {
    flood.alone.push((await once(server, warmChecks, "check", FLOOD_SECONDS)).rps);
    const [warm, forged] = await Promise.all([
      once(server, warmChecks, "check", FLOOD_SECONDS),
      once(server, { ...warmChecks, concurrency: 64 }, "forged", FLOOD_SECONDS),
    ]);
    flood.flooded.push(warm.rps);
    flood.ratios.push(warm.rps / flood.alone[r]!);
    flood.floodRps.push(forged.rps + forged.errors / forged.seconds);
  }
  // Memory stays bounded by the failures' own bound: thousands of distinct unknown keys.
  const rssBefore = await metric(server, "keyward_process_resident_memory_bytes");
  const unknown = await once(server, { concurrency: 32, callerKey: admin }, "unknown", 4);
  const cacheEntries = await metric(server, 'keyward_cache_entries{kind="failed"}');
  const rssAfter = await metric(server, "keyward_process_resident_memory_bytes");
  await server.stop();
  log(`memory: caching ${MEMORY_KEYS} distinct keys…`);
  const memoryPglite = await memoryOnPglite(dir);

  const pg = postgresUrl();
  const noPostgres = { skipped: "no PostgreSQL (set DATABASE_URL or install postgresql)" };
  let memoryPostgres: MemoryFigures | typeof noPostgres = noPostgres;
  let lag: Awaited<ReturnType<typeof revocationLag>> = noPostgres;
  if (pg) {
    try {
      memoryPostgres = await memoryOnPostgres(pg.url, dir);
      lag = await revocationLag(pg.url);
    } finally {
      pg.stop?.();
    }
  }

  const results = {
    date: new Date().toISOString(),
    commit: (() => {
      try {
        return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
      } catch {
        return "unknown";
      }
    })(),
    store,
    floor,
    latencyAtConcurrency8: {
      checkP50Ms: round(latencyOf("check", "p50Ms")),
      healthP50Ms: round(latencyOf("health", "p50Ms")),
      checkP99Ms: round(latencyOf("check", "p99Ms")),
      healthP99Ms: round(latencyOf("health", "p99Ms")),
    },
    coldFirstChecks: { keys: cold.calls, perSecond: round(cold.rps, 1), p50Ms: round(cold.p50Ms) },
    coldCheckDuringWarmLoad: { keys: coldUnderLoad.length, p50Ms: round(median(coldUnderLoad)), p99Ms: round(quantile(coldUnderLoad, 0.99)) },
    memoryWithKeysCached: { pglite: memoryPglite, postgres: memoryPostgres },
    flood: {
      warmRpsAlone: round(median(flood.alone), 0),
      warmRpsDuringFlood: round(median(flood.flooded), 0),
      ratio: round(median(flood.ratios)),
      ratios: flood.ratios.map((r) => round(r)),
      forgedAnsweredPerSecond: round(median(flood.floodRps), 0),
      target: ">= 0.8",
    },
    memory: {
      distinctUnknownKeys: unknown.calls + unknown.errors,
      cacheEntries,
      cacheNegativeMaxEntries: CACHE_NEGATIVE_MAX_ENTRIES,
      rssMiBBefore: round(rssBefore / 2 ** 20, 1),
      rssMiBAfter: round(rssAfter / 2 ** 20, 1),
    },
    revocationLagAcrossReplicas: lag,
    usageLimits: limits,
  };
  log("");
  log(
    `latency c=8, p50: CheckKey ${results.latencyAtConcurrency8.checkP50Ms} ms, health ${results.latencyAtConcurrency8.healthP50Ms} ms; ` +
      `p99: ${results.latencyAtConcurrency8.checkP99Ms} / ${results.latencyAtConcurrency8.healthP99Ms} ms (grpc-js client on CPU 1)`,
  );
  log(`cold first checks: ${results.coldFirstChecks.perSecond}/s (p50 ${results.coldFirstChecks.p50Ms} ms)`);
  log(`a cold check while warm traffic runs at half the maximum: p50 ${results.coldCheckDuringWarmLoad.p50Ms} ms, p99 ${results.coldCheckDuringWarmLoad.p99Ms} ms`);
  log(memoryLine("PGlite", memoryPglite));
  log(
    `warm checks during a forged-secret flood: ${results.flood.warmRpsDuringFlood} vs ${results.flood.warmRpsAlone} rps alone; median of ${FLOOD_ROUNDS} rounds ${results.flood.ratio}× (target ≥ 0.8); forged answered ${results.flood.forgedAnsweredPerSecond}/s`,
  );
  log(`memory: ${results.memory.distinctUnknownKeys} distinct unknown keys → ${results.memory.cacheEntries} failures cached (max ${CACHE_NEGATIVE_MAX_ENTRIES}); RSS ${results.memory.rssMiBBefore} → ${results.memory.rssMiBAfter} MiB`);
  if (!("skipped" in memoryPostgres)) log(memoryLine("PostgreSQL", memoryPostgres));
  log(`revocation lag across two replicas: ${"skipped" in lag ? lag.skipped : `p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms over ${lag.samples} (target p99 ≤ 100 ms)`}`);
  mkdirSync("bench/results", { recursive: true });
  const file = join("bench/results", `${results.date.replace(/[:.]/g, "-")}-${results.commit}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  log(`\nresults: ${file}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
