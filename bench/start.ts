// npm run bench:start: how long the compiled server takes from spawn to ready
// (its "Keyward listening on" line) and its RSS then, as an operator starts it
// (`node dist/keyward.mjs`, no npm, no tsx): on a fresh PGlite data
// directory, on a restart of that directory, and on a fresh PostgreSQL
// database (DATABASE_URL or KEYWARD_TEST_DATABASE_URL; skipped without one).
// Also the CPU time the process spent until ready, which other load on the
// machine stretches less than wall time. Median of BENCH_START_RUNS (5) each;
// writes bench/results/start-<date>-<commit>.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKeywardProcess } from "../harness/process.js";
import { median, round } from "./stats.js";

const RUNS = Number(process.env.BENCH_START_RUNS ?? 5);
const TICKS_PER_SECOND = 100;

interface Start {
  readyMs: number;
  cpuMs: number;
  rssMiB: number;
}

/** CPU time (user + system) of a live process, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
  return Number(kib) / 1024;
}

/** One start of the compiled server with `env`; stopped (SIGTERM) once measured. */
async function startOnce(env: Record<string, string>): Promise<Start> {
  const t0 = performance.now();
  const server = await startKeywardProcess(env, { stderr: "inherit" });
  const readyMs = performance.now() - t0;
  const start = { readyMs, cpuMs: cpuMs(server.child.pid!), rssMiB: rssMiB(server.child.pid!) };
  await server.stop();
  return start;
}

interface Figures {
  readyMs: number;
  cpuMs: number;
  rssMiB: number;
  samples: Start[];
}

const summarise = (samples: Start[]): Figures => ({
  readyMs: round(median(samples.map((s) => s.readyMs)), 0),
  cpuMs: round(median(samples.map((s) => s.cpuMs)), 0),
  rssMiB: round(median(samples.map((s) => s.rssMiB)), 1),
  samples: samples.map((s) => ({ readyMs: round(s.readyMs, 0), cpuMs: s.cpuMs, rssMiB: round(s.rssMiB, 1) })),
});

/** A new, empty database on the server at `url`; its URL. */
function freshDatabase(url: string): string {
  const db = `keyward_start_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  execFileSync("psql", [url, "-qc", `create database ${db}`]);
  return Object.assign(new URL(url), { pathname: `/${db}` }).toString();
}

async function main(): Promise<void> {
  const fresh: Start[] = [];
  const restart: Start[] = [];
  const postgres: Start[] = [];
  const pgUrl = process.env.DATABASE_URL ?? process.env.KEYWARD_TEST_DATABASE_URL;
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), "keyward-bench-start-"));
    try {
      // DATABASE_URL empty: the embedded store even when the caller set one.
      const env = { DATABASE_URL: "", KEYWARD_DATA_DIR: join(dir, "data"), KEYWARD_BOOTSTRAP_KEY_FILE: join(dir, "admin.key") };
      fresh.push(await startOnce(env));
      restart.push(await startOnce(env));
      if (pgUrl) postgres.push(await startOnce({ DATABASE_URL: freshDatabase(pgUrl), KEYWARD_BOOTSTRAP_KEY_FILE: join(dir, "pg-admin.key") }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const results = {
    date: new Date().toISOString(),
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    node: process.version,
    runs: RUNS,
    freshPglite: summarise(fresh),
    restartPglite: summarise(restart),
    postgres: pgUrl ? summarise(postgres) : { skipped: "no PostgreSQL (set DATABASE_URL or KEYWARD_TEST_DATABASE_URL)" },
  };
  const rows: [string, Figures | { skipped: string }][] = [
    ["PGlite, fresh data dir", results.freshPglite],
    ["PGlite, restart", results.restartPglite],
    ["PostgreSQL, fresh database", results.postgres],
  ];
  console.log(`start to ready, compiled server, median of ${RUNS}`);
  console.log("store                        ready ms   CPU ms   RSS MiB");
  for (const [name, f] of rows) {
    console.log("skipped" in f ? `${name.padEnd(28)} skipped: ${f.skipped}` : `${name.padEnd(28)} ${String(f.readyMs).padStart(8)} ${String(f.cpuMs).padStart(8)} ${String(f.rssMiB).padStart(9)}`);
  }
  mkdirSync("bench/results", { recursive: true });
  const file = join("bench/results", `start-${results.date.replace(/[:.]/g, "-")}-${results.commit}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  console.log(`wrote ${file}`);
}

await main();
