// One load generator process: a stock @grpc/grpc-js client (one channel,
// services loaded from the .proto files by @grpc/proto-loader, as a Node
// service would) keeping `concurrency` unary calls in flight. It first makes
// `warmupSeconds` of unmeasured calls of every mode in its plan (so its own
// JIT is warm, as a long-running service's is), then runs the plan's windows
// in order on the same connection, printing a JSON summary per window on
// stdout, with the server's CPU per call when given its pid. Run by
// bench/run.ts, never by hand.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { readFileSync } from "node:fs";
import { formatKey } from "../src/domain/key-format.js";
import { randomBase62 } from "../src/domain/random.js";

export type Mode = "check" | "health" | "forged" | "cold" | "unknown" | "check-rate-limited" | "check-credits";

interface Args {
  target: string;
  /** Measured windows, in order. */
  plan: { mode: Mode; seconds: number }[];
  concurrency: number;
  warmupSeconds: number;
  /** The server's process, for its CPU per call (Linux /proc). */
  serverPid?: number;
  callerKey: string;
  /** check: the key to check; forged: the key whose id to forge; cold: comma-separated keys, each checked once. */
  key: string;
  /** check-rate-limited / check-credits: a key with a rate limit it never reaches / with credits it never runs out of. */
  rateLimitedKey?: string;
  creditsKey?: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
const definition = protoLoader.loadSync(["keyward/v1/check.proto", "grpc/health/v1/health.proto"], {
  includeDirs: ["proto", ".buf-deps", "node_modules/google-proto-files"],
  keepCase: true,
  enums: String,
  longs: String,
});
type Unary = (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;
// proto-loader's output is untyped by design: a client constructor per service.
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  keyward: { v1: { CheckService: typeof grpc.Client } };
  grpc: { health: { v1: { Health: typeof grpc.Client } } };
};
const checkClient = new loaded.keyward.v1.CheckService(args.target, grpc.credentials.createInsecure()) as unknown as Record<string, Unary> & grpc.Client;
// Both clients on one channel, so every mode runs over one HTTP/2 connection.
const healthClient = new loaded.grpc.health.v1.Health(args.target, grpc.credentials.createInsecure(), {
  channelOverride: checkClient.getChannel(),
}) as unknown as Record<string, Unary> & grpc.Client;
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${args.callerKey}`);

function unary(client: Record<string, Unary>, method: string, request: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    client[method]!.call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

const modes = new Set(args.plan.map((w) => w.mode));
const forgedId = modes.has("forged") ? args.key.split("_")[1]! : "";
const coldKeys = modes.has("cold") ? args.key.split(",") : [];
let coldNext = 0;

function call(mode: Mode): Promise<unknown> | undefined {
  switch (mode) {
    case "health":
      return unary(healthClient, "Check", {});
    case "check":
      return unary(checkClient, "CheckKey", { key: args.key });
    case "check-rate-limited":
      return unary(checkClient, "CheckKey", { key: args.rateLimitedKey });
    case "check-credits":
      return unary(checkClient, "CheckKey", { key: args.creditsKey });
    case "forged":
      return unary(checkClient, "CheckKey", { key: formatKey("kw", forgedId, randomBase62(33)) });
    case "unknown":
      return unary(checkClient, "CheckKey", { key: formatKey("kw", randomBase62(16), randomBase62(33)) });
    case "cold": {
      const key = coldKeys[coldNext++];
      return key === undefined ? undefined : unary(checkClient, "CheckKey", { key });
    }
  }
}

/** Keeps `concurrency` calls in flight until `until`; latencies and errors go to `into` when given. */
async function drive(mode: Mode, until: number, into?: { latencies: number[]; errors: number }): Promise<void> {
  const worker = async () => {
    while (performance.now() < until) {
      const t = performance.now();
      const pending = call(mode);
      if (!pending) return;
      try {
        await pending;
        into?.latencies.push(performance.now() - t);
      } catch {
        if (into) into.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks of 10 ms
}

async function measure(mode: Mode, seconds: number): Promise<void> {
  const measured = { latencies: [] as number[], errors: 0 };
  const serverCpuStart = args.serverPid ? cpuSecondsOf(args.serverPid) : NaN;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  await drive(mode, started + seconds * 1000, measured);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const { latencies, errors } = measured;
  const calls = Math.max(1, latencies.length + errors);
  const serverCpuUsPerCall = args.serverPid ? ((cpuSecondsOf(args.serverPid) - serverCpuStart) * 1e6) / calls : NaN;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(
    JSON.stringify({ mode, calls: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), clientCpuUsPerCall: (cpu.user + cpu.system) / calls, serverCpuUsPerCall }) + "\n",
  );
}

async function main(): Promise<void> {
  // One call first, so the connection is up before the clock starts (a cold key is checked once only).
  for (const mode of modes) if (mode !== "cold") await call(mode);
  if (args.warmupSeconds > 0) for (const mode of modes) await drive(mode, performance.now() + args.warmupSeconds * 1000);
  for (const window of args.plan) await measure(window.mode, window.seconds);
  checkClient.close();
}

void main();
