// One load generator process: a stock @grpc/grpc-js client (one channel,
// services loaded from the .proto files by @grpc/proto-loader, as a Node
// service would) keeping `concurrency` unary calls in flight for `seconds`,
// then printing a JSON summary on stdout. Run by bench/run.ts, never by hand.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { formatKey } from "../src/domain/key-format.js";
import { randomBase62 } from "../src/domain/random.js";

interface Args {
  target: string;
  mode: "check" | "health" | "forged" | "cold" | "unknown";
  concurrency: number;
  seconds: number;
  callerKey: string;
  /** check: the key to check; forged: the key whose id to forge; cold: comma-separated keys, each checked once. */
  key: string;
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

const forgedId = args.mode === "forged" ? args.key.split("_")[1]! : "";
const coldKeys = args.mode === "cold" ? args.key.split(",") : [];
let coldNext = 0;

function call(): Promise<unknown> | undefined {
  switch (args.mode) {
    case "health":
      return unary(healthClient, "Check", {});
    case "check":
      return unary(checkClient, "CheckKey", { key: args.key });
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

async function main(): Promise<void> {
  // One call first, so the connection is up before the clock starts.
  await (args.mode === "cold" ? Promise.resolve() : call());
  const latencies: number[] = [];
  let errors = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + args.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const pending = call();
      if (!pending) return;
      try {
        await pending;
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const clientCpuUsPerCall = (cpu.user + cpu.system) / Math.max(1, latencies.length + errors);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(
    JSON.stringify({ mode: args.mode, calls: latencies.length, errors, seconds: elapsed, rps: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), clientCpuUsPerCall }) + "\n",
  );
  checkClient.close();
}

void main();
