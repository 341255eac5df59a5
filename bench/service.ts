// What protecting a service with @keyward/client costs: the example orders
// service (examples/orders) served unprotected, protected with a warm cache
// (a local hit) and protected with no cache (one CheckKey round trip per
// request, Keyward's own cache warm), over HTTP and gRPC, one request at a
// time. Keyward runs in its own process (PGlite, or DATABASE_URL); the example
// services and the client run in this one. Windows alternate ABBA-style and
// the added cost is the median over pairs of (protected − unprotected).
//
//   npm run bench:service            BENCH_SERVICE_PAIRS (default 20), BENCH_SERVICE_REQUESTS per window (default 200)
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { definition, startOrdersService, type RunningOrdersService } from "../examples/orders/service.js";
import { startBenchKeyward } from "./keyward-process.js";
import { median, round } from "./stats.js";

const PAIRS = Number(process.env.BENCH_SERVICE_PAIRS ?? 20);
const REQUESTS = Number(process.env.BENCH_SERVICE_REQUESTS ?? 200);

async function startKeyward(dir: string) {
  const keyFile = join(dir, "admin.key");
  const keyward = await startBenchKeyward({ KEYWARD_BOOTSTRAP_KEY_FILE: keyFile, ...(process.env.DATABASE_URL ? {} : { KEYWARD_DATA_DIR: join(dir, "data") }) });
  return { ...keyward, admin: readFileSync(keyFile, "utf8").trim() };
}

async function rest(url: string, admin: string, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: { "content-type": "application/json", authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function issueKey(url: string, admin: string, permissions: string[], service = ""): Promise<string> {
  const policy = (await rest(url, admin, "POST", "/api_keys/policies", { name: `bench-${Math.random().toString(36).slice(2)}`, permissions })).policy as { id: string };
  const expireTime = new Date(Date.now() + 86_400_000).toISOString();
  const created = await rest(url, admin, "POST", "/api_keys", { name: `bench-${Math.random().toString(36).slice(2)}`, policyId: policy.id, expireTime, service });
  return created.credentials as string;
}

const OrdersClient = grpc.makeGenericClientConstructor(definition["orders.v1.OrderService"] as grpc.ServiceDefinition, "OrderService");

type Target = { name: string; http: (n: number) => Promise<number>; grpc: (n: number) => Promise<number> };

function target(name: string, service: RunningOrdersService, key: string): Target {
  const client = new OrdersClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  const getOrder = (client as unknown as { GetOrder: Function }).GetOrder.bind(client);
  const url = `http://127.0.0.1:${service.httpPort}/orders/7`;
  const headers = { authorization: `Bearer ${key}` };
  /** Mean µs per request over n sequential requests. */
  const timed = async (n: number, one: () => Promise<void>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await one();
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };
  return {
    name,
    http: (n) =>
      timed(n, async () => {
        const res = await fetch(url, { headers });
        if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
        await res.arrayBuffer();
      }),
    grpc: (n) => timed(n, () => new Promise<void>((resolve, reject) => getOrder({ id: "7" }, metadata, (err: Error | null) => (err ? reject(err) : resolve())))),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keyward-bench-service-"));
  const kw = await startKeyward(dir);
  const address = kw.url.replace("http://", "");
  try {
    const serviceKey = await issueKey(kw.url, kw.admin, ["keyward.keys.check"], "orders");
    const open = await startOrdersService({ keywardAddress: address, serviceKey, protect: false });
    const warm = await startOrdersService({ keywardAddress: address, serviceKey, cacheTtlMs: 1000 });
    const cold = await startOrdersService({ keywardAddress: address, serviceKey, cacheTtlMs: 0 });
    const userKey = await issueKey(kw.url, kw.admin, ["orders.read"]);
    const targets = { open: target("unprotected", open, userKey), warm: target("protected, cache hit", warm, userKey), cold: target("protected, CheckKey each time", cold, userKey) };
    const log = (s: string) => process.stdout.write(`${s}\n`);
    log(`@keyward/client bench: ${PAIRS} pairs of ${REQUESTS} sequential requests per window, Keyward at ${kw.url}`);
    for (const protocol of ["http", "grpc"] as const) {
      for (const t of Object.values(targets)) await t[protocol](REQUESTS); // warm-up
      const added = { warm: [] as number[], cold: [] as number[] };
      const base: number[] = [];
      for (let p = 0; p < PAIRS; p++) {
        for (const mode of ["warm", "cold"] as const) {
          const [a, b] = p % 2 ? [targets[mode], targets.open] : [targets.open, targets[mode]];
          const ra = await a[protocol](REQUESTS);
          const rb = await b[protocol](REQUESTS);
          const [prot, unprot] = p % 2 ? [ra, rb] : [rb, ra];
          added[mode].push(prot - unprot);
          base.push(unprot);
        }
      }
      log(`${protocol}: unprotected ${round(median(base), 1)} µs/request; added by protection: warm (cache hit) ${round(median(added.warm), 1)} µs, cold (one CheckKey) ${round(median(added.cold), 1)} µs`);
    }
    // The cache hit itself, without any server: what a repeated check costs the service.
    const client = warm.keyward;
    const request = { key: userKey, permissions: ["orders.read"], method: "GET", path: "/orders/7", clientIp: "127.0.0.1" };
    await client.check(request);
    const n = 100_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await client.check(request);
    log(`client.check() on a cache hit: ${round(Number(process.hrtime.bigint() - start) / 1000 / n, 1)} µs`);
    await Promise.all([open.close(), warm.close(), cold.close()]);
  } finally {
    await kw.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
