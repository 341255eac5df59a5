// h2load (Debian's nghttp2-client), a C HTTP/2 load generator: it costs the
// load side little, so a comparison measures the servers, not the client.
// Runs pinned to CPU 1 while the server under test has CPU 0.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export interface H2loadResult {
  rps: number;
  succeeded: number;
  failed: number;
  seconds: number;
  /** Server CPU per call in µs, from /proc (NaN when it cannot be read). */
  serverCpuUsPerCall: number;
}

/** Makes sure h2load is there, installing Debian's nghttp2-client when it can (the bench's setup, not CI's). */
export function ensureH2load(): void {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
  } catch {
    process.stdout.write("installing nghttp2-client (h2load)…\n");
    execFileSync("apt-get", ["install", "-y", "-qq", "nghttp2-client"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
}

/** User + system CPU time of a process so far, in µs. */
export function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return NaN;
  }
}

/** A gRPC message in its envelope, as h2load's data file. */
export function grpcBody(message: Uint8Array): Buffer {
  const body = Buffer.alloc(5 + message.length);
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);
  return body;
}

export interface H2loadOptions {
  url: string;
  bodyFile: string;
  headers: Record<string, string>;
  connections: number;
  streams: number;
  seconds: number;
  warmupSeconds?: number;
  /** Requests per second per connection (a fixed rate); unset: as fast as the server answers. */
  ratePerConnection?: number;
  /** Per-request log (start µs, status, duration µs), for latency percentiles. */
  logFile?: string;
  serverPid?: number;
  cpus?: string;
}

export function h2load(o: H2loadOptions): Promise<H2loadResult> {
  const args = ["-t", "1", "-c", String(o.connections), "-m", String(o.streams), "-D", String(o.seconds), "-d", o.bodyFile];
  if (o.warmupSeconds) args.push("--warm-up-time", String(o.warmupSeconds));
  if (o.ratePerConnection) args.push("--rps", String(o.ratePerConnection));
  if (o.logFile) args.push("--log-file", o.logFile);
  for (const [name, value] of Object.entries(o.headers)) args.push("-H", `${name}: ${value}`);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", o.cpus ?? "1", "h2load", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let cpuStart = NaN;
    // The measured window starts after the warm-up: read the server's CPU then.
    const timer = setTimeout(() => (cpuStart = o.serverPid ? cpuMicros(o.serverPid) : NaN), (o.warmupSeconds ?? 0) * 1000);
    let cpuEnd = NaN;
    const endTimer = setTimeout(() => (cpuEnd = o.serverPid ? cpuMicros(o.serverPid) : NaN), ((o.warmupSeconds ?? 0) + o.seconds) * 1000);
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("close", (code) => {
      clearTimeout(timer);
      clearTimeout(endTimer);
      if (Number.isNaN(cpuEnd) && o.serverPid) cpuEnd = cpuMicros(o.serverPid);
      const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
      const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out);
      if (code !== 0 || !finished || !requests) {
        reject(new Error(`h2load exited ${code}: ${out.slice(-500)}`));
        return;
      }
      const rps = Number(finished[2]);
      const seconds = Number(finished[1]);
      resolve({
        rps,
        succeeded: Number(requests[1]),
        failed: Number(requests[2]),
        seconds,
        serverCpuUsPerCall: (cpuEnd - cpuStart) / (rps * o.seconds),
      });
    });
  });
}

/** p50 and p99 of the per-request durations in an h2load log file, in ms. */
export function latencies(logFile: string): { p50Ms: number; p99Ms: number; samples: number } {
  const durations = readFileSync(logFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => Number(line.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99), samples: durations.length };
}
