import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * Files that change the process's global state, so each runs in a module graph
 * of its own: key-format mocks node:crypto, telemetry registers OpenTelemetry's
 * global tracer provider and checks which modules are loaded.
 */
const ISOLATED = ["test/domain/key-format.test.ts", "test/api/telemetry.test.ts"];

export default defineConfig({
  test: {
    // The build, which spawned servers, the CLI and the browser suites run; then
    // a dump of its migrated PGlite store, which in-memory test stores start from;
    // and the PostgreSQL databases the suites make, dropped after the run.
    globalSetup: ["test/support/build.ts", "test/support/pglite-template.ts", "test/support/postgres-databases.ts"],
    // Suites start real servers and databases (PGlite in WebAssembly, PostgreSQL).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite's error traces can be enormous; keep failures readable.
    printConsoleTrace: false,
    // vitest's default is one worker fewer than the CPUs: one file at a time on
    // a 2-core machine (CI's), where much of a file's time is spent waiting on
    // the servers, browsers and databases it started. Two workers there: a full
    // run took 319 s and 333 s instead of 459 s, and 452 s with a third process
    // spinning on a core, all green each time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: "shared",
          include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...ISOLATED],
          // The rest share one module graph per worker: the server's ~190
          // modules, protobuf's registries and grpc-js are imported once, not
          // once per file (~0.8 s a file). Their state is per Keyward instance.
          isolate: false,
        },
      },
      { extends: true, test: { name: "isolated", include: ISOLATED } },
    ],
  },
});
