// vitest globalSetup: the server as `npm start` runs it (dist/keyward.mjs and
// its PGlite template) and the compiled CLI, built before any worker starts
// when missing or older than their sources. The process-level suites and the
// CLI's run these, as operators and scripts do; a start from the build copies
// a migrated store instead of running initdb in WebAssembly.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs", "server", "--if-stale"], { cwd: root, stdio: "inherit" });
}
