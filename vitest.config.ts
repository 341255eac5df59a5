import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // One migrated PGlite store for the run: in-memory test stores start from its dump.
    // The build: spawned servers and the CLI run it.
    globalSetup: ["test/support/pglite-template.ts", "test/support/built-server.ts"],
    // Suites start real servers and databases (PGlite in WebAssembly, PostgreSQL).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite's error traces can be enormous; keep failures readable.
    printConsoleTrace: false,
  },
});
