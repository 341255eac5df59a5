// Warm CheckKey against the floor of its runtime, measured in the same run:
// a raw node:http2 server and a bare grpc-js server (bench/floor-server.ts),
// each on CPU 0, driven in alternating rounds by h2load on CPU 1. Also: how
// CheckKey scales with connections, and its latency at half its maximum rate.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { create, toBinary } from "@bufbuild/protobuf";
import { CheckKeyRequestSchema } from "../gen/keyward/v1/check_pb.js";
import { median, round } from "./stats.js";
import { ensureH2load, grpcBody, h2load, latencies, type H2loadOptions } from "./h2load.js";

const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 5);
export const CHECK_PATH = "/keyward.v1.CheckService/CheckKey";

export interface Target {
  pid: number;
  url: string;
}

async function startFloor(mode: "raw" | "grpc-js"): Promise<{ child: ChildProcess; target: Target }> {
  const child = spawn("taskset", ["-c", "0", process.execPath, "--import", "tsx", "bench/floor-server.ts", mode], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^ready (\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${mode} floor exited ${code}`)));
  });
  return { child, target: { pid: child.pid!, url: `http://127.0.0.1:${port}${CHECK_PATH}` } };
}

/** Sum of a metric's series whose labels contain `match`, from Keyward's /metrics. */
export async function metricSum(baseUrl: string, name: string, match = ""): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && l.includes(match))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}

/** A CheckKey request for `key` as h2load's data file; returns its path. */
export function writeCheckBody(workDir: string, name: string, key: string, permission: string): string {
  const request = create(CheckKeyRequestSchema, { key, permissions: [permission], method: "GET", path: "/items/7", clientIp: "10.1.2.3" });
  const file = join(workDir, name);
  writeFileSync(file, grpcBody(toBinary(CheckKeyRequestSchema, request)));
  return file;
}

/** The headers of a gRPC CheckKey call by a caller holding keyward.keys.check. */
export const checkHeaders = (callerKey: string) => ({ "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${callerKey}` });

export interface FloorInput {
  keyward: { pid: number; baseUrl: string };
  /** The caller's own key (holds keyward.keys.check) and the key it checks. */
  callerKey: string;
  checkedKey: string;
  permission: string;
  workDir: string;
}

export async function floorComparison(input: FloorInput, log: (line: string) => void) {
  ensureH2load();
  const bodyFile = writeCheckBody(input.workDir, "check.bin", input.checkedKey, input.permission);
  const emptyFile = join(input.workDir, "empty.bin");
  writeFileSync(emptyFile, grpcBody(new Uint8Array()));
  const headers = checkHeaders(input.callerKey);
  const keyward: Target = { pid: input.keyward.pid, url: `${input.keyward.baseUrl}${CHECK_PATH}` };
  const run = (target: Target, file: string, extra: Partial<H2loadOptions> = {}) =>
    h2load({ url: target.url, bodyFile: file, headers, connections: 4, streams: 16, seconds: SECONDS, warmupSeconds: 1, serverPid: target.pid, ...extra });

  const raw = await startFloor("raw");
  const grpcJs = await startFloor("grpc-js");
  try {
    // Every answer under load must be VALID: h2load counts HTTP statuses only, and a gRPC error is HTTP 200.
    const validBefore = await metricSum(input.keyward.baseUrl, "keyward_checks_total", 'code="VALID"');
    const allBefore = await metricSum(input.keyward.baseUrl, "keyward_checks_total");
    const rounds: Array<{ raw: number; grpcJs: number; keyward: number; cpu: { raw: number; grpcJs: number; keyward: number } }> = [];
    let keywardSucceeded = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order, so that neither server always runs first.
      const order = r % 2 ? (["keyward", "grpcJs", "raw"] as const) : (["raw", "grpcJs", "keyward"] as const);
      const round = { raw: 0, grpcJs: 0, keyward: 0, cpu: { raw: 0, grpcJs: 0, keyward: 0 } };
      for (const which of order) {
        const result = which === "keyward" ? await run(keyward, bodyFile) : await run(which === "raw" ? raw.target : grpcJs.target, emptyFile);
        if (result.failed) throw new Error(`${which}: ${result.failed} failed requests`);
        round[which] = result.rps;
        round.cpu[which] = result.serverCpuUsPerCall;
        if (which === "keyward") keywardSucceeded += result.succeeded;
      }
      rounds.push(round);
      log(`  round ${r + 1}: raw ${round.raw.toFixed(0)}, grpc-js ${round.grpcJs.toFixed(0)}, Keyward CheckKey ${round.keyward.toFixed(0)} req/s (${(round.keyward / round.raw).toFixed(3)}× raw)`);
    }
    const valid = (await metricSum(input.keyward.baseUrl, "keyward_checks_total", 'code="VALID"')) - validBefore;
    const all = (await metricSum(input.keyward.baseUrl, "keyward_checks_total")) - allBefore;
    if (valid !== all || valid < keywardSucceeded) throw new Error(`not every check under load was VALID: ${valid} VALID of ${all} verdicts, ${keywardSucceeded} answered`);

    // Scaling with connections (16 streams each), and latency at half the maximum rate.
    const scaling: Record<string, number> = {};
    for (const connections of [1, 4, 64]) scaling[`c${connections}`] = round((await run(keyward, bodyFile, { connections })).rps, 0);
    const maxRps = median(rounds.map((x) => x.keyward));
    const logFile = join(input.workDir, "latency.log");
    const halfRate = await run(keyward, bodyFile, { ratePerConnection: Math.max(1, Math.floor(maxRps / 2 / 4)), logFile, warmupSeconds: 0 });
    const latency = { rps: round(halfRate.rps, 0), ...latencies(logFile) };

    const results = {
      rounds: ROUNDS,
      secondsPerRun: SECONDS,
      load: "h2load on CPU 1, 4 connections × 16 streams; servers on CPU 0",
      rps: {
        raw: round(median(rounds.map((x) => x.raw)), 0),
        grpcJs: round(median(rounds.map((x) => x.grpcJs)), 0),
        keyward: round(maxRps, 0),
      },
      ratioToRaw: {
        keyward: round(median(rounds.map((x) => x.keyward / x.raw))),
        grpcJs: round(median(rounds.map((x) => x.grpcJs / x.raw))),
        perRound: rounds.map((x) => round(x.keyward / x.raw)),
        target: "keyward >= 0.5",
      },
      serverCpuUsPerCall: {
        raw: round(median(rounds.map((x) => x.cpu.raw)), 1),
        grpcJs: round(median(rounds.map((x) => x.cpu.grpcJs)), 1),
        keyward: round(median(rounds.map((x) => x.cpu.keyward)), 1),
      },
      everyAnswerValid: { valid, verdicts: all },
      scalingRps: scaling,
      latencyAtHalfMax: { ...latency, p50Ms: round(latency.p50Ms), p99Ms: round(latency.p99Ms) },
    };
    log(
      `floor (median of ${ROUNDS} rounds): raw node:http2 ${results.rps.raw}, bare grpc-js ${results.rps.grpcJs} (${results.ratioToRaw.grpcJs}×), ` +
        `Keyward CheckKey ${results.rps.keyward} req/s = ${results.ratioToRaw.keyward}× raw (target ≥ 0.5)`,
    );
    log(`  server CPU per call: raw ${results.serverCpuUsPerCall.raw} µs, grpc-js ${results.serverCpuUsPerCall.grpcJs} µs, Keyward ${results.serverCpuUsPerCall.keyward} µs; ${valid} checks under load, all VALID`);
    log(`  connections 1 / 4 / 64: ${scaling.c1} / ${scaling.c4} / ${scaling.c64} req/s`);
    log(`  at half the maximum (${latency.rps} req/s): p50 ${results.latencyAtHalfMax.p50Ms} ms, p99 ${results.latencyAtHalfMax.p99Ms} ms`);
    return results;
  } finally {
    raw.child.kill();
    grpcJs.child.kill();
  }
}
