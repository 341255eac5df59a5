import { availableParallelism } from "node:os";
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/**
 * The system suites (`npm run test:system`) drive Keyward from outside, through
 * the programs its users run. They start processes that take seconds each:
 * Keyward itself (npm start, signals, kill -9, the data directory's modes and
 * lock, a production install), the admin CLI, Chromium on the dashboard, nginx
 * and Caddy in front of Keyward, PostgreSQL clusters of their own, and the
 * README's walkthroughs. Every other suite runs Keyward in the test's own
 * process, on PGlite and PostgreSQL: that is `npm test`. CI runs both
 * (`npm run test:all`).
 */
const SYSTEM = [
  "test/web/**/*.test.ts",
  "test/cli/cli.test.ts",
  "test/api/{process,production-install,file-modes,single-writer,crash,recover,startup-errors,telemetry}.test.ts",
  "test/api/usage-limits-replicas.test.ts",
  "test/api/{proxies,proxy-usage-limits}.test.ts",
  "test/api/outage.test.ts",
  "test/api/{curl-walkthrough,readme-walkthrough}.test.ts",
];

/**
 * Files that change the process's global state, so each runs in a module graph
 * of its own: key-format mocks node:crypto, telemetry registers OpenTelemetry's
 * global tracer provider and checks which modules are loaded.
 */
const ISOLATED = { fast: ["test/domain/key-format.test.ts"], system: ["test/api/telemetry.test.ts"] };

/**
 * What every project sets. Projects do not extend the root config: they would
 * inherit its globalSetup and run it again each (the build check, the template
 * dump), where the root runs it once per run.
 */
const EACH = {
  // Suites start real servers and databases (PGlite in WebAssembly, PostgreSQL).
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // PGlite's error traces can be enormous; keep failures readable.
  printConsoleTrace: false,
};

/**
 * How many files run at once. The in-process suites spend much of their time
 * waiting (on PostgreSQL, argon2's threads, receivers, timers), so one worker
 * more than the cores keeps both cores busy: on this 2-core machine `npm test`
 * took 80 s and 81 s with three workers against 90 s and 98 s with two, run
 * alternately. The system suites' processes and browsers need cores of their
 * own: one worker fewer than the cores, and at least two, where much of a
 * file's time is spent waiting on the servers, browsers and databases it
 * started (a full run took 319 s and 333 s with two workers instead of 459 s
 * with one).
 */
const WORKERS = { fast: availableParallelism() + 1, system: Math.max(2, availableParallelism() - 1) };

/** A tier's files in one shared module graph, and its isolated files each in a graph of their own. */
function tier(name: "fast" | "system", include: string[], exclude: string[]): TestProjectInlineConfiguration[] {
  // Tiers with different worker counts run one after the other: the in-process suites first.
  const each = { ...EACH, maxWorkers: WORKERS[name], sequence: { groupOrder: name === "fast" ? 0 : 1 } };
  return [
    {
      test: {
        ...each,
        name,
        include,
        exclude: [...configDefaults.exclude, ...exclude, ...ISOLATED[name]],
        // The rest share one module graph per worker: the server's ~190
        // modules, protobuf's registries and grpc-js are imported once, not
        // once per file (~0.8 s a file). Their state is per Keyward instance.
        isolate: false,
      },
    },
    { test: { ...each, name: `${name}-isolated`, include: ISOLATED[name] } },
  ];
}

export default defineConfig({
  test: {
    // The build, which spawned servers, the CLI and the browser suites run; then
    // a dump of its migrated PGlite store, which in-memory test stores start from;
    // and a migrated PostgreSQL database, which the suites' databases are copied
    // from, all of them dropped after the run.
    globalSetup: ["test/support/build.ts", "test/support/pglite-template.ts", "test/support/postgres-databases.ts"],
    projects: [...tier("fast", ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"], SYSTEM), ...tier("system", SYSTEM, [])],
  },
});
