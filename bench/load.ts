// One load generator process: a stock @grpc/grpc-js client (one channel)
// keeping `concurrency` unary calls in flight for `seconds`, then printing a
// JSON summary on stdout. Run by bench/run.ts, never by hand.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.js";
import { CheckKeyRequestSchema, CheckKeyResponseSchema } from "../gen/keyward/v1/check_pb.js";
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
const client = new grpc.Client(args.target, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${args.callerKey}`);

function unary<I extends DescMessage, O extends DescMessage>(path: string, input: I, output: O, message: MessageShape<I>): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      path,
      (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      (b: Buffer) => fromBinary(output, b),
      message,
      metadata,
      (error: grpc.ServiceError | null, response?: MessageShape<O>) => (error || !response ? reject(error) : resolve(response)),
    ),
  );
}

const forgedId = args.mode === "forged" ? args.key.split("_")[1]! : "";
const coldKeys = args.mode === "cold" ? args.key.split(",") : [];
let coldNext = 0;

function call(): Promise<unknown> | undefined {
  switch (args.mode) {
    case "health":
      return unary("/grpc.health.v1.Health/Check", HealthCheckRequestSchema, HealthCheckResponseSchema, create(HealthCheckRequestSchema));
    case "check":
      return unary("/keyward.v1.CheckService/CheckKey", CheckKeyRequestSchema, CheckKeyResponseSchema, create(CheckKeyRequestSchema, { key: args.key }));
    case "forged":
      return unary("/keyward.v1.CheckService/CheckKey", CheckKeyRequestSchema, CheckKeyResponseSchema, create(CheckKeyRequestSchema, { key: formatKey("kw", forgedId, randomBase62(33)) }));
    case "unknown":
      return unary("/keyward.v1.CheckService/CheckKey", CheckKeyRequestSchema, CheckKeyResponseSchema, create(CheckKeyRequestSchema, { key: formatKey("kw", randomBase62(16), randomBase62(33)) }));
    case "cold": {
      const key = coldKeys[coldNext++];
      return key === undefined ? undefined : unary("/keyward.v1.CheckService/CheckKey", CheckKeyRequestSchema, CheckKeyResponseSchema, create(CheckKeyRequestSchema, { key }));
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
  client.close();
}

void main();
